/* jansson glue: pool-tied lifetimes, strict parsing, field validation. */
#include <string.h>
#include <stdlib.h>
#include "tz_json.h"
#include "apr_strings.h"

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

json_t *tz_json_parse(apr_pool_t *p, const char *buf, size_t len, const char **err)
{
    json_error_t e;
    json_t *j = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &e);
    if (!j) {
        if (err)
            *err = apr_psprintf(p, "%s at line %d column %d", e.text, e.line, e.column);
        return NULL;
    }
    return tz_json_pool(p, j);
}

char *tz_json_dump(apr_pool_t *p, const json_t *j)
{
    char *s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
    char *out = apr_pstrdup(p, s ? s : "null");
    free(s);
    return out;
}

size_t tz_utf8_len(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

static void add_error(json_t *errors, const char *field, const char *msg)
{
    json_array_append_new(errors, json_pack("{s:s, s:s}", "field", field, "message", msg));
}

#define TZ_MAX_SAFE_AMOUNT 9007199254740992LL /* 2^53 */

/* The message for one field, or NULL when it is valid. */
static const char *check_field(apr_pool_t *p, const tz_field_t *f, json_t *v)
{
    switch (f->type) {
    case TZ_F_NULLABLE_STRING:
        if (json_is_null(v))
            return NULL;
        /* fall through */
    case TZ_F_STRING: {
        if (!json_is_string(v))
            return "must be a string";
        size_t n = tz_utf8_len(json_string_value(v));
        if (f->min > 0 && n < (size_t)f->min)
            return f->min == 1 ? "must not be empty"
                               : apr_psprintf(p, "must be at least %" APR_INT64_T_FMT " characters", (apr_int64_t)f->min);
        if (f->max > 0 && n > (size_t)f->max)
            return apr_psprintf(p, "must be at most %" APR_INT64_T_FMT " characters", (apr_int64_t)f->max);
        return NULL;
    }
    case TZ_F_INT:
        if (!json_is_integer(v))
            return "must be an integer";
        if (json_integer_value(v) < f->min || json_integer_value(v) > f->max)
            return apr_psprintf(p, "must be between %" APR_INT64_T_FMT " and %" APR_INT64_T_FMT,
                                (apr_int64_t)f->min, (apr_int64_t)f->max);
        return NULL;
    case TZ_F_AMOUNT:
        if (!json_is_integer(v))
            return "must be an integer";
        if (json_integer_value(v) <= 0)
            return "must be positive";
        if (json_integer_value(v) > TZ_MAX_SAFE_AMOUNT)
            return "is too large";
        return NULL;
    case TZ_F_BOOL:
        return json_is_boolean(v) ? NULL : "must be a boolean";
    }
    return "is invalid";
}

json_t *tz_json_validate(apr_pool_t *p, json_t *obj, const tz_field_t *fields, size_t n)
{
    json_t *errors = tz_json_pool(p, json_array());
    const char *key;
    json_t *v;
    for (size_t i = 0; i < n; i++) {
        v = json_object_get(obj, fields[i].name);
        if (!v) {
            if (fields[i].required)
                add_error(errors, fields[i].name, "is required");
            continue;
        }
        const char *msg = check_field(p, &fields[i], v);
        if (msg)
            add_error(errors, fields[i].name, msg);
    }
    json_object_foreach(obj, key, v) {
        size_t i = 0;
        while (i < n && strcmp(fields[i].name, key) != 0)
            i++;
        if (i == n)
            add_error(errors, key, "is not a known field");
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
