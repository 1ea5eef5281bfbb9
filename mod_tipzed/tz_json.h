/* jansson glue: pool-tied lifetimes, strict parsing, field validation.
 * The only header that exposes jansson to the rest of the module. */
#ifndef TZ_JSON_H
#define TZ_JSON_H
#include <stddef.h>
#include <stdint.h>
#include <apr_pools.h>
#include <jansson.h>

/* Ties j to p: json_decref runs when p is cleared.  Returns j (NULL passes through). */
json_t *tz_json_pool(apr_pool_t *p, json_t *j);

/* Parses exactly len bytes (no NUL terminator needed) with duplicate keys
 * rejected.  The result is pool-tied.  On failure returns
 * NULL and *err (from p) says why ("duplicate object key 'a' at line 1"). */
json_t *tz_json_parse(apr_pool_t *p, const char *buf, size_t len, const char **err);

/* Compact UTF-8 serialisation from p (never NULL for a valid json_t). */
char *tz_json_dump(apr_pool_t *p, const json_t *j);

typedef enum {
    TZ_F_STRING,   /* JSON string; length limits in Unicode code points */
    TZ_F_INT,      /* JSON integer (not real) within [min, max] */
    TZ_F_AMOUNT,   /* JSON integer 1..2^53 (money in minor units) */
    TZ_F_BOOL,
    TZ_F_NULLABLE_STRING, /* string or null */
    TZ_F_ARRAY            /* array or null; its elements are the handler's to check */
} tz_field_type_e;

typedef struct {
    const char *name;
    tz_field_type_e type;
    int required;
    int64_t min, max;     /* STRING: code-point length bounds (max 0 = no limit); INT: value bounds */
} tz_field_t;

/* The message for a key the fields table does not name; handlers that
 * accept no body fields use it too, so every endpoint says the same. */
#define TZ_MSG_UNKNOWN_FIELD "is not a known field"

/* Validates obj (must be a JSON object) against fields: missing required
 * fields, wrong types, out-of-range values, and unknown fields each give an
 * error {"field": name, "message": text}, in the order of fields, then the
 * unknown keys in body order.  Messages: "is required", "must be a string",
 * "must be an integer", "must be a boolean", "must be an array", "must not
 * be empty", "must be at least N characters", "must be at most N
 * characters", "must be between A and B", "must be positive", "is too
 * large", TZ_MSG_UNKNOWN_FIELD; a non-object
 * gives {"field": "body", "message": "must be a JSON object"}.  Returns NULL
 * when valid, else a pool-tied JSON array of errors. */
json_t *tz_json_validate(apr_pool_t *p, json_t *obj, const tz_field_t *fields, size_t n);

/* Convenience getters for validated objects: NULL / dflt when absent or null. */
const char *tz_json_str(json_t *obj, const char *key);
int64_t tz_json_int(json_t *obj, const char *key, int64_t dflt);

/* Number of Unicode code points in a valid UTF-8 string. */
size_t tz_utf8_len(const char *s);

#endif
