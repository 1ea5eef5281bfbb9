/* Counters shared by every child process: the tables of tz_ratelimit.c
 * live in anonymous shared memory created before the children fork,
 * guarded by a global mutex (configurable with `Mutex ...
 * tipzed-ratelimit`, like any httpd mutex).  One table per store
 * (mod_tipzed_ratelimit.h), one mutex for all: each holds it for a few
 * slot probes.
 *
 * With `TipzedSharedCounters database` the same counters are rows in
 * PostgreSQL, shared by every node (docs/risk.md, "Counters shared by
 * several nodes"). */
#include "mod_tipzed_ratelimit.h"
#include "mod_tipzed_db.h"
#include "tz_json.h"
#include "apr_atomic.h"
#include "apr_shm.h"
#include "apr_global_mutex.h"
#include "util_mutex.h"

#define TZ_RL_MUTEX "tipzed-ratelimit"

static const unsigned tz_rl_slots[TZ_CNT__COUNT] = {8192, 16384};

static apr_shm_t *tz_rl_shm[TZ_CNT__COUNT];
static apr_global_mutex_t *tz_rl_mutex;

static apr_status_t shm_attempt(tz_counters_t *c, request_rec *r, const tz_rl_limit_t *l,
                                apr_size_t n, apr_int64_t now, apr_int64_t *wait,
                                apr_size_t *which)
{
    *wait = 0;
    if (!c->impl || !tz_rl_mutex || apr_global_mutex_lock(tz_rl_mutex) != APR_SUCCESS)
        return APR_EGENERAL;
    *wait = tz_rl_attempt_limits(c->impl, l, n, now, which);
    apr_global_mutex_unlock(tz_rl_mutex);
    return APR_SUCCESS;
}

static void shm_undo(tz_counters_t *c, request_rec *r, const char *undo_key,
                     const char *clear_key, apr_int64_t now)
{
    if (!c->impl || !tz_rl_mutex || apr_global_mutex_lock(tz_rl_mutex) != APR_SUCCESS)
        return;
    if (undo_key)
        tz_rl_undo(c->impl, undo_key, now);
    if (clear_key)
        tz_rl_reset(c->impl, clear_key);
    apr_global_mutex_unlock(tz_rl_mutex);
}

static tz_counters_t tz_rl_stores[TZ_CNT__COUNT] = {
    {shm_attempt, shm_undo, NULL}, {shm_attempt, shm_undo, NULL}};

/* The counters of every node in PostgreSQL: one call per attempt on the
 * request's own connection, every key of the attempt counted or none, in
 * one transaction holding the keys' rows -- exact across the nodes
 * however a burst is split, where an httpd socache (redis, memcache) has
 * no atomic increment and two nodes' read-modify-writes of one key would
 * lose counts (up to one limit per node).  The price is one round trip
 * (measured in docs/risk.md); PostgreSQL down fails open, as every other
 * request fails then. */
static int tz_cnt_database; /* TipzedSharedCounters database */

static apr_status_t db_attempt(tz_counters_t *c, request_rec *r, const tz_rl_limit_t *l,
                               apr_size_t n, apr_int64_t now, apr_int64_t *wait,
                               apr_size_t *which)
{
    json_t *all = tz_json_pool(r->pool, json_array()), *res;
    const char *args[3];
    *wait = 0;
    if (!n)
        return APR_SUCCESS;
    for (apr_size_t i = 0; i < n; i++)
        if (json_array_append_new(all, json_pack("{s:s, s:I, s:I}", "k", l[i].key ? l[i].key : "",
                                                 "l", (json_int_t)l[i].limit,
                                                 "w", (json_int_t)l[i].window)))
            return APR_EINVAL; /* a key not in UTF-8: counting the others would undercount */
    args[0] = c->impl;
    args[1] = tz_json_dump(r->pool, all);
    args[2] = apr_psprintf(r->pool, "%" APR_INT64_T_FMT, now);
    if (tz_db_json(r, TZ_Q_COUNTER_ATTEMPT, args, &res) != OK || !res)
        return APR_EGENERAL;
    *wait = tz_json_int(res, "wait", 0);
    if (*wait && which)
        *which = (apr_size_t)tz_json_int(res, "which", 0) % n;
    return APR_SUCCESS;
}

