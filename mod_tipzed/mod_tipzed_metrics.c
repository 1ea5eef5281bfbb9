/* GET /metrics and the counters behind it (docs/metrics.md).
 *
 * The counters live in one block of anonymous shared memory made in
 * post_config, before the children fork, so every child adds into the same
 * numbers.  Updates are relaxed atomic adds on 64-bit words: no lock on the
 * request path, and a scrape reads each word atomically (a scrape racing a
 * request may see its count and not yet its bucket, never a torn value).
 *
 * The block is made in the process pool and its address kept as httpd
 * retained data, so graceful and plain restarts reuse it and the counters
 * keep counting; they start from zero when Apache starts, or when a restart
 * brings a module whose layout differs (another route table).  The series
 * are fixed at startup: one row per route of the static route table, plus
 * one per method for requests no route matched, each with a bounded set of
 * statuses and latency buckets (tz_metrics.c).
 *
 * What the database holds is read at scrape time through one statement
 * (tz_api_metrics) and kept per child process for TZ_METRICS_DB_TTL, so
 * however often scrapes come, a child asks the database at most that
 * often. */
#include "mod_tipzed_metrics.h"
#include "mod_tipzed_db.h"
#include "mod_tipzed_handlers.h"
#include "mod_tipzed_http.h"
#include "mod_tipzed_routes.h"
#include "tz_velocity.h"
#include "ap_mpm.h"
#include "apr_hash.h"
#include "apr_shm.h"
#include "apr_thread_mutex.h"
#include "scoreboard.h"
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#define TZ_METRICS_KEY "tipzed-metrics"
#define TZ_METRICS_DB_TTL apr_time_from_sec(5)
#define TZ_GENERIC_ROW TZ_PROV__COUNT /* webhook rejections at the generic address */

typedef struct {
    uint64_t status[TZ_METRICS_NSTATUS];
    uint64_t bucket[TZ_METRICS_NBUCKET];
    uint64_t sum_usec;
} tz_mrow_t;

typedef struct {
    uint64_t layout;                       /* layout_id() of the module that made it */
    uint64_t started;                      /* unix seconds: when counting began */
    uint64_t rejected[TZ_PROV__COUNT + 1]; /* providers, then the generic address */
    uint64_t credits[TZ_PROV__COUNT];
    uint64_t events[TZ_PROV__COUNT][TZ_METRICS_NOUTCOME];
    uint64_t db[TZ_MDB__COUNT];
    uint64_t velocity[TZ_VEL__COUNT];      /* payments refused, by the limit's kind */
    tz_mrow_t rows[];                      /* routes, then unmatched by method */
} tz_mshm_t;

/* One child process's pooled connections held now, in a slot it claims
 * by its pid: a child that dies without its cleanup leaves a slot whose
 * pid is gone, which the scrape skips and the next child reclaims. */
typedef struct {
    int64_t pid;  /* 0: free */
    int64_t held; /* connections taken from mod_dbd and not yet given back */
} tz_mslot_t;

typedef struct {
    apr_shm_t *shm;
} tz_mretained_t;

static tz_mshm_t *tz_m;   /* NULL until post_config: nothing is counted */
static size_t tz_m_rows;
static tz_mslot_t *tz_m_slots; /* after the rows, one per possible child */
static int tz_m_nslots;
static tz_mslot_t *tz_my_slot; /* this child's, or NULL */

#define ADD(field, n) __atomic_fetch_add(&(field), (uint64_t)(n), __ATOMIC_RELAXED)
#define LOAD(field) __atomic_load_n(&(field), __ATOMIC_RELAXED)

static uint64_t fnv(uint64_t h, const void *data, size_t len)
{
    for (size_t i = 0; i < len; i++)
        h = (h ^ ((const unsigned char *)data)[i]) * 1099511628211ull;
    return h;
}

/* What decides the block's shape and meaning: a module whose route table
 * or label sets differ must not read the old numbers as its own. */
