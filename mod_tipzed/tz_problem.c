/* RFC 9457 problem details. */
#include "tz_problem.h"
#include "tz_json.h"
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

json_t *tz_problem_new(apr_pool_t *p, int status, const char *code, const char *detail,
                       json_t *errors)
{
    json_t *j = json_pack("{s:s, s:s, s:i, s:s, s:s}",
                          "type", apr_pstrcat(p, TZ_PROBLEM_TYPE_BASE, code, NULL),
                          "title", tz_status_title(status), "status", status,
                          "detail", detail ? detail : tz_status_title(status), "code", code);
    if (j && errors)
        json_object_set(j, "errors", errors);
    return tz_json_pool(p, j);
}

json_t *tz_problem_field(apr_pool_t *p, const char *field, const char *message)
{
    return tz_json_pool(p, json_pack("[{s:s, s:s}]", "field", field, "message", message));
}