static void db_undo(tz_counters_t *c, request_rec *r, const char *undo_key,
                    const char *clear_key, apr_int64_t now)
{
    const char *args[4] = {c->impl, undo_key, clear_key,
                           apr_psprintf(r->pool, "%" APR_INT64_T_FMT, now)}, *done;
    if (tz_db_value(r, TZ_Q_COUNTER_UNDO, args, &done) != OK)
        tz_counters_failed(r, "shared");
}

static tz_counters_t tz_db_stores[TZ_CNT__COUNT] = {
    {db_attempt, db_undo, "login"}, {db_attempt, db_undo, "velocity"}};

tz_counters_t *tz_counters(tz_counters_e which)
{
    return tz_cnt_database ? &tz_db_stores[which] : &tz_rl_stores[which];
}

const char *tz_counters_directive(cmd_parms *cmd, void *d, const char *spec)
{
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    if (err)
        return err;
    if (strcasecmp(spec, "none") && strcasecmp(spec, "database"))
        return apr_psprintf(cmd->pool, "%s: '%s' is neither none nor database (a socache "
                            "provider has no atomic increment, so it cannot hold a limit "
                            "across nodes)", cmd->directive->directive, spec);
    tz_cnt_database = strcasecmp(spec, "database") == 0;
    return NULL;
}

void tz_counters_failed(request_rec *r, const char *what)
{
    static volatile apr_uint32_t last, missed;
    apr_uint32_t now = (apr_uint32_t)apr_time_sec(apr_time_now());
    apr_uint32_t prev = apr_atomic_read32(&last), n = apr_atomic_inc32(&missed) + 1;
    if (prev && now - prev < 10)
        return;
    if (apr_atomic_cas32(&last, now, prev) != prev)
        return; /* another thread reports this one */
    apr_atomic_sub32(&missed, n);
    ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, APLOGNO(10800)
                  "tipzed: %s counters unavailable: %u attempt(s) not counted since the last "
                  "report (limits fail open until the store is back)", what, n);
}

int tz_rl_pre_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp)
{
    tz_cnt_database = 0; /* a restart without the directive goes back to shared memory */
    return ap_mutex_register(pconf, TZ_RL_MUTEX, NULL, APR_LOCK_DEFAULT, 0) == APR_SUCCESS
               ? OK : HTTP_INTERNAL_SERVER_ERROR;
}

apr_status_t tz_rl_post_config(apr_pool_t *p, server_rec *s)
{
    apr_status_t rv;
    for (int i = 0; i < TZ_CNT__COUNT; i++) {
        if ((rv = apr_shm_create(&tz_rl_shm[i], tz_rl_size(tz_rl_slots[i]), NULL, p))
            != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, APLOGNO(10520)
                         "tipzed: cannot create the rate-limit shared memory");
            return rv;
        }
        tz_rl_stores[i].impl = tz_rl_init(apr_shm_baseaddr_get(tz_rl_shm[i]), tz_rl_slots[i]);
    }
    rv = ap_global_mutex_create(&tz_rl_mutex, NULL, TZ_RL_MUTEX, NULL, s, p, 0);
    if (rv != APR_SUCCESS)
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, APLOGNO(10521)
                     "tipzed: cannot create the rate-limit mutex");
    return rv;
}

void tz_rl_child_init(apr_pool_t *p, server_rec *s)
{
    if (tz_rl_mutex)
        apr_global_mutex_child_init(&tz_rl_mutex,
                                    apr_global_mutex_lockfile(tz_rl_mutex), p);
}

/* Counts a login attempt against every key, unless one is blocked: 0 when
 * counted, else the seconds to wait.  Fails open only if the store itself
 * is broken, which is logged. */
apr_int64_t tz_rl_begin(request_rec *r, const char *const *keys, apr_size_t n, unsigned limit,
                        apr_int64_t window)
{
    tz_rl_limit_t l[TZ_RL_MAXKEYS];
    apr_int64_t wait;
    tz_counters_t *c = tz_counters(TZ_CNT_LOGIN);
    n = tz_rl_uniform(keys, n, limit, window, l);
    if (c->attempt(c, r, l, n, apr_time_sec(apr_time_now()), &wait, NULL) != APR_SUCCESS)
        tz_counters_failed(r, "rate-limit");
    return wait;
}

void tz_rl_succeeded(request_rec *r, const char *undo_key, const char *clear_key)
{
    tz_counters_t *c = tz_counters(TZ_CNT_LOGIN);
    c->undo(c, r, undo_key, clear_key, apr_time_sec(apr_time_now()));
}
