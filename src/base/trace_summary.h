/* berth — `berth trace-summary FILE`: a --trace file as text.
 *
 * Contract: reads a trace-event file (the JSON object berth writes, or a
 * bare array of events) and prints, per command (its outermost span,
 * "berth NAME", and every event whose args.cmd is that runtime's pid), one
 * line per phase: its duration in ms and its share of the command's wall
 * time, indented by nesting within its process (the runtime first, then
 * each cloned process under a "[label, pid N]" line); instants show as
 * "@ +T ms".  Then the total.  An unreadable or malformed file is an error
 * value.
 */
#ifndef BERTH_TRACE_SUMMARY_H
#define BERTH_TRACE_SUMMARY_H

#include <stdio.h>
#include "error.h"

int trace_summary (const char *path, FILE *out, struct berth_error *err);

#endif
