/* berth — writing a user namespace's ID map.
 *
 * Contract:
 *  - id_map_format() renders mappings as uid_map/gid_map take them, one
 *    "CONTAINER HOST SIZE" line each (the same numbers are newuidmap's
 *    arguments); fails when they do not fit in `size`.
 *  - id_map_write_file() writes `buf` to /proc/PID/FILE in one write(2),
 *    as the kernel requires of a map; it returns 0 or the errno of the
 *    open or the write (err filled: the file and the first line), so that
 *    a caller may try another way on EPERM.
 *  - id_map_write() is the two together, -1 on failure; nothing when n
 *    is 0.  Callers add the JSON path.
 */
#ifndef BERTH_IDMAP_H
#define BERTH_IDMAP_H

#include <stddef.h>
#include <sys/types.h>

#include "error.h"
#include "spec.h"

int id_map_format (const char *file, const struct oci_id_mapping *m, size_t n, char *buf,
                   size_t size, size_t *used, struct berth_error *err);
int id_map_write_file (pid_t pid, const char *file, const char *buf, size_t len,
                       struct berth_error *err);
int id_map_write (pid_t pid, const char *file, const struct oci_id_mapping *m, size_t n,
                  struct berth_error *err);

#endif
