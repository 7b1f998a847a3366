/* berth — the flags checkpoint and restore share (cli/checkpoint.c,
 * cli/restore.c). */
#ifndef BERTH_CLI_CRIU_FLAGS_H
#define BERTH_CLI_CRIU_FLAGS_H

#include "cli.h"
#include "lifecycle/checkpoint.h"

enum { OPT_IMAGE = 300, OPT_WORK, OPT_TCP, OPT_EXTUNIX, OPT_SHELL, OPT_LAZY, OPT_LOCKS,
       OPT_CGMODE, OPT_EMPTYNS, OPT_DEDUP, OPT_PARENT, OPT_LEAVE, OPT_STATUSFD, OPT_PAGESERVER,
       OPT_PREDUMP, OPT_CONSOLE, OPT_PIDFILE, OPT_NOSUBREAPER, OPT_NOPIVOT, OPT_LSMPROFILE,
       OPT_LSMMOUNT };

#define CLI_CRIU_LONGOPTS                                                                  \
  { "image-path", required_argument, NULL, OPT_IMAGE },                                    \
    { "work-path", required_argument, NULL, OPT_WORK },                                    \
    { "tcp-established", no_argument, NULL, OPT_TCP },                                     \
    { "ext-unix-sk", no_argument, NULL, OPT_EXTUNIX },                                     \
    { "shell-job", no_argument, NULL, OPT_SHELL },                                         \
    { "lazy-pages", no_argument, NULL, OPT_LAZY },                                         \
    { "file-locks", no_argument, NULL, OPT_LOCKS },                                        \
    { "manage-cgroups-mode", required_argument, NULL, OPT_CGMODE },                        \
    { "empty-ns", required_argument, NULL, OPT_EMPTYNS },                                  \
    { "auto-dedup", no_argument, NULL, OPT_DEDUP },                                        \
    { "help", no_argument, NULL, 'h' }


/* getopt's `c` when it is one of the shared flags: stored in `o` (1), or
   a bad value (-1, err filled); 0 for any other. */
int cli_criu_option (int c, const char *cmd, struct criu_options *o, struct berth_error *err);

#endif
