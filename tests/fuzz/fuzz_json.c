/* Request-body validation: tz_json_parse + tz_json_validate against the
 * real request schemas (tz_schema.h).  The first byte picks the schema,
 * the rest is the body. */
#include "fuzz_common.h"
#include "tz_json.h"
#include "tz_schema.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    const tz_schema_t *s;
    const char *err = NULL;
    json_t *body, *errors;
    if (size < 1)
        return 0;
    p = tz_fuzz_pool();
    s = tz_schemas[data[0] % tz_schemas_n];
    body = tz_json_parse(p, (const char *)data + 1, size - 1, &err);
    if (!body) {
        TZ_FUZZ_ASSERT(err != NULL);
    } else {
        errors = tz_json_validate(p, body, s->fields, s->n);
        if (errors) {
            TZ_FUZZ_ASSERT(json_is_array(errors) && json_array_size(errors) > 0);
            (void)tz_json_dump(p, errors);
        } else {
            /* Valid: every field reads back with its declared type and bounds. */
            TZ_FUZZ_ASSERT(json_is_object(body));
            for (size_t i = 0; i < s->n; i++) {
                const tz_field_t *f = &s->fields[i];
                json_t *v = json_object_get(body, f->name);
                if (f->type == TZ_F_STRING || f->type == TZ_F_NULLABLE_STRING) {
                    const char *str = tz_json_str(body, f->name);
                    TZ_FUZZ_ASSERT(str || !f->required);
                    if (str && f->max)
                        TZ_FUZZ_ASSERT((int64_t)tz_utf8_len(str) <= f->max);
                    if (str)
                        TZ_FUZZ_ASSERT((int64_t)tz_utf8_len(str) >= f->min);
                } else if (f->type == TZ_F_AMOUNT && v) {
                    int64_t a = tz_json_int(body, f->name, -1);
                    TZ_FUZZ_ASSERT(a >= 1 && a <= (INT64_C(1) << 53));
                } else if (f->type == TZ_F_ARRAY && v) {
                    TZ_FUZZ_ASSERT(json_is_array(v) || json_is_null(v));
                }
            }
        }
        (void)tz_json_dump(p, body);
    }
    apr_pool_destroy(p);
    return 0;
}
