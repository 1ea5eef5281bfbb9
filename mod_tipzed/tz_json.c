/* jansson glue: pool-tied lifetimes, strict parsing, field validation. */
#include <string.h>
#include <stdlib.h>
#include "tz_json.h"
#include "apr_strings.h"

/* 2^53: the largest integer every JSON client (IEEE doubles) holds exactly. */
#define TZ_MAX_SAFE_AMOUNT (INT64_C(1) << 53)

static apr_status_t json_cleanup(void *j)
{
    json_decref(j);
    return APR_SUCCESS;
}

json_t *tz_json_pool(apr_pool_t *p, json_t *j)
{
    if (j)
        apr_pool_cleanup_register(p, j, json_cleanup, apr_pool_cleanup_null);
    return j;
}

/* jansson quotes the bytes near the error, which may be invalid UTF-8 or
 * control characters from the request; the message goes back to the client
 * inside a JSON problem, so keep it printable ASCII. */
static char *printable(apr_pool_t *p, const char *s)
{
    char *out = apr_pstrdup(p, s);
    for (char *c = out; *c; c++)
        if ((unsigned char)*c < 0x20 || (unsigned char)*c > 0x7e)
            *c = '?';
    return out;
}

json_t *tz_json_parse(apr_pool_t *p, const char *buf, size_t len, const char **err)
{
    json_error_t e;
    json_t *j;
    /* No JSON_DECODE_ANY: the top level must be an object or array.  No
     * JSON_ALLOW_NUL: "\u0000" would truncate strings read back as C text. */
    j = json_loadb(buf ? buf : "", buf ? len : 0, JSON_REJECT_DUPLICATES, &e);
    if (!j) {
        if (err)
            *err = apr_psprintf(p, "%s at line %d column %d", printable(p, e.text), e.line,
                                e.column);
        return NULL;
    }
    return tz_json_pool(p, j);
}

/* Reals (never money: only measurements such as a round trip in
 * milliseconds) with 12 significant digits, so 2.837 reads "2.837" and
 * not the 17 digits of its binary value. */
char *tz_json_dump(apr_pool_t *p, const json_t *j)
{
    char *s = j ? json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(12)) : NULL;
    char *out = apr_pstrdup(p, s ? s : "null");
    free(s); /* jansson's allocator, not the pool */
    return out;
}

size_t tz_utf8_len(const char *s)
{
    size_t n = 0;
    if (!s)
        return 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80; /* count every non-continuation byte */
    return n;
}

static void add_error(json_t *errors, const char *field, const char *msg)
{
    json_t *e = json_object();
    json_object_set_new(e, "field", json_string(field));
    json_object_set_new(e, "message", json_string(msg));
    json_array_append_new(errors, e);
}

static const char *check_string(apr_pool_t *p, const tz_field_t *f, json_t *v)
{
    size_t n;
    if (!json_is_string(v))
        return "must be a string";
    n = tz_utf8_len(json_string_value(v));
    if (f->min > 0 && n < (uint64_t)f->min)
        return f->min == 1 ? "must not be empty"
                           : apr_psprintf(p, "must be at least %" APR_INT64_T_FMT " characters",
                                          (apr_int64_t)f->min);
    if (f->max > 0 && n > (uint64_t)f->max)
        return apr_psprintf(p, "must be at most %" APR_INT64_T_FMT " characters",
                            (apr_int64_t)f->max);
    return NULL;
}

/* Money: a JSON integer (10.5 and 1e2 are reals to jansson) in 1..2^53. */
static const char *check_amount(json_t *v)
{
    if (!json_is_integer(v))
        return "must be an integer";
    if (json_integer_value(v) <= 0)
        return "must be positive";
    if (json_integer_value(v) > TZ_MAX_SAFE_AMOUNT)
        return "is too large";
    return NULL;
}

/* The message for one present field, or NULL when it is valid. */
static const char *check_field(apr_pool_t *p, const tz_field_t *f, json_t *v)
{
    switch (f->type) {
    case TZ_F_NULLABLE_STRING:
        return json_is_null(v) ? NULL : check_string(p, f, v);
    case TZ_F_STRING:
        return check_string(p, f, v);
    case TZ_F_INT:
        if (!json_is_integer(v))
            return "must be an integer";
        if (json_integer_value(v) < f->min || json_integer_value(v) > f->max)
            return apr_psprintf(p, "must be between %" APR_INT64_T_FMT " and %" APR_INT64_T_FMT,
                                (apr_int64_t)f->min, (apr_int64_t)f->max);
        return NULL;
    case TZ_F_AMOUNT:
        return check_amount(v);
    case TZ_F_BOOL:
        return json_is_boolean(v) ? NULL : "must be a boolean";
    case TZ_F_ARRAY:
        return json_is_array(v) || json_is_null(v) ? NULL : "must be an array";
    }
    return "is invalid";
}

static int field_known(const tz_field_t *fields, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(fields[i].name, key) == 0)
            return 1;
    return 0;
}

json_t *tz_json_validate(apr_pool_t *p, json_t *obj, const tz_field_t *fields, size_t n)
{
    json_t *errors = tz_json_pool(p, json_array()), *v;
    const char *key, *msg;
    if (!json_is_object(obj)) {
        add_error(errors, "body", "must be a JSON object");
        return errors;
    }
    /* the table's order first, so the first error is stable for a given body */
    for (size_t i = 0; i < n; i++) {
        v = json_object_get(obj, fields[i].name);
        if (!v)
            msg = fields[i].required ? "is required" : NULL;
        else
            msg = check_field(p, &fields[i], v);
        if (msg)
            add_error(errors, fields[i].name, msg);
    }
    /* then unknown keys, in the body's order (jansson keeps insertion order) */
    json_object_foreach(obj, key, v) {
        if (!field_known(fields, n, key))
            add_error(errors, key, TZ_MSG_UNKNOWN_FIELD);
    }
    return json_array_size(errors) ? errors : NULL;
}

const char *tz_json_str(json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

int64_t tz_json_int(json_t *obj, const char *key, int64_t dflt)
{
    json_t *v = json_object_get(obj, key);
    return json_is_integer(v) ? (int64_t)json_integer_value(v) : dflt;
}