static uint64_t layout_id(int nslots)
{
    size_t n = tz_route_count();
    uint64_t dims[] = {n, TZ_METRICS_NSTATUS, TZ_METRICS_NBUCKET, TZ_METRICS_NMETHOD,
                       TZ_PROV__COUNT, TZ_MDB__COUNT, TZ_METRICS_NOUTCOME, sizeof(tz_mrow_t),
                       sizeof(tz_mshm_t), (uint64_t)nslots};
    uint64_t h = fnv(1469598103934665603ull, dims, sizeof dims);
    for (size_t i = 0; i < n; i++) {
        const tz_route_t *rt = tz_route_at(i);
        h = fnv(h, rt->method, strlen(rt->method) + 1);
        h = fnv(h, rt->pattern, strlen(rt->pattern) + 1);
    }
    for (int i = 0; i < TZ_PROV__COUNT; i++)
        h = fnv(h, tz_providers[i]->name, strlen(tz_providers[i]->name) + 1);
    return h;
}

apr_status_t tz_metrics_post_config(apr_pool_t *pconf, server_rec *s)
{
    tz_mretained_t *keep = ap_retained_data_get(TZ_METRICS_KEY);
    size_t rows = tz_route_count() + TZ_METRICS_NMETHOD;
    int nslots = 0;
    apr_size_t size;
    uint64_t id;
    apr_status_t rv;
    if (ap_mpm_query(AP_MPMQ_HARD_LIMIT_DAEMONS, &nslots) != APR_SUCCESS || nslots < 0)
        nslots = 0;
    size = sizeof(tz_mshm_t) + rows * sizeof(tz_mrow_t) + (apr_size_t)nslots * sizeof(tz_mslot_t);
    id = layout_id(nslots);
    if (!keep)
        keep = ap_retained_data_create(TZ_METRICS_KEY, sizeof *keep); /* zeroed */
    if (keep->shm && (apr_shm_size_get(keep->shm) < size ||
                      ((tz_mshm_t *)apr_shm_baseaddr_get(keep->shm))->layout != id)) {
        /* only this process unmaps it: children of the previous generation
         * keep their own mapping until they exit */
        apr_shm_destroy(keep->shm);
        keep->shm = NULL;
    }
    if (!keep->shm) {
        if ((rv = apr_shm_create(&keep->shm, size, NULL, s->process->pool)) != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, APLOGNO(10690)
                         "tipzed: cannot create the metrics' shared memory (%" APR_SIZE_T_FMT
                         " bytes)", size);
            keep->shm = NULL;
            return rv;
        }
        tz_m = apr_shm_baseaddr_get(keep->shm);
        memset(tz_m, 0, size);
        tz_m->layout = id;
        tz_m->started = (uint64_t)apr_time_sec(apr_time_now());
        ap_log_error(APLOG_MARK, APLOG_INFO, 0, s, APLOGNO(10692)
                     "tipzed: metrics counters start at zero (%" APR_SIZE_T_FMT " bytes of"
                     " shared memory)", size);
    }
    tz_m = apr_shm_baseaddr_get(keep->shm);
    tz_m_rows = rows;
    tz_m_slots = (tz_mslot_t *)(void *)&tz_m->rows[rows];
    tz_m_nslots = nslots;
    return APR_SUCCESS;
}

/* The mark is the row + 2 in the request's own config slot: 0 is "not
 * ours", 1 is "no route". */
void tz_metrics_mark(request_rec *r, int route)
{
    ap_set_module_config(r->request_config, &tipzed_module, (void *)(intptr_t)(route + 2));
}

static intptr_t marked(const request_rec *r)
{
    return (intptr_t)ap_get_module_config(r->request_config, &tipzed_module);
}

/* After the response: the status is the last internal redirect's (the one
 * answered), the time runs from the request line to now. */
int tz_metrics_log(request_rec *r)
{
    const request_rec *last = r;
    intptr_t mark = marked(r);
    apr_time_t took = apr_time_now() - r->request_time;
    uint64_t us = took > 0 ? (uint64_t)took : 0;
    size_t row;
    for (; last->next; last = last->next)
        if (marked(last->next))
            mark = marked(last->next);
    if (!tz_m || !mark)
        return DECLINED;
    row = mark >= 2 ? (size_t)(mark - 2) : tz_route_count() + tz_metrics_method_index(r->method);
    if (row >= tz_m_rows)
        return DECLINED;
    ADD(tz_m->rows[row].status[tz_metrics_status_index(last->status)], 1);
    ADD(tz_m->rows[row].bucket[tz_metrics_bucket(us)], 1);
    ADD(tz_m->rows[row].sum_usec, us);
    return DECLINED;
}

