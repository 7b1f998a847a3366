/* berth — the features document of runtime-spec 1.3.0 (features.md).
 *
 * Contract: describes what this build of berth can do, not what the host
 * has (features.md); every list is what the code implements, so a property
 * listed here is one berth applies rather than refuses.
 */
#ifndef BERTH_FEATURE_SET_H
#define BERTH_FEATURE_SET_H

#include "error.h"

/* Pretty-printed JSON, malloc'd. */
int berth_features_json (char **out, struct berth_error *err);

#endif
