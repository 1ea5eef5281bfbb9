/* Counters shared by every child: login attempts and payment velocity. */
#ifndef MOD_TIPZED_RATELIMIT_H
#define MOD_TIPZED_RATELIMIT_H
#include "mod_tipzed.h"
#include "tz_ratelimit.h"

/* A store of fixed-window counters (tz_ratelimit.h's rules): this node's
 * shared memory under a global mutex, or with `TipzedSharedCounters
 * database` rows in PostgreSQL shared by every node (docs/risk.md,
 * "Counters shared by several nodes").  Both implement the same two
 * operations; the callers do not change. */
typedef struct tz_counters tz_counters_t;
struct tz_counters {
    /* Counts every limit of l[0..n) unless one is reached: *wait 0 when
     * counted, else the longest wait with nothing counted and *which (may
     * be NULL) the limit that waits longest.  Not APR_SUCCESS: the store
     * could not be used (the caller fails open and logs it with
     * tz_counters_failed). */
    apr_status_t (*attempt)(tz_counters_t *c, request_rec *r, const tz_rl_limit_t *l,
                            apr_size_t n, apr_int64_t now, apr_int64_t *wait, apr_size_t *which);
    /* Takes back one count of undo_key and forgets clear_key (either NULL). */
    void (*undo)(tz_counters_t *c, request_rec *r, const char *undo_key, const char *clear_key,
                 apr_int64_t now);
    void *impl;
};

typedef enum {
    TZ_CNT_LOGIN,    /* failed logins per client address and email */
    TZ_CNT_VELOCITY, /* payments per fan, address, instrument, creator (docs/risk.md) */
    TZ_CNT__COUNT
} tz_counters_e;

/* The store of which counters (apart, so a flood of one kind of key never
 * evicts the other's). */
tz_counters_t *tz_counters(tz_counters_e which);
/* A store that could not be used: logged at most once in 10 s per process
 * (a store down for a while must not flood the log), with how many
 * attempts went uncounted meanwhile. */
void tz_counters_failed(request_rec *r, const char *what);
/* TipzedSharedCounters none|database (server config). */
const char *tz_counters_directive(cmd_parms *cmd, void *d, const char *spec);

int tz_rl_pre_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp);
apr_status_t tz_rl_post_config(apr_pool_t *p, server_rec *s);
void tz_rl_child_init(apr_pool_t *p, server_rec *s);
/* Counts an attempt against every key of keys[0..n) before the work, in
 * one step across all children: 0 when counted, else the seconds to wait
 * (nothing counted).  So a burst of concurrent attempts cannot all pass. */
apr_int64_t tz_rl_begin(request_rec *r, const char *const *keys, apr_size_t n, unsigned limit,
                        apr_int64_t window);
/* After a success: takes undo_key's attempt back and forgets clear_key's. */
void tz_rl_succeeded(request_rec *r, const char *undo_key, const char *clear_key);

#endif