void tz_metrics_webhook_rejected(const char *provider)
{
    int i = provider ? tz_provider_id(provider) : -1;
    if (tz_m)
        ADD(tz_m->rejected[i >= 0 ? i : TZ_GENERIC_ROW], 1);
}

void tz_metrics_event(const char *provider, const char *outcome)
{
    int i = tz_provider_id(provider);
    if (!tz_m || i < 0)
        return;
    ADD(tz_m->events[i][tz_metrics_outcome_index(outcome)], 1);
    if (outcome && strcmp(outcome, "credited") == 0)
        ADD(tz_m->credits[i], 1);
}

void tz_metrics_velocity(int kind)
{
    if (tz_m && kind >= 0 && kind < TZ_VEL__COUNT)
        ADD(tz_m->velocity[kind], 1);
}

void tz_metrics_db(tz_mdb_e what)
{
    if (tz_m && what < TZ_MDB__COUNT)
        ADD(tz_m->db[what], 1);
}

/* ---- connections held now, per child ---- */

static int alive(int64_t pid)
{
    return pid > 0 && (kill((pid_t)pid, 0) == 0 || errno == EPERM);
}

static apr_status_t release_slot(void *unused)
{
    tz_mslot_t *m = tz_my_slot;
    tz_my_slot = NULL;
    __atomic_store_n(&m->held, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&m->pid, 0, __ATOMIC_RELEASE);
    return APR_SUCCESS;
}

/* A free slot, or one whose process is gone, taken with a compare and
 * swap so that two children starting at once cannot share one. */
static void claim_slot(apr_pool_t *p)
{
    int64_t me = (int64_t)getpid();
    for (int i = 0; i < tz_m_nslots && !tz_my_slot; i++) {
        int64_t old = __atomic_load_n(&tz_m_slots[i].pid, __ATOMIC_ACQUIRE);
        if (old && alive(old))
            continue;
        if (__atomic_compare_exchange_n(&tz_m_slots[i].pid, &old, me, 0, __ATOMIC_ACQ_REL,
                                        __ATOMIC_RELAXED)) {
            __atomic_store_n(&tz_m_slots[i].held, 0, __ATOMIC_RELAXED);
            tz_my_slot = &tz_m_slots[i];
        }
    }
    if (tz_my_slot)
        apr_pool_cleanup_register(p, NULL, release_slot, apr_pool_cleanup_null);
}

static apr_status_t unhold(void *unused)
{
    tz_mslot_t *m = tz_my_slot; /* read once: the child's exit may be clearing it */
    if (m)
        __atomic_fetch_sub(&m->held, 1, __ATOMIC_RELAXED);
    return APR_SUCCESS;
}

/* mod_dbd ties the connection to the request until its pool is cleared;
 * the cleanup registered here runs just before mod_dbd's (cleanups run
 * last registered first), i.e. when the connection goes back. */
void tz_metrics_db_held(request_rec *r)
{
    void *seen = NULL;
    if (!tz_my_slot)
        return;
    apr_pool_userdata_get(&seen, "tipzed-metrics-held", r->pool);
    if (seen)
        return;
    apr_pool_userdata_setn((void *)1, "tipzed-metrics-held", NULL, r->pool);
    __atomic_fetch_add(&tz_my_slot->held, 1, __ATOMIC_RELAXED);
    apr_pool_cleanup_register(r->pool, NULL, unhold, apr_pool_cleanup_null);
}

void tz_metrics_db_background(int delta)
{
    tz_mslot_t *m = tz_my_slot;
    if (m)
        __atomic_fetch_add(&m->held, delta, __ATOMIC_RELAXED);
}

