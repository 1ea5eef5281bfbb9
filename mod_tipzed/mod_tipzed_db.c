/* PostgreSQL through mod_dbd, in the manner of mod_authn_dbd: acquire the
 * request's connection, run one labelled statement, read its rows to the
 * end.  Every statement of tz_sql.c calls one SQL function that answers a
 * single value, so a call is one round trip and one transaction.
 *
 * apr_dbd_pgsql does not reconnect by itself: after PostgreSQL restarts, a
 * pooled connection fails once with a connection-class error, and when the
 * driver resets it on the next acquire the new session has none of the
 * prepared statements (SQLSTATE 26000).  Either way the connection is reset
 * if needed, every statement is prepared again under the same label, and
 * the call is retried once.  A retry is safe: a statement that failed this
 * way never committed, and the money-moving functions are idempotent by
 * their references besides. */
#include "mod_tipzed_db.h"
#include "mod_tipzed_http.h"
#include "mod_tipzed_metrics.h"
#include "apr_dbd.h"
#include "mod_dbd.h"
#include "apr_thread_mutex.h"
#include <libpq-fe.h>

void tz_db_register(apr_pool_t *p, server_rec *s)
{
    APR_OPTIONAL_FN_TYPE(ap_dbd_prepare) *prepare = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_prepare);
    if (!prepare) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, APLOGNO(10510)
                     "tipzed: mod_dbd is not loaded; LoadModule dbd_module first");
        return;
    }
    for (int i = 0; i < TZ_Q__COUNT; i++)
        prepare(s, tz_statements[i].sql, tz_statements[i].label);
}

/* The SQLSTATE of the last error, read from the verbose message
 * ("ERROR:  26000: prepared statement ... does not exist"): apr_dbd
 * reports only the message text. */
static const char *sqlstate(apr_pool_t *p, PGconn *conn)
{
    const char *m = PQerrorMessage(conn);
    const char *c = m ? strstr(m, ":  ") : NULL;
    if (!c || strlen(c) < 9 || c[8] != ':')
        return "";
    return apr_pstrmemdup(p, c + 3, 5);
}

/* A lost session: an error with no SQLSTATE at all comes from libpq, not
 * the server ("server closed the connection unexpectedly" can leave
 * PQstatus() still CONNECTION_OK until the next call). */
static int lost(PGconn *conn, const char *state)
{
    return PQstatus(conn) != CONNECTION_OK || !*state || strncmp(state, "08", 2) == 0 ||
           strncmp(state, "57P", 3) == 0;
}

/* Resets a lost session and prepares every statement on it again; 0 when
 * the connection can be used. */
static int recover(server_rec *s, ap_dbd_t *dbd, PGconn *conn, const char *state)
{
    if (!lost(conn, state) && strcmp(state, "26000") != 0)
        return -1;
    if (lost(conn, state)) {
        PQreset(conn);
        if (PQstatus(conn) != CONNECTION_OK)
            return -1;
    }
    PQsetErrorVerbosity(conn, PQERRORS_VERBOSE);
    for (int i = 0; i < TZ_Q__COUNT; i++) {
        apr_dbd_prepared_t *stmt = NULL;
        if (apr_dbd_prepare(dbd->driver, dbd->pool, dbd->handle, tz_statements[i].sql,
                            tz_statements[i].label, &stmt) != 0)
            return -1;
        apr_hash_set(dbd->prepared, tz_statements[i].label, APR_HASH_KEY_STRING, stmt);
    }
    tz_metrics_db(TZ_MDB_RECONNECT);
    ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, s, APLOGNO(10511)
                 "tipzed: database connection re-established, statements prepared again");
    return 0;
}

/* A call PostgreSQL rolled back to break a deadlock or a serialization
 * conflict: every call is one whole transaction, so it simply runs again.
 * Entries lock their accounts in one global order, but a call that posts
 * several (a credit and the cashback it earns, a refund and the bonus it
 * takes back) can meet another in the opposite order; PostgreSQL then
 * aborts one of them. */
