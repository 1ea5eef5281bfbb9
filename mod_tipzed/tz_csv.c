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

/* The reader's state: where it is, the record being built, the field. */
typedef struct {
    apr_pool_t *p;
    const char *s, *end;
    int line;
    apr_array_header_t *rec;
    char *buf; /* the field's bytes so far */
    size_t n, cap;
} tz_csv_reader_t;

/* A field's end (strchr would also find the NUL byte). */
static int is_sep(char c)
{
    return c == ',' || c == '\r' || c == '\n';
}

static void field_put(tz_csv_reader_t *r, char c)
{
    if (r->n + 1 >= r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 64;
        char *b = apr_palloc(r->p, cap);
        if (r->n)
            memcpy(b, r->buf, r->n);
        r->buf = b;
        r->cap = cap;
    }
    r->buf[r->n++] = c;
}

static void field_end(tz_csv_reader_t *r)
{
    APR_ARRAY_PUSH(r->rec, char *) = apr_pstrmemdup(r->p, r->n ? r->buf : "", r->n);
    r->n = 0;
}

/* A quoted field, from just after its opening quote to just after its
 * closing one; NULL or what is wrong. */
static const char *quoted_field(tz_csv_reader_t *r)
{
    int start = r->line;
    for (;;) {
        if (r->s >= r->end) {
            r->line = start; /* where it opened, not the end of the file */
            return "a quoted field is never closed";
        }
        char c = *r->s++;
        if (c == '\0')
            return "a NUL byte";
        if (c == '"') {
            if (r->s < r->end && *r->s == '"') {
                r->s++;
                field_put(r, '"');
                continue;
            }
            if (r->s < r->end && !is_sep(*r->s))
                return "text after a closing quote";
            return NULL;
        }
        if (c == '\n')
            r->line++;
        field_put(r, c);
    }
}

/* An unquoted field, up to the comma or line break that ends it. */
static const char *plain_field(tz_csv_reader_t *r)
{
    while (r->s < r->end && !is_sep(*r->s)) {
        if (*r->s == '\0')
            return "a NUL byte";
        if (*r->s == '"')
            return "a quote inside an unquoted field";
        field_put(r, *r->s++);
    }
    return NULL;
}

/* One record from r->s (not at the end); NULL or what is wrong.  A lone
 * empty field (an empty line) makes no record. */
static const char *one_record(tz_csv_reader_t *r, apr_array_header_t *records)
{
    r->rec = apr_array_make(r->p, 16, sizeof(char *));
    for (;;) {
        const char *why = *r->s == '"' ? (r->s++, quoted_field(r)) : plain_field(r);
        if (why)
            return why;
        field_end(r);
        if (r->s < r->end && *r->s == ',') {
            r->s++;
            continue;
        }
        if (r->s < r->end && *r->s == '\r')
            r->s++;
        if (r->s < r->end && *r->s == '\n')
            r->s++;
        r->line++;
        break;
    }
    if (!(r->rec->nelts == 1 && !*APR_ARRAY_IDX(r->rec, 0, char *)))
        APR_ARRAY_PUSH(records, apr_array_header_t *) = r->rec;
    return NULL;
}

const char *tz_csv_read(apr_pool_t *p, const char *buf, size_t len,
                        apr_array_header_t **records, int *line)
{
    tz_csv_reader_t r = {p, buf, buf + len, 1, NULL, NULL, 0, 0};
    *records = apr_array_make(p, 64, sizeof(apr_array_header_t *));
    *line = 1;
    if (len > TZ_CSV_MAX_BYTES)
        return "the file is larger than the reader takes";
    if (len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0)
        r.s += 3;
    while (r.s < r.end) {
        const char *why = one_record(&r, *records);
        if (why) {
            *line = r.line;
            return why;
        }
    }
    return NULL;
}

int tz_csv_column(const apr_array_header_t *header, const char *name)
{
    for (int i = 0; header && i < header->nelts; i++)
        if (strcmp(APR_ARRAY_IDX(header, i, const char *), name) == 0)
            return i;
    return -1;
}

const char *tz_csv_at(const apr_array_header_t *record, int i)
{
    return i >= 0 && i < record->nelts ? APR_ARRAY_IDX(record, i, const char *) : "";
}