static int64_t held_now(void)
{
    int64_t n = 0;
    for (int i = 0; i < tz_m_nslots; i++) {
        int64_t pid = __atomic_load_n(&tz_m_slots[i].pid, __ATOMIC_ACQUIRE);
        if (pid && alive(pid))
            n += __atomic_load_n(&tz_m_slots[i].held, __ATOMIC_RELAXED);
    }
    return n;
}

/* ---- the scrape ---- */

static const char *row_route(size_t row)
{
    return row < tz_route_count() ? tz_route_at(row)->pattern : "unmatched";
}

static const char *row_method(size_t row)
{
    size_t n = tz_route_count();
    return row < n ? tz_route_at(row)->method : tz_metrics_method_label(row - n);
}

static void write_process(tz_mtext_t *t)
{
    int limit = 0, serving = 0, stopping = 0;
    const char *kv[] = {"version", TZ_MODULE_VERSION, "state", NULL};
    tz_mtext_family(t, "tipzed_build_info", "gauge", "The module's version, always 1.");
    tz_mtext_u64(t, "tipzed_build_info", tz_metrics_labels(t->p, kv, 1), 1);
    tz_mtext_family(t, "tipzed_metrics_start_time_seconds", "gauge",
                    "Unix time the shared counters began counting (Apache's start, or a"
                    " restart that brought a module with another route table).");
    tz_mtext_u64(t, "tipzed_metrics_start_time_seconds", "", LOAD(tz_m->started));
    if (!ap_exists_scoreboard_image() ||
        ap_mpm_query(AP_MPMQ_HARD_LIMIT_DAEMONS, &limit) != APR_SUCCESS)
        return;
    for (int i = 0; i < limit; i++) {
        process_score *ps = ap_get_scoreboard_process(i);
        if (ps && ps->pid)
            ps->quiescing ? stopping++ : serving++;
    }
    tz_mtext_family(t, "tipzed_child_processes", "gauge",
                    "Apache child processes: serving, or stopping after a graceful restart.");
    kv[3] = "serving";
    tz_mtext_u64(t, "tipzed_child_processes", tz_metrics_labels(t->p, kv + 2, 1), (uint64_t)serving);
    kv[3] = "stopping";
    tz_mtext_u64(t, "tipzed_child_processes", tz_metrics_labels(t->p, kv + 2, 1), (uint64_t)stopping);
}

static void write_requests(tz_mtext_t *t)
{
    const char *kv[6] = {"route", NULL, "method", NULL, "status", NULL};
    tz_mtext_family(t, "tipzed_http_requests_total", "counter",
                    "Requests answered, by route pattern (\"unmatched\" when no route"
                    " matched), method and status (\"other\" beyond the usual ones).");
    for (size_t row = 0; row < tz_m_rows; row++)
        for (size_t i = 0; i < TZ_METRICS_NSTATUS; i++) {
            uint64_t n = LOAD(tz_m->rows[row].status[i]);
            if (!n)
                continue;
            kv[1] = row_route(row), kv[3] = row_method(row), kv[5] = tz_metrics_status_label(i);
            tz_mtext_u64(t, "tipzed_http_requests_total", tz_metrics_labels(t->p, kv, 3), n);
        }
}

static void write_latency(tz_mtext_t *t)
{
    const char *kv[4] = {"route", NULL, "method", NULL};
    uint64_t b[TZ_METRICS_NBUCKET], any;
    tz_mtext_family(t, "tipzed_http_request_duration_seconds", "histogram",
                    "Time from the request line to the end of the response, by route"
                    " pattern and method.");
    for (size_t row = 0; row < tz_m_rows; row++) {
        any = 0;
        for (size_t i = 0; i < TZ_METRICS_NBUCKET; i++)
            any += b[i] = LOAD(tz_m->rows[row].bucket[i]);
        if (!any)
            continue;
        kv[1] = row_route(row), kv[3] = row_method(row);
        tz_mtext_histogram(t, "tipzed_http_request_duration_seconds", kv, 2, b,
                           LOAD(tz_m->rows[row].sum_usec));
    }
}

