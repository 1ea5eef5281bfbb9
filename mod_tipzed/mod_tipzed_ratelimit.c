/* Login rate limiting shared by every child process: the counters of
 * tz_ratelimit.c live in anonymous shared memory created before the
 * children fork, guarded by a global mutex (configurable with
 * `Mutex ... tipzed-ratelimit`, like any httpd mutex). */
#include "mod_tipzed_ratelimit.h"
#include "tz_ratelimit.h"
#include "apr_shm.h"
#include "apr_global_mutex.h"
#include "util_mutex.h"

#define TZ_RL_SLOTS 8192
#define TZ_RL_MUTEX "tipzed-ratelimit"

static apr_shm_t *tz_rl_shm;
static apr_global_mutex_t *tz_rl_mutex;
static tz_rl_table_t *tz_rl_table;

int tz_rl_pre_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp)
{
    return ap_mutex_register(pconf, TZ_RL_MUTEX, NULL, APR_LOCK_DEFAULT, 0) == APR_SUCCESS
               ? OK : HTTP_INTERNAL_SERVER_ERROR;
}

apr_status_t tz_rl_post_config(apr_pool_t *p, server_rec *s)
{
    apr_status_t rv;
    apr_size_t size = tz_rl_size(TZ_RL_SLOTS);
    if ((rv = apr_shm_create(&tz_rl_shm, size, NULL, p)) != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, APLOGNO(10520)
                     "tipzed: cannot create the rate-limit shared memory");
        return rv;
    }
    tz_rl_table = tz_rl_init(apr_shm_baseaddr_get(tz_rl_shm), TZ_RL_SLOTS);
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
 * counted, else the seconds to wait.  Fails open only if the mutex itself
 * is broken, which is logged. */
apr_int64_t tz_rl_begin(request_rec *r, const char *const *keys, apr_size_t n, unsigned limit,
                        apr_int64_t window)
{
    apr_int64_t wait;
    if (!tz_rl_table || apr_global_mutex_lock(tz_rl_mutex) != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, APLOGNO(10522)
                      "tipzed: rate-limit table unavailable");
        return 0;
    }
    wait = tz_rl_attempt(tz_rl_table, keys, n, apr_time_sec(apr_time_now()), limit, window);
    apr_global_mutex_unlock(tz_rl_mutex);
    return wait;
}

void tz_rl_succeeded(request_rec *r, const char *undo_key, const char *clear_key)
{
    if (tz_rl_table && apr_global_mutex_lock(tz_rl_mutex) == APR_SUCCESS) {
        tz_rl_undo(tz_rl_table, undo_key, apr_time_sec(apr_time_now()));
        tz_rl_reset(tz_rl_table, clear_key);
        apr_global_mutex_unlock(tz_rl_mutex);
    }
}
