/* RFC 9457 problem details.  The builder never fails on odd input: a problem
 * is the answer to bad input, so it must always render. */
#include "tz_problem.h"
#include "apr_strings.h"

const char *tz_status_title(int status)
{
    switch (status) {
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 413: return "Content Too Large";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Content";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return status >= 500 ? "Server Error" : "Client Error";
    }
}

/* A JSON string of s; text that is not valid UTF-8 (jansson refuses it) is
 * sent with every byte outside printable ASCII replaced by '?'. */
static json_t *safe_string(apr_pool_t *p, const char *s)
{
    json_t *j = json_string(s);
    if (!j) {
        char *c, *copy = apr_pstrdup(p, s);
        for (c = copy; *c; c++)
            if ((unsigned char)*c < 0x20 || (unsigned char)*c > 0x7e)
                *c = '?';
        j = json_string(copy);
    }
    return j;
}

json_t *tz_problem_new(apr_pool_t *p, int status, const char *code, const char *detail,
                       json_t *errors)
{
    json_t *j = json_object();
    const char *title = tz_status_title(status);
    if (!code || !*code)
        code = status >= 500 ? "internal_error" : "error";
    json_object_set_new(j, "type", safe_string(p, apr_pstrcat(p, TZ_PROBLEM_TYPE_BASE, code, NULL)));
    json_object_set_new(j, "title", json_string(title));
    json_object_set_new(j, "status", json_integer(status));
    json_object_set_new(j, "detail", safe_string(p, detail ? detail : title));
    json_object_set_new(j, "code", safe_string(p, code));
    if (errors)
        json_object_set(j, "errors", errors);
    return tz_json_pool(p, j);
}

json_t *tz_problem_field(apr_pool_t *p, const char *field, const char *message)
{
    json_t *e = json_object(), *a = json_array();
    json_object_set_new(e, "field", safe_string(p, field ? field : ""));
    json_object_set_new(e, "message", safe_string(p, message ? message : "is invalid"));
    json_array_append_new(a, e);
    return tz_json_pool(p, a);
}
