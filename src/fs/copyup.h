/* berth — tmpcopyup: fill a fresh tmpfs with what the image had there.
 *
 * Contract: copy_tree() copies every entry of the directory `from` into the
 * directory `to` (both fds), recursively, keeping file types, modes, owners
 * and symlink targets; it never follows a symlink (entries are opened with
 * O_NOFOLLOW relative to their parent's fd), so it cannot read or write
 * outside the two trees.  Used before the container's process exists.
 */
#ifndef BERTH_COPYUP_H
#define BERTH_COPYUP_H

#include "error.h"

int copy_tree (int from, int to, struct berth_error *err);

#endif