static void write_providers(tz_mtext_t *t)
{
    const char *kv[2] = {"provider", NULL};
    tz_mtext_family(t, "tipzed_webhook_verification_failures_total", "counter",
                    "Provider webhooks refused for their signature (\"generic\": at"
                    " /payments/webhook, which no enabled provider's secret signed).");
    for (int i = 0; i <= TZ_PROV__COUNT; i++) {
        kv[1] = i < TZ_PROV__COUNT ? tz_providers[i]->name : "generic";
        tz_mtext_u64(t, "tipzed_webhook_verification_failures_total",
                     tz_metrics_labels(t->p, kv, 1), LOAD(tz_m->rejected[i]));
    }
    tz_mtext_family(t, "tipzed_provider_events_total", "counter",
                    "Provider events (webhooks and status polls) recorded, by what they"
                    " did: credited, review, failed, duplicate, noop, not_found, refunded,"
                    " refund_failed, other.");
    for (int i = 0; i < TZ_PROV__COUNT; i++)
        for (size_t o = 0; o < TZ_METRICS_NOUTCOME; o++) {
            const char *ev[4] = {"provider", tz_providers[i]->name, "outcome",
                                 tz_metrics_outcome_label(o)};
            uint64_t n = LOAD(tz_m->events[i][o]);
            if (n)
                tz_mtext_u64(t, "tipzed_provider_events_total", tz_metrics_labels(t->p, ev, 2), n);
        }
    tz_mtext_family(t, "tipzed_credits_total", "counter",
                    "Payments credited on a provider's word (a webhook or a status poll).");
    for (int i = 0; i < TZ_PROV__COUNT; i++) {
        kv[1] = tz_providers[i]->name;
        tz_mtext_u64(t, "tipzed_credits_total", tz_metrics_labels(t->p, kv, 1),
                     LOAD(tz_m->credits[i]));
    }
}

static void write_velocity(tz_mtext_t *t)
{
    const char *kv[2] = {"kind", NULL};
    tz_mtext_family(t, "tipzed_velocity_refusals_total", "counter",
                    "Payment requests refused by a velocity limit (TipzedPaymentVelocity),"
                    " by the limit's kind: fan, ip, instrument, creator.");
    for (int i = 0; i < TZ_VEL__COUNT; i++) {
        kv[1] = tz_vel_kind_name((tz_vel_kind_e)i);
        tz_mtext_u64(t, "tipzed_velocity_refusals_total", tz_metrics_labels(t->p, kv, 1),
                     LOAD(tz_m->velocity[i]));
    }
}

static void write_db_counters(tz_mtext_t *t)
{
    const char *kv[4] = {"context", NULL, "result", NULL};
    static const char *const ctx[4][2] = {
        {"request", "ok"}, {"request", "failed"}, {"background", "ok"}, {"background", "failed"}};
    tz_mtext_family(t, "tipzed_db_acquire_total", "counter",
                    "Connections asked of mod_dbd's pool: for a request, or outside requests"
                    " (the watchdog); failed: the pool had none to give.");
    for (int i = 0; i < 4; i++) {
        kv[1] = ctx[i][0], kv[3] = ctx[i][1];
        tz_mtext_u64(t, "tipzed_db_acquire_total", tz_metrics_labels(t->p, kv, 2),
                     LOAD(tz_m->db[TZ_MDB_ACQUIRE_REQUEST_OK + i]));
    }
    tz_mtext_family(t, "tipzed_db_connections_in_use", "gauge",
                    "Pooled connections taken by requests and the watchdog now, summed over"
                    " the live child processes (each holds at most DBDMax).");
    tz_mtext_i64(t, "tipzed_db_connections_in_use", "", held_now());
    tz_mtext_family(t, "tipzed_db_queries_total", "counter", "Statements run.");
    tz_mtext_u64(t, "tipzed_db_queries_total", "", LOAD(tz_m->db[TZ_MDB_QUERY]));
    tz_mtext_family(t, "tipzed_db_errors_total", "counter",
                    "Statements that failed for good (the caller got 503), after the"
                    " reconnect and retries.");
    tz_mtext_u64(t, "tipzed_db_errors_total", "", LOAD(tz_m->db[TZ_MDB_ERROR]));
    tz_mtext_family(t, "tipzed_db_reconnects_total", "counter",
                    "Sessions re-established after PostgreSQL dropped them, statements"
                    " prepared again.");
    tz_mtext_u64(t, "tipzed_db_reconnects_total", "", LOAD(tz_m->db[TZ_MDB_RECONNECT]));
    tz_mtext_family(t, "tipzed_db_conflict_retries_total", "counter",
                    "Calls run again after PostgreSQL rolled them back for a deadlock or a"
                    " serialization failure.");
    tz_mtext_u64(t, "tipzed_db_conflict_retries_total", "",
                 LOAD(tz_m->db[TZ_MDB_CONFLICT_RETRY]));
}

