/* Periodic work inside Apache: a singleton child watchdog (mod_watchdog,
 * compiled into Debian's httpd) asks providers about pending payments and
 * refunds, expires stale pending payments, runs the billing engine and
 * releases matured reserves every TZ_EXPIRY_INTERVAL seconds -- one runner across all children; a
 * second one runs the outbox's dispatcher, a third its mail. */
#include "mod_tipzed_watchdog.h"
#include "mod_tipzed_billing.h"
#include "mod_tipzed_outbox.h"
#include "mod_tipzed_db.h"
#include "mod_tipzed_providers.h"
#include "mod_watchdog.h"
#include "apr_thread_cond.h"
#include "apr_thread_mutex.h"

#define TZ_WATCHDOG_NAME "_tipzed_"
#define TZ_EXPIRY_INTERVAL 5

/* mod_watchdog starts a child's watchdog threads on a pool of the process,
 * so nothing joins them when the child exits: a tick still running when
 * exit() tears down OpenSSL and libcurl crashes the child.  So every tick
 * passes this gate, and a pre-cleanup of the child's pool -- registered
 * after the database's, so run before it -- closes the gate and waits for
 * the ticks in flight, which then see tz_watchdog_closing() and stop at
 * their next step. */
static apr_thread_mutex_t *gate_lock;
static apr_thread_cond_t *gate_idle;
static int gate_running, gate_closed;

static int gate_enter(void)
{
    int ok;
    if (!gate_lock)
        return 0;
    apr_thread_mutex_lock(gate_lock);
    ok = !gate_closed;
    gate_running += ok;
    apr_thread_mutex_unlock(gate_lock);
    return ok;
}

static void gate_leave(void)
{
    apr_thread_mutex_lock(gate_lock);
    if (--gate_running == 0)
        apr_thread_cond_broadcast(gate_idle);
    apr_thread_mutex_unlock(gate_lock);
}

static apr_status_t gate_close(void *unused)
{
    apr_thread_mutex_lock(gate_lock);
    gate_closed = 1;
    while (gate_running > 0)
        apr_thread_cond_wait(gate_idle, gate_lock);
    apr_thread_mutex_unlock(gate_lock);
    return APR_SUCCESS;
}

int tz_watchdog_closing(void)
{
    return gate_closed;
}

void tz_watchdog_child_init(apr_pool_t *p, server_rec *s)
{
    if (apr_thread_mutex_create(&gate_lock, APR_THREAD_MUTEX_DEFAULT, s->process->pool) !=
            APR_SUCCESS ||
        apr_thread_cond_create(&gate_idle, s->process->pool) != APR_SUCCESS) {
        gate_lock = NULL;
        return;
    }
    apr_pool_pre_cleanup_register(p, NULL, gate_close);
}

/* The rolling reserve's job: matured holds go to their creators' wallets,
 * one entry each, up to TZ_RESERVE_BATCH a tick.  It runs whatever this
 * server's TipzedReserve says, since holds made under another node's (or
 * an earlier) configuration mature too.  The holds are claimed FOR UPDATE
 * SKIP LOCKED (63_reserves.sql), so nodes running it at once release
 * each hold once. */
#define TZ_RESERVE_BATCH "200"

static void tz_release_reserves(apr_pool_t *p, server_rec *s)
{
    const char *args[1] = {TZ_RESERVE_BATCH};
    json_t *res = NULL;
    json_int_t n;
    if (tz_db_server_json(p, s, TZ_Q_RESERVE_RELEASE, args, &res) != OK || !res)
        return;
    n = json_integer_value(json_object_get(res, "released"));
    if (n > 0)
        ap_log_error(APLOG_MARK, APLOG_INFO, 0, s, APLOGNO(10770)
                     "tipzed: %" APR_INT64_T_FMT " reserve hold(s) released, %" APR_INT64_T_FMT
                     " in all", (apr_int64_t)n,
                     (apr_int64_t)json_integer_value(json_object_get(res, "amount")));
}

/* One tick, in a pool of its own: status polling first, so that a
 * payment is asked about before it may expire, then refunds, then expiry,
 * then the billing engine's pass. */
