/* PostgreSQL through mod_dbd: the labelled statements of tz_sql.c, each a
 * call of one SQL function that answers one value (text or JSON). */
#ifndef MOD_TIPZED_DB_H
#define MOD_TIPZED_DB_H
#include "mod_tipzed.h"
#include "tz_sql.h"

/* Registers every statement with mod_dbd (config time). */
void tz_db_register(apr_pool_t *p, server_rec *s);
/* Per child: what lets connections taken outside requests end before
 * mod_dbd's pool of them does (mod_tipzed_db.c). */
void tz_db_child_init(apr_pool_t *p, server_rec *s);
/* Runs statement q with text arguments (NULL = SQL NULL) on the request's
 * connection: *value is the single value it answered (NULL for no row or
 * SQL NULL).  OK, or 503 after logging; recovers once from a restarted
 * PostgreSQL. */
int tz_db_value(request_rec *r, tz_query_e q, const char **args, const char **value);
/* tz_db_value with the answer's memory from p (a subpool the caller clears
 * when done with it). */
int tz_db_value_in(request_rec *r, apr_pool_t *p, tz_query_e q, const char **args,
                   const char **value);
/* The same, the value parsed as JSON (NULL when SQL answered NULL). */
int tz_db_json(request_rec *r, tz_query_e q, const char **args, json_t **out);
/* tz_db_json with the answer's memory from p (a subpool the caller clears
 * when done with it), for callers that make many calls in one request. */
int tz_db_json_in(request_rec *r, apr_pool_t *p, tz_query_e q, const char **args, json_t **out);
/* For work outside requests (the watchdog): a pooled connection of s,
 * released before returning. */
int tz_db_server_value(apr_pool_t *p, server_rec *s, tz_query_e q, const char **args,
                       const char **value);
/* tz_db_server_value's answer parsed as JSON. */
int tz_db_server_json(apr_pool_t *p, server_rec *s, tz_query_e q, const char **args,
                      json_t **out);
/* Appends to the audit log (a failure is logged, never fatal). */
void tz_audit(tz_req_t *q, const char *actor, const char *action, const char *type,
              const char *target, const char *note);

#endif
