/* The schema check: the module serves only a database migrated to the
 * schema it was built for.  The build writes the expected schema version
 * (the highest step of sql/schema/) and the digest of sql/functions/ into
 * tz_schema_expected.h; tipzedctl migrate records the same two in the
 * database, and tz_api_schema_state() returns them.
 *
 * A database whose functions are missing altogether (a module upgraded
 * before its migration) fails earlier: mod_dbd cannot prepare the
 * statements, opens no connection, and logs "failed to prepare SQL
 * statements"; the check then reads as unreachable and the requests fail
 * with 503 database_unavailable on their own. */
#include "mod_tipzed_schema.h"
#include "mod_tipzed_db.h"
#include "mod_tipzed_handlers.h"
#include "mod_tipzed_http.h"
#include "tz_schema_expected.h"
#include "apr_hash.h"
#include "apr_thread_mutex.h"

/* How long a state is trusted before it is read again. */
#define TZ_SCHEMA_TTL_BEHIND apr_time_from_sec(2)
#define TZ_SCHEMA_TTL_CURRENT apr_time_from_sec(10)

typedef struct {
    tz_schema_info_t info;
    apr_time_t checked_at;
    int checking;          /* a thread is reading it now */
    tz_schema_e logged;    /* the state last written to the error log */
} tz_schema_cache_t;

static apr_thread_mutex_t *tz_schema_lock;
static apr_hash_t *tz_schema_by_server; /* server_rec * -> tz_schema_cache_t */
static apr_pool_t *tz_schema_pool;

void tz_schema_child_init(apr_pool_t *p, server_rec *s)
{
    tz_schema_pool = p;
    tz_schema_by_server = apr_hash_make(p);
    if (apr_thread_mutex_create(&tz_schema_lock, APR_THREAD_MUTEX_DEFAULT, p) != APR_SUCCESS)
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, APLOGNO(10600)
                     "tipzed: cannot create the schema check's lock");
}

apr_int64_t tz_schema_expected_version(void)
{
    return TZ_SCHEMA_VERSION;
}

const char *tz_schema_expected_digest(void)
{
    return TZ_SCHEMA_DIGEST;
}

const char *tz_schema_state_name(tz_schema_e state)
{
    static const char *const names[] = {"unchecked", "unreachable", "current", "behind", "ahead"};
    return names[state];
}

static tz_schema_e judge(apr_int64_t version, const char *digest)
{
    if (version > TZ_SCHEMA_VERSION)
        return TZ_SCHEMA_AHEAD;
    if (version < TZ_SCHEMA_VERSION || strcmp(digest, TZ_SCHEMA_DIGEST) != 0)
        return TZ_SCHEMA_BEHIND;
    return TZ_SCHEMA_CURRENT;
}

int tz_schema_read(request_rec *r, tz_schema_info_t *info)
{
    json_t *j = NULL;
    int rc = tz_db_json(r, TZ_Q_SCHEMA_STATE, NULL, &j);
    const char *digest = j ? json_string_value(json_object_get(j, "digest")) : NULL;
    json_t *v = j ? json_object_get(j, "version") : NULL;
    memset(info, 0, sizeof *info);
    if (rc != OK || !json_is_integer(v)) {
        info->state = TZ_SCHEMA_UNREACHABLE;
        return rc != OK ? rc : HTTP_SERVICE_UNAVAILABLE;
    }
    info->version = (apr_int64_t)json_integer_value(v);
    apr_cpystrn(info->digest, digest ? digest : "", sizeof info->digest);
    info->state = judge(info->version, info->digest);
    return OK;
}