/* ---- what the database holds, kept per child and server ---- */

typedef struct {
    server_rec *s; /* the key */
    char *text;    /* tz_api_metrics()'s last answer (malloc), or NULL */
    apr_time_t at;
} tz_mcache_t;

static apr_thread_mutex_t *tz_mc_lock;
static apr_hash_t *tz_mc;
static apr_pool_t *tz_mc_pool;

void tz_metrics_child_init(apr_pool_t *p, server_rec *s)
{
    if (tz_m)
        claim_slot(p);
    tz_mc_pool = p;
    tz_mc = apr_hash_make(p);
    if (apr_thread_mutex_create(&tz_mc_lock, APR_THREAD_MUTEX_DEFAULT, p) != APR_SUCCESS) {
        tz_mc_lock = NULL;
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, APLOGNO(10691)
                     "tipzed: cannot create the metrics cache's lock");
    }
}

/* The database's answer at most TZ_METRICS_DB_TTL old, copied into the
 * request's pool, and its age; NULL when the database cannot answer now
 * (an older answer is then not passed off as current).  Scrapes of one
 * child wait for each other while one asks the database. */
static const char *db_snapshot(request_rec *r, double *age)
{
    apr_time_t now = apr_time_now();
    const char *fresh = NULL, *text = NULL;
    tz_mcache_t *c;
    if (!tz_mc_lock)
        return NULL;
    apr_thread_mutex_lock(tz_mc_lock);
    if (!(c = apr_hash_get(tz_mc, &r->server, sizeof r->server))) {
        c = apr_pcalloc(tz_mc_pool, sizeof *c);
        c->s = r->server;
        apr_hash_set(tz_mc, &c->s, sizeof c->s, c);
    }
    if (!c->text || now - c->at >= TZ_METRICS_DB_TTL || now < c->at) {
        free(c->text);
        c->text = NULL;
        if (tz_db_value(r, TZ_Q_METRICS, NULL, &fresh) == OK && fresh && (c->text = strdup(fresh)))
            c->at = now;
    }
    if (c->text) {
        text = apr_pstrdup(r->pool, c->text);
        *age = (double)(now - c->at) / (double)APR_USEC_PER_SEC;
    }
    apr_thread_mutex_unlock(tz_mc_lock);
    return text;
}

/* One gauge family from an array of {status, [currency,] <value>} rows. */
static void write_rows(tz_mtext_t *t, json_t *db, const char *key, const char *name,
                       const char *help, const char *value, int by_currency)
{
    json_t *rows = json_object_get(db, key), *row;
    size_t i;
    const char *kv[4] = {"status", NULL, "currency", NULL};
    tz_mtext_family(t, name, "gauge", help);
    json_array_foreach(rows, i, row) {
        kv[1] = tz_json_str(row, "status");
        kv[3] = by_currency ? tz_json_str(row, "currency") : NULL;
        tz_mtext_f(t, name, tz_metrics_labels(t->p, kv, by_currency ? 2 : 1),
                   json_number_value(json_object_get(row, value)));
    }
}

