/* Velocity limits on payments (docs/risk.md, "Velocity limits").
 *
 * Counted in the velocity counter store (mod_tipzed_ratelimit.h: this
 * node's shared memory, or every node's rows in PostgreSQL, one step for
 * every rule at once, so a burst spread over the children -- or over the
 * nodes -- passes exactly the limit).  A
 * refusal is counted in the metrics each time, and written to the
 * database only the first time in each window of the key: a flood costs
 * one write per window, not one per request. */
#include "mod_tipzed_velocity.h"
#include "mod_tipzed_db.h"
#include "mod_tipzed_handlers.h"
#include "mod_tipzed_http.h"
#include "mod_tipzed_metrics.h"
#include "mod_tipzed_ratelimit.h"
#include "tz_problem.h"
#include "tz_validate.h"
#include "tz_velocity.h"

/* The first refusal of the key's window writes the breach; the others
 * only answer. */
static void record_breach(tz_req_t *q, tz_counters_t *c, const tz_rl_limit_t *hit,
                          const tz_vel_rule_t *rule, const char *value, apr_int64_t now)
{
    request_rec *r = q->r;
    tz_rl_limit_t marker = tz_vel_marker(r->pool, hit);
    apr_int64_t wait;
    const char *args[3], *shown = tz_vel_shown(r->pool, rule->kind, value), *ok;
    if (c->attempt(c, r, &marker, 1, now, &wait, NULL) != APR_SUCCESS || wait)
        return;
    args[0] = tz_vel_kind_name(rule->kind);
    args[1] = tz_sha256_hex(r->pool, value, strlen(value));
    args[2] = shown;
    ap_log_rerror(APLOG_MARK, APLOG_NOTICE, 0, r, APLOGNO(10760)
                  "tipzed: velocity limit reached: %s %s, %u per %" APR_INT64_T_FMT "s",
                  args[0], shown, rule->count, (apr_int64_t)rule->window);
    if (tz_db_value(r, TZ_Q_VELOCITY_BREACH, args, &ok) != OK)
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, APLOGNO(10761)
                      "tipzed: velocity breach of %s %s not recorded", args[0], shown);
}

/* 429 velocity_limit naming the kind, never the key (an address, a card
 * or a phone number is not echoed back). */
static int refuse(tz_req_t *q, const tz_vel_rule_t *rule, apr_int64_t wait)
{
    request_rec *r = q->r;
    json_t *p = tz_problem_new(r->pool, HTTP_TOO_MANY_REQUESTS, "velocity_limit",
                               apr_psprintf(r->pool, "too many %s; retry in %" APR_INT64_T_FMT
                                            " s", tz_vel_phrase(rule->kind), wait), NULL);
    json_object_set_new(p, "kind", json_string(tz_vel_kind_name(rule->kind)));
    json_object_set_new(p, "retry_after", json_integer(wait));
    apr_table_setn(r->err_headers_out, "Retry-After",
                   apr_psprintf(r->pool, "%" APR_INT64_T_FMT, wait));
    return tz_send_problem_json(r, HTTP_TOO_MANY_REQUESTS, p), DONE;
}

int tz_velocity_check(tz_req_t *q, tz_idem_key_t *key, const char *fan, const char *creator,
                      const char *phone)
{
    request_rec *r = q->r;
    apr_array_header_t *rules = q->cfg->velocity;
    const char *msisdn = phone ? tz_msisdn_normalize(r->pool, phone) : NULL;
    tz_vel_subject_t s = {{fan, tz_client_ip(r), tz_vel_msisdn(r->pool, msisdn), creator}};
    tz_rl_limit_t l[TZ_VEL_MAXRULES];
    apr_size_t rule_of[TZ_VEL_MAXRULES], n, which = 0;
    apr_int64_t wait, now = apr_time_sec(apr_time_now());
    tz_counters_t *c = tz_counters(TZ_CNT_VELOCITY);
    const tz_vel_rule_t *rule;
    if (!rules || !(n = tz_vel_limits(r->pool, (const tz_vel_rule_t *)rules->elts,
                                      (size_t)rules->nelts, &s, l, rule_of)))
        return OK;
    if (c->attempt(c, r, l, n, now, &wait, &which) != APR_SUCCESS) {
        tz_counters_failed(r, "velocity");
        return OK;
    }
    if (!wait)
        return OK;
    rule = &APR_ARRAY_IDX(rules, rule_of[which], tz_vel_rule_t);
    tz_metrics_velocity(rule->kind);
    record_breach(q, c, &l[which], rule, s.value[rule->kind], now);
    tz_idem_release(q, key); /* the same key may be sent again once the wait is over */
    return refuse(q, rule, wait);
}

/* GET /admin/risk/velocity?since=&kind=&limit=: the keys with the most
 * breaches since `since` (default: the last 24 hours, at most 30 days
 * back, what is kept), most first. */
int tz_h_admin_velocity(tz_req_t *q)
{
    request_rec *r = q->r;
    const char *since = tz_query_arg(r, "since"), *kind = tz_query_arg(r, "kind");
    const char *limit = tz_query_arg(r, "limit"), *args[3], *field, *why;
    int64_t from, n;
    json_t *res;
    if ((why = tz_vel_list_args(since, kind, limit, apr_time_sec(apr_time_now()), &from, &n,
                                &field)))
        return tz_send_field_problem(r, HTTP_UNPROCESSABLE_ENTITY, "validation_failed", field,
                                     why);
    args[0] = tz_format_timestamp(r->pool, from);
    args[1] = kind;
    args[2] = apr_psprintf(r->pool, "%" APR_INT64_T_FMT, (apr_int64_t)n);
    if (tz_db_json(r, TZ_Q_VELOCITY_OFFENDERS, args, &res) != OK || !res)
        return tz_send_db_unavailable(r);
    return tz_send_json(r, HTTP_OK, res);
}