static int conflict(const char *state)
{
    return strcmp(state, "40P01") == 0 || strcmp(state, "40001") == 0;
}

/* What an operator should do about the errors a deployment causes. */
static const char *what_to_do(apr_pool_t *p, const char *state, const char *role)
{
    if (strcmp(state, "42501") == 0) /* insufficient_privilege */
        return apr_pstrcat(p, " -- the role Apache connects as (", role ? role : "?",
                           ") may not run it: as the owner of the schema, run "
                           "tipzedctl migrate --runtime-role ", role ? role : "<role>", NULL);
    if (strcmp(state, "42883") == 0 || strcmp(state, "42P01") == 0) /* no such function, table */
        return " -- the database's schema is older than this module: run tipzedctl migrate";
    return "";
}

/* Runs q on dbd and reads its single value (random access, so an error
 * cannot hide in a row read; every row is read, which releases the
 * result).  Retries once after recovering from a restarted server, and
 * up to twice a call rolled back by a conflict. */
static int query(apr_pool_t *p, server_rec *s, ap_dbd_t *dbd, tz_query_e q, const char **args,
                 const char **value)
{
    PGconn *conn = apr_dbd_native_handle(dbd->driver, dbd->handle);
    *value = NULL;
    PQsetErrorVerbosity(conn, PQERRORS_VERBOSE);
    for (int attempt = 0;; attempt++) {
        apr_dbd_prepared_t *stmt = apr_hash_get(dbd->prepared, tz_statements[q].label,
                                                APR_HASH_KEY_STRING);
        apr_dbd_results_t *res = NULL;
        apr_dbd_row_t *row = NULL;
        tz_metrics_db(TZ_MDB_QUERY);
        if (stmt && apr_dbd_pselect(dbd->driver, p, dbd->handle, &res, stmt, 1,
                                    tz_statements[q].nargs, args) == 0) {
            /* the driver reads SQL NULL as ""; no statement answers a
             * meaningful empty string, so "" is NULL */
            while (apr_dbd_get_row(dbd->driver, p, res, &row, -1) == 0) {
                const char *v = apr_dbd_get_entry(dbd->driver, row, 0);
                if (!*value && v && *v)
                    *value = apr_pstrdup(p, v);
            }
            return OK;
        }
        const char *state = sqlstate(p, conn);
        if (conflict(state) ? attempt >= 2 : (attempt > 0 || recover(s, dbd, conn, state) != 0))
            break;
        if (conflict(state))
            tz_metrics_db(TZ_MDB_CONFLICT_RETRY);
    }
    tz_metrics_db(TZ_MDB_ERROR);
    ap_log_error(APLOG_MARK, APLOG_ERR, 0, s, APLOGNO(10513) "tipzed: %s failed: %s%s",
                 tz_statements[q].label, apr_dbd_error(dbd->driver, dbd->handle, 0),
                 what_to_do(p, sqlstate(p, conn), PQuser(conn)));
    return HTTP_SERVICE_UNAVAILABLE;
}

/* The request's connection (mod_dbd releases it with the request). */
static ap_dbd_t *acquire(request_rec *r)
{
    ap_dbd_t *dbd = ap_dbd_acquire(r);
    tz_metrics_db(dbd ? TZ_MDB_ACQUIRE_REQUEST_OK : TZ_MDB_ACQUIRE_REQUEST_FAIL);
    if (dbd)
        tz_metrics_db_held(r);
    if (!dbd)
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, APLOGNO(10512)
                      "tipzed: no database connection available");
    return dbd;
}

int tz_db_value(request_rec *r, tz_query_e q, const char **args, const char **value)
{
    return tz_db_value_in(r, r->pool, q, args, value);
}

int tz_db_value_in(request_rec *r, apr_pool_t *p, tz_query_e q, const char **args,
                   const char **value)
{
    ap_dbd_t *dbd = acquire(r);
    *value = NULL;
    return dbd ? query(p, r->server, dbd, q, args, value) : HTTP_SERVICE_UNAVAILABLE;
}

