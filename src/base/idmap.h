/* berth — writing a user namespace's ID map.
 *
 * Contract: id_map_write() writes the mappings `m[0..n)` to
 * /proc/PID/FILE (FILE "uid_map" or "gid_map") in one write(2), as the
 * kernel requires; nothing when n is 0.  Errors name the file and the
 * first line of the map; the caller adds the JSON path.
 */
#ifndef BERTH_IDMAP_H
#define BERTH_IDMAP_H

#include <stddef.h>
#include <sys/types.h>

#include "error.h"
#include "spec.h"

int id_map_write (pid_t pid, const char *file, const struct oci_id_mapping *m, size_t n,
                  struct berth_error *err);

#endif
