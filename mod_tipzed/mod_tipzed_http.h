/* HTTP plumbing shared by every handler: JSON and RFC 9457 problem
 * responses, the bounded body reader, query parameters, validation and
 * pagination answers, the client address and the API's base path. */
#ifndef MOD_TIPZED_HTTP_H
#define MOD_TIPZED_HTTP_H
#include "mod_tipzed.h"
#include "tz_schema.h"

int tz_send_json(request_rec *r, int status, json_t *j);
int tz_send_json_text(request_rec *r, int status, const char *text);
int tz_send_problem(request_rec *r, int status, const char *code, const char *detail);
/* 422 validation_failed naming field: what a handler answers a bad value. */
int tz_send_invalid(request_rec *r, const char *field, const char *message);
int tz_send_field_problem(request_rec *r, int status, const char *code, const char *field,
                          const char *message);
int tz_send_problem_errors(request_rec *r, int status, const char *code, const char *detail,
                           json_t *errors);
/* A problem built with tz_problem_new (with members of its own added). */
int tz_send_problem_json(request_rec *r, int status, json_t *problem);
/* 503 database_unavailable: the answer to any failed database call. */
int tz_send_db_unavailable(request_rec *r);
int tz_send_no_content(request_rec *r);
int tz_read_body(request_rec *r, apr_int64_t limit, char **buf, apr_size_t *len);
const char *tz_client_ip(request_rec *r);
/* A decoded query-string parameter (the first if repeated), or NULL. */
const char *tz_query_arg(request_rec *r, const char *name);
/* 422 naming every field the schema refuses (returns DONE), or OK. */
int tz_validate_or_422(tz_req_t *q, const tz_schema_t *schema);
/* The <Location> path the handler is mounted on, without a trailing slash. */
const char *tz_api_base(request_rec *r);
/* The absolute URL of the API base from TipzedPublicURL, e.g.
 * "https://pay.example/api/v1"; NULL when it is not configured (then no
 * provider is enabled). */
const char *tz_api_url(request_rec *r);

#endif
