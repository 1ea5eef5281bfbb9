/* Fixed-window attempt counters in a caller-provided memory block (shared
 * memory in the server).  No locking here: the caller serialises access.
 * No httpd types. */
#ifndef TZ_RATELIMIT_H
#define TZ_RATELIMIT_H
#include <stddef.h>
#include <stdint.h>

typedef struct tz_rl_table tz_rl_table_t;

/* Bytes needed for a table of nslots counters. */
size_t tz_rl_size(unsigned nslots);

/* Formats mem (tz_rl_size(nslots) bytes, 8-byte aligned) as an empty table.
 * The table never grows: when a key's probe run is full, the entry whose
 * window ends soonest is evicted. */
tz_rl_table_t *tz_rl_init(void *mem, unsigned nslots);

/* Seconds until key may try again (>= 1, at most window) when it already has
 * >= limit failures in its current window; 0 when allowed (limit 0: never
 * blocks). */
int64_t tz_rl_blocked(tz_rl_table_t *t, const char *key, int64_t now, unsigned limit,
                      int64_t window);

/* Records one failure for key (starting a new window when the old one ended). */
void tz_rl_fail(tz_rl_table_t *t, const char *key, int64_t now, int64_t window);

/* Counts one attempt against every key of keys[0..n) unless one of them is
 * blocked: 0 when counted, else the longest wait, with nothing counted.
 * Counting before the work (a password check) and taking a success back
 * afterwards is what keeps concurrent attempts within the limit. */
int64_t tz_rl_attempt(tz_rl_table_t *t, const char *const *keys, size_t n, int64_t now,
                      unsigned limit, int64_t window);

/* Takes back one attempt counted for key in its current window. */
void tz_rl_undo(tz_rl_table_t *t, const char *key, int64_t now);

/* Forgets key's failures. */
void tz_rl_reset(tz_rl_table_t *t, const char *key);

#endif
