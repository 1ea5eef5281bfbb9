/* Velocity limits on payments (docs/risk.md): the TipzedPaymentVelocity
 * rules, the counters a payment is counted against, and how an offender's
 * key is shown.  The counting itself is tz_ratelimit.c's fixed windows; the
 * store they live in is the glue's.  No httpd types. */
#ifndef TZ_VELOCITY_H
#define TZ_VELOCITY_H
#include <stddef.h>
#include <stdint.h>
#include <apr_pools.h>
#include "tz_ratelimit.h"

typedef enum {
    TZ_VEL_FAN,        /* the payer: an account ("user:<id>") or a guest's email ("email:<addr>") */
    TZ_VEL_IP,         /* the client address (mod_remoteip's behind a balancer) */
    TZ_VEL_INSTRUMENT, /* the payer's MSISDN ("msisdn:<digits>") or card ("card:<fingerprint>") */
    TZ_VEL_CREATOR,    /* the creator paid */
    TZ_VEL__COUNT
} tz_vel_kind_e;

/* Rules one server may have (lines of TipzedPaymentVelocity). */
#define TZ_VEL_MAXRULES 8

/* One TipzedPaymentVelocity line: at most count payments per window. */
typedef struct {
    tz_vel_kind_e kind;
    unsigned count;
    int64_t window; /* seconds, 1 .. 7 days */
} tz_vel_rule_t;

/* "fan", "ip", "instrument", "creator"; -1 for anything else. */
int tz_vel_kind_id(const char *name);
const char *tz_vel_kind_name(tz_vel_kind_e kind);

/* NULL and *out set, or why not (naming the argument at fault). */
const char *tz_vel_rule_parse(apr_pool_t *p, const char *kind, const char *count,
                              const char *window, tz_vel_rule_t *out);

/* What one payment is counted against: a value per kind, NULL where the
 * payment has none (a top-up has no creator, a card payment no MSISDN). */
typedef struct {
    const char *value[TZ_VEL__COUNT];
} tz_vel_subject_t;

/* The fan's value: an account, or a guest's email (case folded, so one
 * mailbox is one fan however it is spelled). */
const char *tz_vel_fan_user(apr_pool_t *p, const char *user_id);
const char *tz_vel_fan_email(apr_pool_t *p, const char *email);
/* The instrument's value: an MSISDN's digits, or a card's fingerprint. */
const char *tz_vel_msisdn(apr_pool_t *p, const char *digits);
const char *tz_vel_card(apr_pool_t *p, const char *fingerprint);

/* The counters subject is counted against under rules[0..nrules): one per
 * rule whose kind has a value, keyed "v:<kind>:<window>:<value>" (two
 * rules of one kind count apart).  out has room for nrules; rule_of[i] is
 * the index of out[i]'s rule.  Returns how many. */
size_t tz_vel_limits(apr_pool_t *p, const tz_vel_rule_t *rules, size_t nrules,
                     const tz_vel_subject_t *s, tz_rl_limit_t *out, size_t *rule_of);

/* The breach marker of a counter: a limit of one in the counter's window,
 * so counting it succeeds once per window and key -- what records a breach
 * once however many requests are refused. */
tz_rl_limit_t tz_vel_marker(apr_pool_t *p, const tz_rl_limit_t *counter);

/* A value as the admin list shows it: an instrument's kept to its prefix
 * and last four characters ("msisdn:***4567"; "***" alone when shorter
 * than eight), the others whole (an admin acts on them). */
const char *tz_vel_shown(apr_pool_t *p, tz_vel_kind_e kind, const char *value);

/* The offenders' list's query (GET /admin/risk/velocity): since, an RFC
 * 3339 time (or a date) within the last 30 days (default: 24 hours before
 * now); kind, one of the kinds, or NULL for all; limit 1..100 (default
 * 20).  NULL with *from and *n set, or why not with *field the parameter. */
const char *tz_vel_list_args(const char *since, const char *kind, const char *limit,
                             int64_t now, int64_t *from, int64_t *n, const char **field);

/* What the 429 says was exceeded, e.g. "payments from this client address". */
const char *tz_vel_phrase(tz_vel_kind_e kind);

#endif
