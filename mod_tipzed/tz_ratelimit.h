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
 * afterwards is what keeps concurrent attempts within the limit.  At most
 * TZ_RL_MAXKEYS keys (more are not counted). */
int64_t tz_rl_attempt(tz_rl_table_t *t, const char *const *keys, size_t n, int64_t now,
                      unsigned limit, int64_t window);

/* One counter and its own limit: a key may be counted under several rules
 * (e.g. 20 a minute and 200 an hour), each rule's window in its key. */
typedef struct {
    const char *key;
    unsigned limit;  /* 0: never blocks */
    int64_t window;  /* seconds */
} tz_rl_limit_t;

/* Keys one attempt may count at once. */
#define TZ_RL_MAXKEYS 16

/* One limit and window for each of keys[0..n): fills out (room for
 * TZ_RL_MAXKEYS) and returns how many (at most TZ_RL_MAXKEYS). */
size_t tz_rl_uniform(const char *const *keys, size_t n, unsigned limit, int64_t window,
                     tz_rl_limit_t *out);

/* tz_rl_attempt with a limit and a window per key: 0 when every key was
 * counted, else the longest wait with nothing counted, and *which (if not
 * NULL) the index of the key that waits longest. */
int64_t tz_rl_attempt_limits(tz_rl_table_t *t, const tz_rl_limit_t *l, size_t n, int64_t now,
                             size_t *which);

/* Takes back one attempt counted for key in its current window. */
void tz_rl_undo(tz_rl_table_t *t, const char *key, int64_t now);

/* Forgets key's failures. */
void tz_rl_reset(tz_rl_table_t *t, const char *key);

#endif
