/* PostgreSQL through mod_dbd: the labelled statements of tz_sql.c, and
 * recovery from a restarted server (PITFALLS 2-4).
 *
 * After PostgreSQL restarts, a pooled connection fails once with a
 * connection-class error; apr_dbd_check_conn() then PQreset()s it on the
 * next acquire, and the new session has none of the prepared statements
 * (SQLSTATE 26000).  Either way we reset the connection if needed,
 * re-prepare every statement on it under the same labels, and retry once.
 * Every statement is a single autocommitted call, so a retry after a
 * statement that never reached the server is safe; money-moving functions
 * are idempotent by their references besides. */
#include "mod_tipzed.h"
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
 * ("ERROR:  26000: prepared statement ... does not exist"). */
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

static int recoverable(PGconn *conn, const char *state)
{
    return lost(conn, state) || strcmp(state, "26000") == 0;
}

static int reprepare(server_rec *s, ap_dbd_t *dbd, PGconn *conn, const char *state)
{
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
    ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, s, APLOGNO(10511)
                 "tipzed: database connection re-established, statements prepared again");
    return 0;
}

static int run_select(apr_pool_t *p, ap_dbd_t *dbd, tz_query_e q, const char **args,
                      apr_dbd_results_t **res)
{
    apr_dbd_prepared_t *stmt = apr_hash_get(dbd->prepared, tz_statements[q].label,
                                            APR_HASH_KEY_STRING);
    if (!stmt)
        return -1;
    *res = NULL;
    return apr_dbd_pselect(dbd->driver, p, dbd->handle, res, stmt, 1,
                           tz_statements[q].nargs, args);
}

/* Runs q on dbd, recovering once from a restarted server. */
static int select_on(apr_pool_t *p, server_rec *s, ap_dbd_t *dbd, tz_query_e q,
                     const char **args, apr_dbd_results_t **res)
{
    PGconn *conn = apr_dbd_native_handle(dbd->driver, dbd->handle);
    const char *state;
    PQsetErrorVerbosity(conn, PQERRORS_VERBOSE);
    if (run_select(p, dbd, q, args, res) == 0)
        return OK;
    state = sqlstate(p, conn);
    if (recoverable(conn, state) && reprepare(s, dbd, conn, state) == 0 &&
        run_select(p, dbd, q, args, res) == 0)
        return OK;
    ap_log_error(APLOG_MARK, APLOG_ERR, 0, s, APLOGNO(10513) "tipzed: %s failed: %s",
                 tz_statements[q].label, apr_dbd_error(dbd->driver, dbd->handle, 0));
    return HTTP_SERVICE_UNAVAILABLE;
}

int tz_db_select(request_rec *r, tz_query_e q, tz_rows_t *out, const char **args)
{
    ap_dbd_t *dbd = ap_dbd_acquire(r);
    if (!dbd) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, APLOGNO(10512)
                      "tipzed: no database connection available");
        return HTTP_SERVICE_UNAVAILABLE;
    }
    out->dbd = dbd;
    out->row = NULL;
    return select_on(r->pool, r->server, dbd, q, args, &out->res);
}

/* For work outside requests (the watchdog): a pooled connection of s,
 * released before returning; the first column of the first row. */
int tz_db_server_value(apr_pool_t *p, server_rec *s, tz_query_e q, const char **args,
                       const char **value)
{
    ap_dbd_t *dbd = ap_dbd_open(p, s);
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    int rc;
    *value = NULL;
    if (!dbd)
        return HTTP_SERVICE_UNAVAILABLE;
    rc = select_on(p, s, dbd, q, args, &res);
    while (rc == OK && apr_dbd_get_row(dbd->driver, p, res, &row, -1) == 0)
        if (!*value)
            *value = apr_pstrdup(p, apr_dbd_get_entry(dbd->driver, row, 0));
    ap_dbd_close(s, dbd);
    return rc;
}

/* Reads the next row into pool copies: the driver frees the result once
 * the last row has been read.  It also reads SQL NULL as "" (PITFALLS 7);
 * no statement of tz_sql.c returns a meaningful empty string, so "" is
 * reported as NULL. */
int tz_db_next(request_rec *r, tz_rows_t *rows, const char **cols, int ncols)
{
    if (apr_dbd_get_row(rows->dbd->driver, r->pool, rows->res, &rows->row, -1) != 0)
        return 0;
    for (int i = 0; i < ncols; i++) {
        const char *v = apr_dbd_get_entry(rows->dbd->driver, rows->row, i);
        cols[i] = v && *v ? apr_pstrdup(r->pool, v) : NULL;
    }
    return 1;
}

/* Reads the remaining rows so the result is released (STYLE: read to -1). */
static void drain(request_rec *r, tz_rows_t *rows)
{
    while (apr_dbd_get_row(rows->dbd->driver, r->pool, rows->res, &rows->row, -1) == 0)
        ;
}

int tz_db_value(request_rec *r, tz_query_e q, const char **args, const char **value)
{
    tz_rows_t rows;
    int rc = tz_db_select(r, q, &rows, args);
    *value = NULL;
    if (rc != OK)
        return rc;
    if (tz_db_next(r, &rows, value, 1))
        drain(r, &rows);
    return OK;
}

int tz_db_json(request_rec *r, tz_query_e q, const char **args, json_t **out)
{
    const char *text, *err;
    int rc = tz_db_value(r, q, args, &text);
    *out = NULL;
    if (rc != OK)
        return rc;
    if (!text)
        return OK;
    *out = tz_json_parse(r->pool, text, strlen(text), &err);
    if (!*out) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, APLOGNO(10514)
                      "tipzed: %s returned invalid JSON: %s", tz_statements[q].label, err);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    return OK;
}