/* A pending/failed count pair and the lag of the oldest pending. */
static void write_queue(tz_mtext_t *t, json_t *q, const char *name, const char *help,
                        const char *lag, const char *lag_help)
{
    const char *kv[2] = {"status", NULL};
    static const char *const states[] = {"pending", "failed"};
    tz_mtext_family(t, name, "gauge", help);
    for (int i = 0; i < 2; i++)
        if (json_object_get(q, states[i])) {
            kv[1] = states[i];
            tz_mtext_f(t, name, tz_metrics_labels(t->p, kv, 1),
                       json_number_value(json_object_get(q, states[i])));
        }
    tz_mtext_family(t, lag, "gauge", lag_help);
    tz_mtext_f(t, lag, "", json_number_value(json_object_get(q, "oldest_pending_age")));
}

static void write_database(tz_mtext_t *t, request_rec *r)
{
    double age = 0;
    const char *text = db_snapshot(r, &age), *err;
    json_t *db = text ? tz_json_parse(r->pool, text, strlen(text), &err) : NULL;
    tz_mtext_family(t, "tipzed_database_up", "gauge",
                    "1 when the database answered the metrics' query (the series below are"
                    " then present), else 0.");
    tz_mtext_u64(t, "tipzed_database_up", "", db ? 1 : 0);
    if (!db)
        return;
    tz_mtext_family(t, "tipzed_database_metrics_age_seconds", "gauge",
                    "Age of the database figures served (kept per child process a few seconds).");
    tz_mtext_f(t, "tipzed_database_metrics_age_seconds", "", age);
    write_rows(t, db, "payments", "tipzed_payments", "Payments by state.", "count", 0);
    write_rows(t, db, "payment_amounts", "tipzed_payments_amount",
               "Sum of payment amounts by state and currency, in minor units.", "amount", 1);
    write_rows(t, db, "payouts", "tipzed_payouts", "Payouts by state.", "count", 0);
    write_rows(t, db, "payout_amounts", "tipzed_payouts_amount",
               "Sum of payout amounts by state and currency, in minor units.", "amount", 1);
    write_rows(t, db, "subscriptions", "tipzed_subscriptions", "Subscriptions by state.",
               "count", 0);
    write_queue(t, json_object_get(db, "events"), "tipzed_outbox_events",
                "Outbox events not yet fanned out into deliveries and mail.",
                "tipzed_outbox_event_lag_seconds",
                "Age of the oldest event not yet fanned out (0: none).");
    write_queue(t, json_object_get(db, "deliveries"), "tipzed_webhook_deliveries",
                "Outbound webhook deliveries pending (first attempt or retry) or failed"
                " (given up).", "tipzed_webhook_delivery_lag_seconds",
                "Age of the oldest webhook delivery not yet delivered (0: none).");
    write_queue(t, json_object_get(db, "mail"), "tipzed_mail",
                "Mails pending (first attempt or retry) or failed (given up).",
                "tipzed_mail_lag_seconds", "Age of the oldest mail not yet sent (0: none).");
}

/* GET /metrics: the text format, to the addresses TipzedMetricsAccess
 * allows (loopback by default); the client address is httpd's, i.e.
 * mod_remoteip's when a trusted proxy forwards. */
int tz_h_metrics(tz_req_t *q)
{
    request_rec *r = q->r;
    tz_mtext_t t;
    const char *body;
    size_t len;
    if (!q->cfg->metrics_acl || !tz_metrics_acl_allows(q->cfg->metrics_acl, tz_client_ip(r)))
        return tz_send_problem(r, HTTP_FORBIDDEN, "forbidden",
                               "this address may not read the metrics");
    if (!tz_m)
        return tz_send_problem(r, HTTP_SERVICE_UNAVAILABLE, "metrics_unavailable",
                               "the metrics' shared memory could not be created");
    tz_mtext_init(&t, r->pool);
    write_process(&t);
    write_requests(&t);
    write_latency(&t);
    write_providers(&t);
    write_velocity(&t);
    write_db_counters(&t);
    write_database(&t, r);
    body = tz_mtext_done(&t, &len);
    r->status = HTTP_OK;
    ap_set_content_type(r, TZ_METRICS_CONTENT_TYPE);
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    ap_set_content_length(r, (apr_off_t)len);
    if (!r->header_only)
        ap_rwrite(body, (int)len, r);
    return OK;
}
