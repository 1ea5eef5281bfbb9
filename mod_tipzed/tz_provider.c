/* The provider table: one row per adapter, indexed by tz_provider_id_e.
 * The rows themselves live with their adapters (tz_prov_*.c).  Also the
 * rules shared by every provider's refunds. */
#include <string.h>
#include "tz_provider.h"
#include "tz_json.h"
#include "apr_strings.h"

const tz_provider_t *const tz_providers[TZ_PROV__COUNT] = {
    [TZ_PROV_MOBILE_MONEY] = &tz_provider_generic,
    [TZ_PROV_FLUTTERWAVE] = &tz_provider_flutterwave,
    [TZ_PROV_STRIPE] = &tz_provider_stripe,
    [TZ_PROV_MOMO] = &tz_provider_momo,
    [TZ_PROV_SANDBOX] = &tz_provider_sandbox,
};

int tz_provider_id(const char *name)
{
    for (int i = 0; name && i < TZ_PROV__COUNT; i++)
        if (strcmp(name, tz_providers[i]->name) == 0)
            return i;
    return -1;
}

const char *tz_provider_names(apr_pool_t *p)
{
    const char *names = tz_providers[0]->name;
    for (int i = 1; i < TZ_PROV__COUNT; i++)
        names = apr_pstrcat(p, names, ", ", tz_providers[i]->name, NULL);
    return names;
}

const char *tz_refund_verdict(int answered, int http_status, tz_parse_status_e st,
                              const tz_event_t *v)
{
    if (!answered)
        return "unknown";
    if (http_status >= 200 && http_status <= 299) {
        if (st != TZ_PARSE_OK || v->kind != TZ_EV_REFUND || !v->refund_status)
            return "unknown";
        if (strcmp(v->refund_status, "succeeded") == 0 || strcmp(v->refund_status, "failed") == 0)
            return v->refund_status;
        return "pending";
    }
    if (http_status >= 400 && http_status <= 499 && http_status != 408 && http_status != 409 &&
        http_status != 425 && http_status != 429)
        return "failed";
    return "unknown";
}

/* A string member without embedded NUL, else NULL. */
static const char *tz_member_str(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    const char *s = json_string_value(v);
    return s && *s && strlen(s) == json_string_length(v) ? s : NULL;
}

const char *tz_provider_message(apr_pool_t *p, const char *body, size_t len)
{
    const char *err, *m;
    json_t *j = body && len ? tz_json_parse(p, body, len, &err) : NULL;
    size_t n;
    if (!json_is_object(j))
        return NULL;
    if (!(m = tz_member_str(j, "message")) &&
        !(m = tz_member_str(json_object_get(j, "error"), "message")) &&
        !(m = tz_member_str(j, "error")) && !(m = tz_member_str(j, "reason")))
        return NULL;
    n = strlen(m);
    if (n > 200) {
        n = 200;
        while (n > 0 && ((unsigned char)m[n] & 0xC0) == 0x80)
            n--; /* never half a character */
    }
    return apr_pstrndup(p, m, n);
}
