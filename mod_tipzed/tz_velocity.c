/* Velocity limits on payments: the rules and the keys (tz_velocity.h). */
#include <string.h>
#include <apr_strings.h>
#include "tz_velocity.h"
#include "tz_parse.h"
#include "tz_validate.h"

#define TZ_VEL_MAXWINDOW (7 * 86400)

static const char *const kind_names[TZ_VEL__COUNT] = {"fan", "ip", "instrument", "creator"};
static const char *const kind_phrases[TZ_VEL__COUNT] = {
    "payments by this payer", "payments from this client address",
    "payments with this payment instrument", "payments to this creator"};

int tz_vel_kind_id(const char *name)
{
    for (int i = 0; name && i < TZ_VEL__COUNT; i++)
        if (strcmp(name, kind_names[i]) == 0)
            return i;
    return -1;
}

const char *tz_vel_kind_name(tz_vel_kind_e kind)
{
    return (unsigned)kind < TZ_VEL__COUNT ? kind_names[kind] : "other";
}

const char *tz_vel_phrase(tz_vel_kind_e kind)
{
    return (unsigned)kind < TZ_VEL__COUNT ? kind_phrases[kind] : "payments";
}

const char *tz_vel_rule_parse(apr_pool_t *p, const char *kind, const char *count,
                              const char *window, tz_vel_rule_t *out)
{
    int k = tz_vel_kind_id(kind);
    int64_t n, w;
    if (k < 0)
        return apr_psprintf(p, "'%s': the kind must be fan, ip, instrument or creator", kind);
    if (tz_parse_int64(count, &n) || n < 1 || n > 1000000)
        return apr_psprintf(p, "'%s': the count must be an integer 1..1000000", count);
    if (tz_parse_duration(window, &w) || w > TZ_VEL_MAXWINDOW)
        return apr_psprintf(p, "'%s': the window must be a duration of 1s..7d", window);
    *out = (tz_vel_rule_t){(tz_vel_kind_e)k, (unsigned)n, w};
    return NULL;
}

const char *tz_vel_fan_user(apr_pool_t *p, const char *user_id)
{
    return user_id ? apr_pstrcat(p, "user:", user_id, NULL) : NULL;
}

const char *tz_vel_fan_email(apr_pool_t *p, const char *email)
{
    char *v = email ? apr_pstrcat(p, "email:", email, NULL) : NULL;
    for (char *c = v; c && *c; c++)
        if (*c >= 'A' && *c <= 'Z')
            *c = (char)(*c - 'A' + 'a');
    return v;
}

const char *tz_vel_msisdn(apr_pool_t *p, const char *digits)
{
    return digits && *digits ? apr_pstrcat(p, "msisdn:", digits, NULL) : NULL;
}

const char *tz_vel_card(apr_pool_t *p, const char *fingerprint)
{
    return fingerprint && *fingerprint ? apr_pstrcat(p, "card:", fingerprint, NULL) : NULL;
}

size_t tz_vel_limits(apr_pool_t *p, const tz_vel_rule_t *rules, size_t nrules,
                     const tz_vel_subject_t *s, tz_rl_limit_t *out, size_t *rule_of)
{
    size_t n = 0;
    for (size_t i = 0; i < nrules; i++) {
        const char *v = (unsigned)rules[i].kind < TZ_VEL__COUNT ? s->value[rules[i].kind] : NULL;
        if (!v)
            continue;
        out[n].key = apr_psprintf(p, "v:%s:%" APR_INT64_T_FMT ":%s",
                                  kind_names[rules[i].kind], (apr_int64_t)rules[i].window, v);
        out[n].limit = rules[i].count;
        out[n].window = rules[i].window;
        rule_of[n++] = i;
    }
    return n;
}

tz_rl_limit_t tz_vel_marker(apr_pool_t *p, const tz_rl_limit_t *counter)
{
    tz_rl_limit_t m = {apr_pstrcat(p, "b:", counter->key, NULL), 1, counter->window};
    return m;
}

const char *tz_vel_shown(apr_pool_t *p, tz_vel_kind_e kind, const char *value)
{
    const char *colon, *rest;
    size_t len;
    if (!value || kind != TZ_VEL_INSTRUMENT)
        return value;
    colon = strchr(value, ':');
    rest = colon ? colon + 1 : value;
    len = strlen(rest);
    return apr_pstrcat(p, colon ? apr_pstrndup(p, value, (apr_size_t)(rest - value)) : "",
                       "***", len >= 8 ? rest + len - 4 : "", NULL);
}

/* Breaches are kept 30 days (tz_api_velocity_breach drops older rows). */
#define TZ_VEL_KEPT (30 * 86400)

const char *tz_vel_list_args(const char *since, const char *kind, const char *limit,
                             int64_t now, int64_t *from, int64_t *n, const char **field)
{
    *from = now - 86400;
    *n = 20;
    *field = "since";
    if (since && (tz_parse_timestamp(since, 1, from) != 0 || *from > now ||
                  *from < now - TZ_VEL_KEPT))
        return "must be an RFC 3339 time within the last 30 days";
    *field = "kind";
    if (kind && tz_vel_kind_id(kind) < 0)
        return "must be fan, ip, instrument or creator";
    *field = "limit";
    if (limit && (tz_parse_int64(limit, n) || *n < 1 || *n > 100))
        return "must be an integer 1..100";
    *field = NULL;
    return NULL;
}
