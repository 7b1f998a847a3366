/* berth — small file and process helpers shared by the modules.
 *
 * Contract: thin, errno-preserving wrappers; each fallible one returns < 0
 * and fills the berth_error with the path it was working on.
 */
#ifndef BERTH_UTILS_H
#define BERTH_UTILS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "error.h"

int write_file_at (int dirfd, const char *path, const char *data, size_t len,
                   struct berth_error *err);
/* Write to a temporary name in dirfd and rename it over `name`. */
int write_file_atomic (int dirfd, const char *name, const char *data, size_t len, mode_t mode,
                       struct berth_error *err);
/* Read a whole (small) file; *out is NUL-terminated. */
int read_file_at (int dirfd, const char *path, char **out, size_t *len, struct berth_error *err);
/* A short kernel file (a /proc or cgroup control file of a line or two) in
   one read(), NUL-terminated in buf: the kernel hands such a file over
   whole.  The length, or -1 with errno. */
ssize_t read_small (const char *path, char *buf, size_t size);
ssize_t write_all (int fd, const void *buf, size_t len);
/* --pid-file: the pid without a newline (as runc), written atomically. */
int write_pid_file (const char *path, pid_t pid, struct berth_error *err);
int mkdir_p (const char *path, mode_t mode, struct berth_error *err);

/* True when `fd` is the root directory of a procfs mount (statfs type and
   inode 1); errno is kept when fstat fails. */
bool is_procfs_root (int fd);
/* A path field of /proc/self/mountinfo, its octal escapes (\040) undone,
   in place. */
void mountinfo_unescape (char *s);

/* Process start time (field 22 of /proc/PID/stat, clock ticks since boot)
   and state letter.  Returns -1 with errno ESRCH when the process is gone. */
int proc_stat (pid_t pid, uint64_t *start_time, char *state);

/* pidfd of `pid` if it is still the process that started at `start_time`;
   -1 otherwise (the pid is gone or was recycled). */
int pidfd_for (pid_t pid, uint64_t start_time);

/* CLOCK_MONOTONIC in milliseconds, for deadlines. */
long monotonic_ms (void);

/* RFC 3339 with nanoseconds, UTC. */
void rfc3339_now (char *buf, size_t len);
/* The same for a given time (UTC, nanoseconds). */
void rfc3339_format (const struct timespec *ts, char *buf, size_t len);

/* Signal numbers from runc's spellings: "KILL", "SIGKILL", "sigkill", "9". */
int parse_signal (const char *s, int *sig);

/* Fault injection for the test suite: with -Dtest_hooks=true, a process
   whose BERTH_TEST_STOP_AT names `phase` stops itself there (SIGSTOP) so
   a test can kill it at exactly that point.  Compiled out otherwise. */
#ifdef BERTH_TEST_HOOKS
void test_stop_at (const char *phase);
#define TEST_STOP_AT(phase) test_stop_at (phase)
#else
#define TEST_STOP_AT(phase) ((void) 0)
#endif

/* Whether this process runs in a user namespace other than the initial
   one (runc's test: any /proc/self/uid_map but "0 0 4294967295"). */
bool running_in_user_ns (void);

/* A child (fork's return convention) cloned with `flags` (namespaces) and
   SIGCHLD, born in the cgroup2 directory `cgroup_fd` (clone3's
   CLONE_INTO_CGROUP), so that nobody has to move it there by pid.  -1 with
   errno when the kernel refuses (older than 5.7, a seccomp filter, the
   cgroup itself): the caller clones the old way and moves the child. */
pid_t clone_into_cgroup (unsigned long flags, int cgroup_fd);

#endif
