/* HTTP plumbing shared by every handler: JSON and problem responses, the
 * bounded body reader, query parameters, validation and pagination
 * answers, the client address, the API's base path. */
#include "mod_tipzed_http.h"
#include "http_core.h"
#include "tz_parse.h"
#include "tz_problem.h"
#include "tz_query.h"

static int send_text(request_rec *r, int status, const char *type, const char *text)
{
    r->status = status;
    ap_set_content_type(r, type);
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    ap_set_content_length(r, (apr_off_t)strlen(text));
    if (!r->header_only)
        ap_rputs(text, r);
    return OK;
}

int tz_send_json_text(request_rec *r, int status, const char *text)
{
    return send_text(r, status, "application/json", text);
}

int tz_send_json(request_rec *r, int status, json_t *j)
{
    return tz_send_json_text(r, status, tz_json_dump(r->pool, j));
}

int tz_send_problem_errors(request_rec *r, int status, const char *code, const char *detail,
                           json_t *errors)
{
    json_t *p = tz_problem_new(r->pool, status, code, detail, errors);
    return send_text(r, status, "application/problem+json", tz_json_dump(r->pool, p));
}

int tz_send_problem_json(request_rec *r, int status, json_t *problem)
{
    return send_text(r, status, "application/problem+json", tz_json_dump(r->pool, problem));
}

int tz_send_problem(request_rec *r, int status, const char *code, const char *detail)
{
    return tz_send_problem_errors(r, status, code, detail, NULL);
}

int tz_send_field_problem(request_rec *r, int status, const char *code, const char *field,
                          const char *message)
{
    return tz_send_problem_errors(r, status, code,
                                  apr_psprintf(r->pool, "%s %s", field, message),
                                  tz_problem_field(r->pool, field, message));
}

int tz_send_db_unavailable(request_rec *r)
{
    return tz_send_problem(r, HTTP_SERVICE_UNAVAILABLE, "database_unavailable", "please retry");
}

int tz_send_no_content(request_rec *r)
{
    r->status = HTTP_NO_CONTENT;
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    return OK;
}

/* Reads the whole body into pool memory, NUL-terminated.  Returns OK,
 * HTTP_REQUEST_ENTITY_TOO_LARGE when it exceeds limit (checked against
 * Content-Length first, then while reading chunked bodies), or
 * HTTP_BAD_REQUEST when the client sends a broken body. */
int tz_read_body(request_rec *r, apr_int64_t limit, char **buf, apr_size_t *len)
{
    const char *cl = apr_table_get(r->headers_in, "Content-Length");
    apr_size_t cap, n = 0;
    char *out;
    long got;
    if (cl && apr_atoi64(cl) > limit)
        return HTTP_REQUEST_ENTITY_TOO_LARGE;
    if (ap_setup_client_block(r, REQUEST_CHUNKED_DECHUNK) != OK)
        return HTTP_BAD_REQUEST;
    cap = (apr_size_t)limit + 1;
    out = apr_palloc(r->pool, cap + 1);
    if (ap_should_client_block(r)) {
        while ((got = ap_get_client_block(r, out + n, cap - n)) > 0) {
            n += (apr_size_t)got;
            if (n > (apr_size_t)limit) {
                r->connection->keepalive = AP_CONN_CLOSE;
                return HTTP_REQUEST_ENTITY_TOO_LARGE;
            }
        }
        if (got < 0)
            return HTTP_BAD_REQUEST;
    }
    out[n] = '\0';
    *buf = out;
    *len = n;
    return OK;
}

const char *tz_client_ip(request_rec *r)
{
    return r->useragent_ip ? r->useragent_ip : r->connection->client_ip;
}

/* 422 naming every invalid field; OK when the body passes. */
int tz_validate_or_422(tz_req_t *q, const tz_schema_t *schema)
{
    json_t *errors = tz_json_validate(q->r->pool, q->body, schema->fields, schema->n);
    if (!errors)
        return OK;
    json_t *first = json_array_get(errors, 0);
    const char *detail = apr_psprintf(q->r->pool, "%s %s",
                                      json_string_value(json_object_get(first, "field")),
                                      json_string_value(json_object_get(first, "message")));
    tz_send_problem_errors(q->r, HTTP_UNPROCESSABLE_ENTITY, "validation_failed", detail, errors);
    return DONE;
}

/* The dispatcher has refused malformed query strings (tz_query_check)
 * before any handler runs, so an error here cannot happen: it reads as absent. */
const char *tz_query_arg(request_rec *r, const char *name)
{
    const char *value;
    return tz_query_get(r->pool, r->args, name, &value) ? NULL : value;
}

/* Routes are relative to the <Location> the handler is mounted on. */
const char *tz_api_base(request_rec *r)
{
    const core_dir_config *core = ap_get_core_module_config(r->per_dir_config);
    const char *base = core && core->d && core->d[0] == '/' ? core->d : "";
    apr_size_t n = strlen(base);
    while (n && base[n - 1] == '/')
        n--;
    return apr_pstrmemdup(r->pool, base, n);
}

/* Never built from the request's Host header, which is the client's to
 * choose: a forged one would send payers and providers elsewhere. */
const char *tz_api_url(request_rec *r)
{
    const char *pub = tz_cfg(r)->public_url;
    return pub ? apr_pstrcat(r->pool, pub, tz_api_base(r), NULL) : NULL;
}

int tz_send_invalid(request_rec *r, const char *field, const char *message)
{
    return tz_send_field_problem(r, HTTP_UNPROCESSABLE_ENTITY, "validation_failed", field, message);
}