static apr_status_t tz_expiry_tick(int state, void *data, apr_pool_t *pool)
{
    server_rec *s = data;
    tz_cfg_t *c = ap_get_module_config(s->module_config, &tipzed_module);
    const char *n = NULL, *args[1];
    apr_pool_t *p;
    if (state != AP_WATCHDOG_STATE_RUNNING || !c->active || !gate_enter())
        return APR_SUCCESS;
    if (apr_pool_create(&p, pool) != APR_SUCCESS) {
        gate_leave();
        return APR_SUCCESS;
    }
    tz_poll_payments(p, s, c);
    tz_retry_refunds(p, s, c);
    tz_check_bills(p, s, c);
    args[0] = c->status_poll > 0 ? tz_provider_list(p, c, 'S') : "{}";
    if (tz_db_server_value(p, s, TZ_Q_PAYMENTS_EXPIRE, args, &n) == OK && n && strcmp(n, "0"))
        ap_log_error(APLOG_MARK, APLOG_INFO, 0, s, APLOGNO(10560)
                     "tipzed: %s pending payment(s) expired", n);
    tz_billing_run(p, s, c);
    tz_release_reserves(p, s);
    apr_pool_destroy(p);
    gate_leave();
    return APR_SUCCESS;
}

/* The outbox's dispatcher has a watchdog of its own, so that a slow
 * provider call of the tick above never holds events back, and a tick of
 * a second: an event is on its way within about a second of its commit. */
#define TZ_OUTBOX_WATCHDOG_NAME "_tipzed_outbox_"
#define TZ_OUTBOX_INTERVAL 1

#define TZ_MAIL_WATCHDOG_NAME "_tipzed_mail_"

static apr_status_t outbox_work(int state, server_rec *s, apr_pool_t *pool,
                                void (*work)(apr_pool_t *, server_rec *, const tz_cfg_t *))
{
    tz_cfg_t *c = ap_get_module_config(s->module_config, &tipzed_module);
    apr_pool_t *p;
    if (state != AP_WATCHDOG_STATE_RUNNING || !c->active || !gate_enter())
        return APR_SUCCESS;
    if (apr_pool_create(&p, pool) == APR_SUCCESS) {
        work(p, s, c);
        apr_pool_destroy(p);
    }
    gate_leave();
    return APR_SUCCESS;
}

static apr_status_t tz_outbox_tick(int state, void *data, apr_pool_t *pool)
{
    return outbox_work(state, data, pool, tz_outbox_run);
}

/* Mail on a third watchdog: rendering a receipt's PDF and an SMTP
 * server's pace never hold webhooks back. */
static apr_status_t tz_mail_tick(int state, void *data, apr_pool_t *pool)
{
    return outbox_work(state, data, pool, tz_mail_run);
}

void tz_watchdog_register(apr_pool_t *p, server_rec *s)
{
    APR_OPTIONAL_FN_TYPE(ap_watchdog_get_instance) *get = APR_RETRIEVE_OPTIONAL_FN(ap_watchdog_get_instance);
    APR_OPTIONAL_FN_TYPE(ap_watchdog_register_callback) *reg =
        APR_RETRIEVE_OPTIONAL_FN(ap_watchdog_register_callback);
    ap_watchdog_t *wd;
    if (!get || !reg) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, APLOGNO(10561)
                     "tipzed: mod_watchdog is missing; pending payments will not expire");
        return;
    }
    if (get(&wd, TZ_WATCHDOG_NAME, 0, 1, p) != APR_SUCCESS ||
        reg(wd, apr_time_from_sec(TZ_EXPIRY_INTERVAL), s, tz_expiry_tick) != APR_SUCCESS)
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, s, APLOGNO(10562)
                     "tipzed: cannot register the payment expiry watchdog");
    if (get(&wd, TZ_OUTBOX_WATCHDOG_NAME, 0, 1, p) != APR_SUCCESS ||
        reg(wd, apr_time_from_sec(TZ_OUTBOX_INTERVAL), s, tz_outbox_tick) != APR_SUCCESS)
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, s, APLOGNO(10680)
                     "tipzed: cannot register the outbox's dispatcher watchdog");
    if (get(&wd, TZ_MAIL_WATCHDOG_NAME, 0, 1, p) != APR_SUCCESS ||
        reg(wd, apr_time_from_sec(TZ_OUTBOX_INTERVAL), s, tz_mail_tick) != APR_SUCCESS)
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, s, APLOGNO(10683)
                     "tipzed: cannot register the outbox's mail watchdog");
}
