/* Mail templates (see tz_mailtmpl.h).  Deliberately no language: fields
 * in, text out, so an operator's own template can do nothing but print
 * what the event already carries. */
#include <string.h>
#include <strings.h>
#include <apr_strings.h>
#include <apr_tables.h>
#include "tz_mailtmpl.h"

#define TZ_TMPL_NAME_CHAR(c)                                                              \
    (((c) >= 'a' && (c) <= 'z') || ((c) >= 'A' && (c) <= 'Z') || ((c) >= '0' && (c) <= '9') || \
     (c) == '_' || (c) == '-')

/* Dot-separated segments of name characters, none empty. */
static int tz_tmpl_name_ok(const char *name)
{
    int seg = 0;
    for (const char *c = name; *c; c++) {
        if (*c == '.') {
            if (seg == 0)
                return 0;
            seg = 0;
        } else if (TZ_TMPL_NAME_CHAR(*c)) {
            seg++;
        } else {
            return 0;
        }
    }
    return seg > 0;
}

/* The value at a dotted path of data as text; "" when it is missing, null,
 * an object or an array. */
static const char *tz_tmpl_value(apr_pool_t *p, const json_t *data, const char *path)
{
    char *copy = apr_pstrdup(p, path), *last = NULL;
    const json_t *v = data;
    for (char *seg = apr_strtok(copy, ".", &last); seg && v; seg = apr_strtok(NULL, ".", &last))
        v = json_is_object(v) ? json_object_get(v, seg) : NULL;
    if (json_is_string(v))
        return json_string_value(v);
    if (json_is_integer(v))
        return apr_psprintf(p, "%" APR_INT64_T_FMT, (apr_int64_t)json_integer_value(v));
    if (json_is_real(v))
        return apr_psprintf(p, "%.15g", json_real_value(v));
    if (json_is_boolean(v))
        return json_is_true(v) ? "true" : "false";
    return "";
}

/* CR and LF as spaces: a value must not end the subject's header line. */
static const char *tz_tmpl_one_line(apr_pool_t *p, const char *s)
{
    char *out;
    if (!strpbrk(s, "\r\n"))
        return s;
    out = apr_pstrdup(p, s);
    for (char *c = out; *c; c++)
        if (*c == '\r' || *c == '\n')
            *c = ' ';
    return out;
}

/* The placeholder between open and close ("{{" and "}}") filled in. */
static const char *tz_tmpl_field(apr_pool_t *p, const char *open, const char *close,
                                 const json_t *data, const char **error)
{
    const char *a = open + 2, *b = close;
    while (a < b && (*a == ' ' || *a == '\t'))
        a++;
    while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
        b--;
    char *name = apr_pstrmemdup(p, a, (apr_size_t)(b - a));
    if (!tz_tmpl_name_ok(name)) {
        *error = apr_psprintf(p, "\"%s\" is not a field name",
                              apr_pstrmemdup(p, open, (apr_size_t)(close + 2 - open)));
        return NULL;
    }
    return tz_tmpl_value(p, data, name);
}

/* text with its placeholders filled in (one_line: values made one line).
 * NULL with *error when a "{{" is not closed or names no field. */
static const char *tz_tmpl_fill(apr_pool_t *p, const char *text, const json_t *data, int one_line,
                                const char *where, const char **error)
{
    apr_array_header_t *parts = apr_array_make(p, 16, sizeof(const char *));
    const char *s = text, *open, *close, *v;
    while ((open = strstr(s, "{{"))) {
        APR_ARRAY_PUSH(parts, const char *) = apr_pstrmemdup(p, s, (apr_size_t)(open - s));
        if (!(close = strstr(open + 2, "}}"))) {
            *error = apr_psprintf(p, "a \"{{\" in the %s is not closed by \"}}\"", where);
            return NULL;
        }
        if (!(v = tz_tmpl_field(p, open, close, data, error)))
            return NULL;
        APR_ARRAY_PUSH(parts, const char *) = one_line ? tz_tmpl_one_line(p, v) : v;
        s = close + 2;
    }
    APR_ARRAY_PUSH(parts, const char *) = s;
    return apr_array_pstrcat(p, parts, '\0');
}

/* Splits the template: the subject template (blanks around it dropped)
 * and where the body begins.  -1 with *error when the shape is wrong. */
static int tz_tmpl_split(apr_pool_t *p, const char *t, const char **subject, const char **body,
                         const char **error)
{
    const char *eol, *a, *b;
    if (strncmp(t, "\xef\xbb\xbf", 3) == 0)
        t += 3; /* a byte order mark some editors put first */
    if (strncasecmp(t, "Subject:", 8) != 0) {
        *error = "the first line must be \"Subject: ...\"";
        return -1;
    }
    eol = t + strcspn(t, "\n");
    for (a = t + 8; a < eol && (*a == ' ' || *a == '\t'); a++)
        ;
    for (b = eol; b > a && (b[-1] == ' ' || b[-1] == '\t' || b[-1] == '\r'); b--)
        ;
    if (*eol != '\n' || !(eol[1] == '\n' || (eol[1] == '\r' && eol[2] == '\n'))) {
        *error = "the Subject line must be followed by an empty line";
        return -1;
    }
    *subject = apr_pstrmemdup(p, a, (apr_size_t)(b - a));
    *body = eol + (eol[1] == '\n' ? 2 : 3);
    return 0;
}

int tz_mailtmpl_render(apr_pool_t *p, const char *tmpl, const json_t *data, const char **subject,
                       const char **body, const char **error)
{
    const char *subj_t, *body_t, *s, *b;
    *error = NULL;
    if (!tmpl) {
        *error = "no template";
        return -1;
    }
    if (tz_tmpl_split(p, tmpl, &subj_t, &body_t, error) != 0 ||
        !(s = tz_tmpl_fill(p, subj_t, data, 1, "subject", error)) ||
        !(b = tz_tmpl_fill(p, body_t, data, 0, "body", error)))
        return -1;
    *subject = tz_tmpl_one_line(p, s); /* a stray CR of the template's own line too */
    *body = b;
    return 0;
}