int tz_db_server_json(apr_pool_t *p, server_rec *s, tz_query_e q, const char **args,
                      json_t **out)
{
    const char *text = NULL, *err;
    int rc = tz_db_server_value(p, s, q, args, &text);
    *out = NULL;
    if (rc != OK || !text)
        return rc;
    if (!(*out = tz_json_parse(p, text, strlen(text), &err))) {
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, s, APLOGNO(10606)
                     "tipzed: %s returned invalid JSON: %s", tz_statements[q].label, err);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    return OK;
}

int tz_db_json(request_rec *r, tz_query_e q, const char **args, json_t **out)
{
    return tz_db_json_in(r, r->pool, q, args, out);
}

int tz_db_json_in(request_rec *r, apr_pool_t *p, tz_query_e q, const char **args, json_t **out)
{
    ap_dbd_t *dbd = acquire(r);
    const char *text = NULL, *err;
    int rc = dbd ? query(p, r->server, dbd, q, args, &text) : HTTP_SERVICE_UNAVAILABLE;
    *out = NULL;
    if (rc != OK || !text)
        return rc;
    if (!(*out = tz_json_parse(p, text, strlen(text), &err))) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, APLOGNO(10514)
                      "tipzed: %s returned invalid JSON: %s", tz_statements[q].label, err);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    return OK;
}

/* Connections taken outside requests (the watchdog's) and a child's exit.
 * mod_dbd's pool of connections lives in a subpool of the child's pool,
 * destroyed before the child pool's cleanups stop mod_watchdog's thread:
 * a connection still out then trips apr_reslist's assertion and aborts
 * the child (seen in a graceful restart during a watchdog run).  So every
 * such use holds server_db_lock, and a pre-cleanup of the child pool --
 * run before any subpool goes -- waits for the one in flight and refuses
 * the rest.  The lock lives in the process pool, which outlives them all. */
static apr_thread_mutex_t *server_db_lock;
static int server_db_closed;

static apr_status_t server_db_close(void *unused)
{
    apr_thread_mutex_lock(server_db_lock);
    server_db_closed = 1;
    apr_thread_mutex_unlock(server_db_lock);
    return APR_SUCCESS;
}

void tz_db_child_init(apr_pool_t *p, server_rec *s)
{
    if (apr_thread_mutex_create(&server_db_lock, APR_THREAD_MUTEX_DEFAULT, s->process->pool)
        != APR_SUCCESS) {
        server_db_lock = NULL;
        return;
    }
    apr_pool_pre_cleanup_register(p, NULL, server_db_close);
}

int tz_db_server_value(apr_pool_t *p, server_rec *s, tz_query_e q, const char **args,
                       const char **value)
{
    ap_dbd_t *dbd;
    int rc = HTTP_SERVICE_UNAVAILABLE;
    *value = NULL;
    if (!server_db_lock)
        return rc;
    apr_thread_mutex_lock(server_db_lock);
    if (!server_db_closed) {
        dbd = ap_dbd_open(p, s);
        tz_metrics_db(dbd ? TZ_MDB_ACQUIRE_BG_OK : TZ_MDB_ACQUIRE_BG_FAIL);
        if (dbd) {
            tz_metrics_db_background(1);
            rc = query(p, s, dbd, q, args, value);
            ap_dbd_close(s, dbd);
            tz_metrics_db_background(-1);
        }
    }
    apr_thread_mutex_unlock(server_db_lock);
    return rc;
}

void tz_audit(tz_req_t *q, const char *actor, const char *action, const char *type,
              const char *target, const char *note)
{
    const char *args[6] = {actor, action, type, target, note, q->request_id}, *ignored;
    if (tz_db_value(q->r, TZ_Q_AUDIT, args, &ignored) != OK)
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, q->r, APLOGNO(10580)
                      "tipzed: audit entry %s for %s was not written", action, target);
}
