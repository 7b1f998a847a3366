/* berth — the features document of runtime-spec 1.3.0 (features.md).
 *
 * Contract: describes what this build of berth can do, not what the host
 * has (features.md); every list is what the code implements, so a property
 * listed here is one berth applies rather than refuses.
 */
#ifndef BERTH_FEATURE_SET_H
#define BERTH_FEATURE_SET_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

/* Pretty-printed JSON, malloc'd. */
int berth_features_json (char **out, struct berth_error *err);
/* libseccomp's version ("2.5.4") for `--version` as for the annotation of
   the document; false when libseccomp.so.2 cannot be loaded. */
bool berth_libseccomp_version (char *buf, size_t size);

#endif
