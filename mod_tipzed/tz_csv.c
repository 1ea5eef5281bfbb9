/* CSV exports: RFC 4180 quoting and the spreadsheet formula guard. */
#include "tz_csv.h"
#include "tz_json.h"
#include <stdio.h>
#include <string.h>
#include <apr_strings.h>

char *tz_csv_field(apr_pool_t *p, const char *s)
{
    if (!s)
        return "";
    int guard = strchr("=+-@\t\r", s[0]) != NULL && s[0] != '\0';
    int quote = guard || strpbrk(s, ",\"\r\n") != NULL;
    if (!quote)
        return apr_pstrdup(p, s);
    size_t n = strlen(s), extra = 0;
    for (const char *c = s; *c; c++)
        extra += *c == '"';
    char *out = apr_palloc(p, n + extra + guard + 3), *o = out;
    *o++ = '"';
    if (guard)
        *o++ = '\'';
    for (const char *c = s; *c; c++) {
        if (*c == '"')
            *o++ = '"';
        *o++ = *c;
    }
    *o++ = '"';
    *o = '\0';
    return out;
}

char *tz_csv_header(apr_pool_t *p, const char *const *cols, size_t n)
{
    char *line = "";
    for (size_t i = 0; i < n; i++)
        line = apr_pstrcat(p, line, i ? "," : "", tz_csv_field(p, cols[i]), NULL);
    return apr_pstrcat(p, line, "\r\n", NULL);
}

/* obj's value at a column name, following one "a.b" step. */
static json_t *column_value(apr_pool_t *p, json_t *obj, const char *col)
{
    const char *dot = strchr(col, '.');
    if (!dot)
        return json_object_get(obj, col);
    json_t *outer = json_object_get(obj, apr_pstrmemdup(p, col, (apr_size_t)(dot - col)));
    return json_is_object(outer) ? json_object_get(outer, dot + 1) : NULL;
}

static const char *value_text(apr_pool_t *p, json_t *v)
{
    switch (v ? json_typeof(v) : JSON_NULL) {
    case JSON_STRING:
        return tz_csv_field(p, json_string_value(v));
    case JSON_INTEGER:
        return apr_psprintf(p, "%" APR_INT64_T_FMT, (apr_int64_t)json_integer_value(v));
    case JSON_REAL: {
        char buf[32]; /* apr_psprintf's %g drops the leading zero */
        snprintf(buf, sizeof(buf), "%.17g", json_real_value(v));
        return apr_pstrdup(p, buf);
    }
    case JSON_TRUE:
        return "true";
    case JSON_FALSE:
        return "false";
    case JSON_NULL:
        return "";
    default:
        return tz_csv_field(p, tz_json_dump(p, v));
    }
}

char *tz_csv_row(apr_pool_t *p, json_t *obj, const char *const *cols, size_t n)
{
    char *line = "";
    for (size_t i = 0; i < n; i++)
        line = apr_pstrcat(p, line, i ? "," : "",
                           value_text(p, json_is_object(obj) ? column_value(p, obj, cols[i]) : NULL),
                           NULL);
    return apr_pstrcat(p, line, "\r\n", NULL);
}

apr_array_header_t *tz_csv_columns(apr_pool_t *p, json_t *obj)
{
    apr_array_header_t *cols = apr_array_make(p, 16, sizeof(const char *));
    const char *key;
    json_t *v;
    if (json_is_object(obj))
        json_object_foreach(obj, key, v)
            APR_ARRAY_PUSH(cols, const char *) = apr_pstrdup(p, key);
    return cols;
}