/* One error-log line per change of state (per child and virtual host). */
static void log_change(request_rec *r, const tz_schema_info_t *i)
{
    switch (i->state) {
    case TZ_SCHEMA_CURRENT:
        ap_log_rerror(APLOG_MARK, APLOG_NOTICE, 0, r, APLOGNO(10601)
                      "tipzed: database schema %" APR_INT64_T_FMT " with functions %.12s, as"
                      " this module expects: serving", i->version, i->digest);
        break;
    case TZ_SCHEMA_BEHIND:
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, APLOGNO(10602)
                      "tipzed: database schema %" APR_INT64_T_FMT " with functions %.12s is behind"
                      " this module (schema %d, functions %.12s): the API answers 503"
                      " schema_behind until `tipzedctl migrate` is run with this release's sql/",
                      i->version, *i->digest ? i->digest : "none", TZ_SCHEMA_VERSION,
                      TZ_SCHEMA_DIGEST);
        break;
    case TZ_SCHEMA_AHEAD:
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, APLOGNO(10603)
                      "tipzed: database schema %" APR_INT64_T_FMT " is newer than this module's"
                      " (%d): serving; upgrade the module", i->version, TZ_SCHEMA_VERSION);
        break;
    default:
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, APLOGNO(10604)
                      "tipzed: cannot read the database schema's state; if mod_dbd reports"
                      " \"failed to prepare SQL statements\" for a missing tz_api_ function, the"
                      " schema is behind: run `tipzedctl migrate`");
        break;
    }
}

static apr_interval_time_t ttl(tz_schema_e state)
{
    return state == TZ_SCHEMA_CURRENT || state == TZ_SCHEMA_AHEAD ? TZ_SCHEMA_TTL_CURRENT
                                                                  : TZ_SCHEMA_TTL_BEHIND;
}

/* The entry of r's server; created on first use.  Called under the lock. */
static tz_schema_cache_t *entry(request_rec *r)
{
    tz_schema_cache_t *e = apr_hash_get(tz_schema_by_server, &r->server, sizeof r->server);
    if (!e) {
        server_rec **key = apr_palloc(tz_schema_pool, sizeof *key);
        *key = r->server;
        e = apr_pcalloc(tz_schema_pool, sizeof *e);
        apr_hash_set(tz_schema_by_server, key, sizeof *key, e);
    }
    return e;
}

/* The cached state of r's server, read again by one thread when stale;
 * other threads meanwhile use the state as it was. */
static void current(request_rec *r, tz_schema_info_t *out)
{
    apr_time_t now = apr_time_now();
    tz_schema_cache_t *e;
    tz_schema_info_t fresh;
    int refresh;
    if (!tz_schema_lock || apr_thread_mutex_lock(tz_schema_lock) != APR_SUCCESS) {
        tz_schema_read(r, out);
        return;
    }
    e = entry(r);
    refresh = !e->checking && (e->info.state == TZ_SCHEMA_UNCHECKED ||
                               now - e->checked_at >= ttl(e->info.state));
    e->checking |= refresh;
    *out = e->info;
    apr_thread_mutex_unlock(tz_schema_lock);
    if (!refresh)
        return;
    tz_schema_read(r, &fresh);
    apr_thread_mutex_lock(tz_schema_lock);
    e->info = fresh;
    e->checked_at = apr_time_now();
    e->checking = 0;
    if (fresh.state != e->logged)
        log_change(r, &fresh);
    e->logged = fresh.state;
    apr_thread_mutex_unlock(tz_schema_lock);
    *out = fresh;
}

int tz_schema_ready(request_rec *r, tz_handler_fn route)
{
    tz_schema_info_t i;
    if (route == tz_h_health || route == tz_h_health_detailed || route == tz_h_openapi ||
        route == tz_h_metrics)
        return OK;
    current(r, &i);
    if (i.state != TZ_SCHEMA_BEHIND)
        return OK;
    apr_table_setn(r->headers_out, "Retry-After", "5");
    tz_send_problem(r, HTTP_SERVICE_UNAVAILABLE, "schema_behind", apr_psprintf(r->pool,
        "the database schema (%" APR_INT64_T_FMT ", functions %.12s) is behind this server's"
        " (%d, functions %.12s): run `tipzedctl migrate` with this release's sql directory",
        i.version, *i.digest ? i.digest : "none", TZ_SCHEMA_VERSION, TZ_SCHEMA_DIGEST));
    return DONE;
}
