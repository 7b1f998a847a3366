/* berth — the "none" cgroup table, for a rootless container the host gives
 * no cgroup (cgroup_none.c).  Reached through driver.h only. */
#ifndef BERTH_CGROUP_NONE_H
#define BERTH_CGROUP_NONE_H

#include "cgroup/driver.h"

extern const struct cgroup_driver cgroup_none_driver;

#endif
