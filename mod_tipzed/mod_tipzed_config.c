/* The httpd directives (docs/directives.md): parsing, validation, merge,
 * defaults.  Every setter returns an error string, so `apachectl -t` names
 * the line. */
#include "mod_tipzed_config.h"
#include "mod_tipzed_cache.h"
#include "mod_tipzed_ratelimit.h"
#include "tz_parse.h"
#include "tz_pdf.h"
#include "tz_reserve.h"
#include "tz_transfer.h"
#include "tz_velocity.h"
#include "apr_file_io.h"

void *tz_cfg_create(apr_pool_t *p, server_rec *s)
{
    tz_cfg_t *c = apr_pcalloc(p, sizeof(*c));
    c->access_ttl = c->refresh_ttl = TZ_UNSET;
    c->fee_bps = c->topup_fee_bps = c->cashback_bps = TZ_UNSET;
    c->cashback_cap = TZ_UNSET;
    c->min_payment = c->max_payment = c->min_payout = TZ_UNSET;
    c->payment_expiry = c->webhook_tolerance = c->provider_timeout = TZ_UNSET;
    c->billing_grace = TZ_UNSET;
    c->reserve_bps = c->reserve_days = c->first_payout_delay = TZ_UNSET;
    c->status_poll = TZ_UNSET;
    c->transfer_policy = TZ_UNSET;
    c->transfer_limit = c->transfer_window = TZ_UNSET;
    c->referral_bonus = TZ_UNSET;
    c->sandbox_mixed = TZ_UNSET;
    c->max_body = TZ_UNSET;
    c->webhook_retries = c->webhook_private = c->webhook_concurrency = TZ_UNSET;
    c->webhook_retry_max = c->webhook_timeout = c->outbox_retention = TZ_UNSET;
    c->rl_count = TZ_UNSET;
    c->rl_window = TZ_UNSET;
    c->admin_totp = TZ_UNSET;
    c->verify_ttl = c->reset_ttl = c->guest_rl_window = TZ_UNSET;
    c->guest_rl_count = TZ_UNSET;
    return c;
}

#define TZ_MERGE_PTR(f) m->f = add->f ? add->f : base->f
#define TZ_MERGE_INT(f) m->f = add->f != TZ_UNSET ? add->f : base->f

void *tz_cfg_merge(apr_pool_t *p, void *basev, void *addv)
{
    tz_cfg_t *base = basev, *add = addv, *m = apr_pcalloc(p, sizeof(*m));
    TZ_MERGE_PTR(jwt_key);
    m->jwt_keylen = add->jwt_key ? add->jwt_keylen : base->jwt_keylen;
    TZ_MERGE_PTR(jwt_iss);
    TZ_MERGE_PTR(jwt_aud);
    TZ_MERGE_INT(access_ttl);
    TZ_MERGE_INT(refresh_ttl);
    TZ_MERGE_INT(fee_bps);
    TZ_MERGE_INT(topup_fee_bps);
    /* the rate and the cap are one setting */
    m->cashback_bps = add->cashback_bps != TZ_UNSET ? add->cashback_bps : base->cashback_bps;
    m->cashback_cap = add->cashback_bps != TZ_UNSET ? add->cashback_cap : base->cashback_cap;
    TZ_MERGE_PTR(default_currency);
    TZ_MERGE_PTR(currencies);
    TZ_MERGE_INT(min_payment);
    TZ_MERGE_INT(max_payment);
    TZ_MERGE_INT(min_payout);
    TZ_MERGE_INT(transfer_policy);
    TZ_MERGE_INT(transfer_limit);
    TZ_MERGE_INT(transfer_window);
    TZ_MERGE_INT(payment_expiry);
    TZ_MERGE_INT(billing_grace);
    /* the share and the days are one setting */
    m->reserve_bps = add->reserve_bps != TZ_UNSET ? add->reserve_bps : base->reserve_bps;
    m->reserve_days = add->reserve_bps != TZ_UNSET ? add->reserve_days : base->reserve_days;
    TZ_MERGE_INT(first_payout_delay);
    if (add->tax_json) { /* the tax is one setting */
        m->tax_json = add->tax_json;
        m->tax_name = add->tax_name;
        m->tax_bps = add->tax_bps;
        m->tax_inclusive = add->tax_inclusive;
    } else {
        m->tax_json = base->tax_json;
        m->tax_name = base->tax_name;
        m->tax_bps = base->tax_bps;
        m->tax_inclusive = base->tax_inclusive;
    }
    TZ_MERGE_PTR(invoice_issuer);
    TZ_MERGE_PTR(invoice_font);
    TZ_MERGE_INT(referral_bonus);
    /* a provider's configuration comes whole from the most specific server
     * that configures it */
    for (int i = 0; i < TZ_PROV__COUNT; i++)
        m->providers[i] = (add->providers_set & (1u << i)) ? add->providers[i] : base->providers[i];
    m->providers_set = add->providers_set | base->providers_set;
    TZ_MERGE_PTR(default_provider);
    TZ_MERGE_INT(sandbox_mixed);
    TZ_MERGE_PTR(public_url);
    TZ_MERGE_PTR(return_url);
    TZ_MERGE_INT(webhook_tolerance);
    TZ_MERGE_INT(provider_timeout);
    TZ_MERGE_INT(status_poll);
    TZ_MERGE_PTR(enc_keys);
    TZ_MERGE_PTR(biller_secret);
    m->biller_secret_len = add->biller_secret ? add->biller_secret_len : base->biller_secret_len;
    /* the count and the longest wait are one setting, as the SMTP server
     * and its sender are */
    m->webhook_retries = add->webhook_retries != TZ_UNSET ? add->webhook_retries
                                                          : base->webhook_retries;
    m->webhook_retry_max = add->webhook_retries != TZ_UNSET ? add->webhook_retry_max
                                                            : base->webhook_retry_max;
    TZ_MERGE_INT(webhook_private);
    TZ_MERGE_INT(webhook_concurrency);
    TZ_MERGE_INT(webhook_timeout);
    TZ_MERGE_INT(outbox_retention);
    m->smtp_url = add->smtp_url ? add->smtp_url : base->smtp_url;
    m->smtp_from = add->smtp_url ? add->smtp_from : base->smtp_from;
    TZ_MERGE_PTR(mail_dir);
    TZ_MERGE_INT(max_body);
    TZ_MERGE_PTR(cors_origins);
    TZ_MERGE_INT(rl_count);
    TZ_MERGE_INT(rl_window);
    TZ_MERGE_INT(verify_ttl);
    TZ_MERGE_INT(reset_ttl);
    TZ_MERGE_PTR(account_url);
    TZ_MERGE_INT(guest_rl_count);
    TZ_MERGE_INT(guest_rl_window);
    TZ_MERGE_PTR(metrics_acl);
    TZ_MERGE_PTR(velocity); /* a server with lines of its own has those only */
    TZ_MERGE_INT(admin_totp);
    return m;
}

static tz_cfg_t *srv(cmd_parms *cmd)
{
    return ap_get_module_config(cmd->server->module_config, &tipzed_module);
}

/* Reads a secret file; its content is used as is, less one trailing newline. */
static const char *read_secret(cmd_parms *cmd, const char *path, const char **out,
                               apr_size_t *outlen)
{
    const char *full = ap_server_root_relative(cmd->pool, path);
    apr_file_t *f;
    apr_finfo_t fi;
    apr_size_t n;
    char *buf;
    apr_status_t rv;
    char reason[120];
    if (!full)
        return apr_psprintf(cmd->pool, "%s: invalid path '%s'", cmd->directive->directive, path);
    if ((rv = apr_file_open(&f, full, APR_FOPEN_READ, 0, cmd->pool)) != APR_SUCCESS)
        return apr_psprintf(cmd->pool, "%s: cannot read secret file '%s': %s",
                            cmd->directive->directive, full,
                            apr_strerror(rv, reason, sizeof reason));
    if (apr_file_info_get(&fi, APR_FINFO_SIZE, f) != APR_SUCCESS || fi.size > 65536) {
        apr_file_close(f);
        return apr_psprintf(cmd->pool, "%s: secret file '%s' is unreadable or larger than 64K",
                            cmd->directive->directive, path);
    }
    n = (apr_size_t)fi.size;
    buf = apr_palloc(cmd->pool, n + 1);
    if (n && apr_file_read_full(f, buf, n, &n) != APR_SUCCESS) {
        apr_file_close(f);
        return apr_psprintf(cmd->pool, "%s: cannot read '%s'", cmd->directive->directive, path);
    }
    apr_file_close(f);
    if (n && buf[n - 1] == '\n')
        n--;
    buf[n] = '\0';
    *out = buf;
    *outlen = n;
    return NULL;
}

static const char *bad(cmd_parms *cmd, const char *value, const char *why)
{
    return apr_psprintf(cmd->pool, "%s: invalid value '%s': %s",
                        cmd->directive->directive, value, why);
}

static const char *set_jwt_secret(cmd_parms *cmd, void *d, const char *path)
{
    tz_cfg_t *c = srv(cmd);
    const char *err = read_secret(cmd, path, &c->jwt_key, &c->jwt_keylen);
    if (err)
        return err;
    if (c->jwt_keylen < TZ_JWT_MIN_KEY)
        return apr_psprintf(cmd->pool, "%s: the key in '%s' is %" APR_SIZE_T_FMT
                            " bytes; at least %d are required", cmd->directive->directive,
                            path, c->jwt_keylen, TZ_JWT_MIN_KEY);
    return NULL;
}

static const char *set_string(cmd_parms *cmd, void *d, const char *v)
{
    if (!*v)
        return bad(cmd, v, "must not be empty");
    *(const char **)((char *)srv(cmd) + (apr_size_t)cmd->info) = v;
    return NULL;
}

static const char *set_duration(cmd_parms *cmd, void *d, const char *v)
{
    int64_t secs;
    const char *why = tz_parse_duration(v, &secs);
    if (why)
        return bad(cmd, v, why);
    *(apr_int64_t *)((char *)srv(cmd) + (apr_size_t)cmd->info) = secs;
    return NULL;
}

static const char *set_amount(cmd_parms *cmd, void *d, const char *v)
{
    int64_t n;
    const char *why = tz_parse_amount(v, &n);
    if (why)
        return bad(cmd, v, why);
    *(apr_int64_t *)((char *)srv(cmd) + (apr_size_t)cmd->info) = n;
    return NULL;
}

static const char *set_fee(cmd_parms *cmd, void *d, const char *v)
{
    int32_t bps;
    const char *why = tz_parse_percent(v, &bps);
    if (why)
        return bad(cmd, v, why);
    srv(cmd)->fee_bps = bps;
    return NULL;
}

static const char *set_topup_fee(cmd_parms *cmd, void *d, const char *v)
{
    int32_t bps;
    const char *why = tz_parse_percent(v, &bps);
    if (why)
        return bad(cmd, v, why);
    srv(cmd)->topup_fee_bps = bps;
    return NULL;
}

/* TipzedCashback Off | percent monthly-cap */
static const char *set_cashback(cmd_parms *cmd, void *d, const char *rate, const char *cap)
{
    int32_t bps;
    int64_t n;
    const char *why;
    if (!cap && strcasecmp(rate, "off") == 0) {
        srv(cmd)->cashback_bps = 0;
        srv(cmd)->cashback_cap = 0;
        return NULL;
    }
    if (!cap)
        return bad(cmd, rate, "needs a monthly cap after the percentage (e.g. 1% 50000), or Off");
    if ((why = tz_parse_percent(rate, &bps)))
        return bad(cmd, rate, why);
    if ((why = tz_parse_amount(cap, &n)))
        return bad(cmd, cap, why);
    srv(cmd)->cashback_bps = bps;
    srv(cmd)->cashback_cap = n;
    return NULL;
}

/* TipzedReserve Off | percent days */
static const char *set_reserve(cmd_parms *cmd, void *d, const char *rate, const char *days)
{
    int32_t bps, n;
    const char *why = tz_reserve_parse(rate, days, &bps, &n);
    if (why)
        return bad(cmd, days ? apr_pstrcat(cmd->pool, rate, " ", days, NULL) : rate, why);
    srv(cmd)->reserve_bps = bps;
    srv(cmd)->reserve_days = n;
    return NULL;
}

/* TipzedFirstPayoutDelay days */
static const char *set_first_payout_delay(cmd_parms *cmd, void *d, const char *v)
{
    int32_t n;
    const char *why = tz_parse_days(v, &n);
    if (why)
        return bad(cmd, v, why);
    srv(cmd)->first_payout_delay = n;
    return NULL;
}

static const char *set_size(cmd_parms *cmd, void *d, const char *v)
{
    int64_t n;
    const char *why = tz_parse_size(v, &n);
    if (why)
        return bad(cmd, v, why);
    srv(cmd)->max_body = n;
    return NULL;
}

static const char *set_default_currency(cmd_parms *cmd, void *d, const char *v)
{
    const char *why = tz_parse_currency(v);
    if (why)
        return bad(cmd, v, why);
    srv(cmd)->default_currency = v;
    return NULL;
}

static const char *add_currency(cmd_parms *cmd, void *d, const char *v)
{
    tz_cfg_t *c = srv(cmd);
    const char *why = tz_parse_currency(v);
    if (why)
        return bad(cmd, v, why);
    if (!c->currencies)
        c->currencies = apr_array_make(cmd->pool, 4, sizeof(const char *));
    APR_ARRAY_PUSH(c->currencies, const char *) = v;
    return NULL;
}

static const char *add_cors(cmd_parms *cmd, void *d, const char *v)
{
    tz_cfg_t *c = srv(cmd);
    const char *why = tz_parse_origin(v);
    if (why)
        return bad(cmd, v, why);
    if (!c->cors_origins)
        c->cors_origins = apr_array_make(cmd->pool, 4, sizeof(const char *));
    APR_ARRAY_PUSH(c->cors_origins, const char *) = v;
    return NULL;
}

/* TipzedPaymentVelocity kind count window, one line per rule (docs/risk.md). */
static const char *add_velocity(cmd_parms *cmd, void *d, const char *kind, const char *count,
                                const char *window)
{
    tz_cfg_t *c = srv(cmd);
    tz_vel_rule_t rule;
    const char *why = tz_vel_rule_parse(cmd->pool, kind, count, window, &rule);
    if (why)
        return apr_pstrcat(cmd->pool, cmd->directive->directive, ": ", why, NULL);
    if (!c->velocity)
        c->velocity = apr_array_make(cmd->pool, TZ_VEL_MAXRULES, sizeof(tz_vel_rule_t));
    if (c->velocity->nelts >= TZ_VEL_MAXRULES)
        return apr_psprintf(cmd->pool, "%s: at most %d lines per server",
                            cmd->directive->directive, TZ_VEL_MAXRULES);
    APR_ARRAY_PUSH(c->velocity, tz_vel_rule_t) = rule;
    return NULL;
}

/* TipzedMetricsAccess all | network...: who may read GET /metrics.  The
 * series say how busy the server is and how much money moves, which is
 * nobody's business but the operator's, so only loopback may by default. */
static const char *set_metrics_access(cmd_parms *cmd, void *d, int argc, char *const argv[])
{
    tz_metrics_acl_t *acl = apr_pcalloc(cmd->pool, sizeof *acl);
    const char *why = tz_metrics_acl_parse(cmd->pool, argc, argv, acl);
    if (why)
        return apr_psprintf(cmd->pool, "%s: %s", cmd->directive->directive, why);
    srv(cmd)->metrics_acl = acl;
    return NULL;
}

/* TipzedTax Off | <name> <percent> inclusive|exclusive: the name is what
 * invoices print (e.g. VAT), 1..32 letters, digits, spaces, dots, dashes or
 * underscores (it is also written into JSON as it is). */
static const char *set_tax(cmd_parms *cmd, void *d, const char *name, const char *pct,
                           const char *mode)
{
    tz_cfg_t *c = srv(cmd);
    int32_t bps;
    const char *why;
    size_t n = strlen(name);
    if (!pct && strcasecmp(name, "off") == 0) {
        c->tax_json = "";
        return NULL;
    }
    if (!pct || !mode)
        return bad(cmd, name, "takes a name, a percentage and inclusive or exclusive, or Off");
    if (n < 1 || n > 32 || strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                         "0123456789 ._-") != n)
        return bad(cmd, name, "a tax's name is 1 to 32 letters, digits, spaces, dots, dashes "
                              "or underscores");
    if ((why = tz_parse_percent(pct, &bps)))
        return bad(cmd, pct, why);
    if (strcasecmp(mode, "inclusive") && strcasecmp(mode, "exclusive"))
        return bad(cmd, mode, "must be inclusive (prices include the tax) or exclusive (the tax "
                              "is added)");
    c->tax_name = name;
    c->tax_bps = bps;
    c->tax_inclusive = strcasecmp(mode, "inclusive") == 0;
    c->tax_json = apr_psprintf(cmd->pool, "{\"name\":\"%s\",\"bps\":%d,\"inclusive\":%s}",
                               name, bps, c->tax_inclusive ? "true" : "false");
    return NULL;
}

/* TipzedInvoiceIssuer <name>: 1..200 characters without control characters */
static const char *set_invoice_issuer(cmd_parms *cmd, void *d, const char *v)
{
    size_t n = strlen(v);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
            return bad(cmd, v, "must not hold control characters");
    if (n < 1 || n > 200)
        return bad(cmd, v, "must be 1 to 200 characters");
    srv(cmd)->invoice_issuer = v;
    return NULL;
}

/* TipzedInvoiceFont <path>: a TrueType font readable now (invoices are
 * rendered with it; its bold face beside it is used when there is one). */
static const char *set_invoice_font(cmd_parms *cmd, void *d, const char *v)
{
    const char *path = ap_server_root_relative(cmd->pool, v);
    apr_finfo_t fi;
    if (!path || apr_stat(&fi, path, APR_FINFO_TYPE, cmd->pool) != APR_SUCCESS ||
        fi.filetype != APR_REG)
        return bad(cmd, v, "is not a readable font file");
    srv(cmd)->invoice_font = path;
    return NULL;
}

/* TipzedWebhookRetry <attempts> <longest wait> */
static const char *set_webhook_retry(cmd_parms *cmd, void *d, const char *count,
                                     const char *max)
{
    int64_t n, w;
    const char *why = tz_parse_int64(count, &n);
    if (why || n < 1 || n > 100)
        return bad(cmd, count, "attempts must be 1 to 100");
    if ((why = tz_parse_duration(max, &w)))
        return bad(cmd, max, why);
    if (w < 1 || w > 86400)
        return bad(cmd, max, "the longest wait must be 1s to 1d");
    srv(cmd)->webhook_retries = (int)n;
    srv(cmd)->webhook_retry_max = w;
    return NULL;
}

static const char *set_flag(cmd_parms *cmd, void *d, const char *v)
{
    int on;
    const char *why = tz_parse_flag(v, &on);
    if (why)
        return bad(cmd, v, why);
    *(int *)((char *)srv(cmd) + (apr_size_t)cmd->info) = on;
    return NULL;
}

/* TipzedWebhookConcurrency <1..64> */
static const char *set_webhook_concurrency(cmd_parms *cmd, void *d, const char *v)
{
    int64_t n;
    if (tz_parse_int64(v, &n) || n < 1 || n > 64)
        return bad(cmd, v, "must be 1 to 64");
    srv(cmd)->webhook_concurrency = (int)n;
    return NULL;
}

/* TipzedSMTP <smtp[s]://[user:password@]host[:port]> <from> | Off */
static const char *set_smtp(cmd_parms *cmd, void *d, const char *url, const char *from)
{
    tz_cfg_t *c = srv(cmd);
    if (strcasecmp(url, "off") == 0 && !from) {
        c->smtp_url = "";
        return NULL;
    }
    if (strncasecmp(url, "smtp://", 7) && strncasecmp(url, "smtps://", 8))
        return bad(cmd, url, "must be an smtp:// or smtps:// URL, or Off");
    if (!from || !strchr(from, '@') || strpbrk(from, "\r\n"))
        return bad(cmd, from ? from : "", "the sender must be an address, e.g. "
                                          "\"Tipzed <no-reply@example.com>\"");
    c->smtp_url = url;
    c->smtp_from = from;
    return NULL;
}

/* TipzedMailTemplates <directory> */
static const char *set_mail_dir(cmd_parms *cmd, void *d, const char *v)
{
    const char *path = ap_server_root_relative(cmd->pool, v);
    apr_finfo_t fi;
    if (!path || apr_stat(&fi, path, APR_FINFO_TYPE, cmd->pool) != APR_SUCCESS ||
        fi.filetype != APR_DIR)
        return bad(cmd, v, "is not a readable directory");
    srv(cmd)->mail_dir = path;
    return NULL;
}

/* TipzedReferralBonus <amount> | Off (0 is Off too) */
static const char *set_referral_bonus(cmd_parms *cmd, void *d, const char *v)
{
    int64_t n;
    const char *why;
    if (strcasecmp(v, "off") == 0 || (!tz_parse_int64(v, &n) && n == 0)) {
        srv(cmd)->referral_bonus = 0;
        return NULL;
    }
    if ((why = tz_parse_amount(v, &n)))
        return bad(cmd, v, apr_pstrcat(cmd->pool, why, ", or Off", NULL));
    srv(cmd)->referral_bonus = n;
    return NULL;
}

/* TipzedStatusPoll <duration> | Off */
static const char *set_status_poll(cmd_parms *cmd, void *d, const char *v)
{
    int64_t secs;
    const char *why;
    if (strcasecmp(v, "off") == 0) {
        srv(cmd)->status_poll = 0;
        return NULL;
    }
    if ((why = tz_parse_duration(v, &secs)))
        return bad(cmd, v, why);
    if (secs < 1)
        return bad(cmd, v, "must be at least 1s, or Off");
    srv(cmd)->status_poll = secs;
    return NULL;
}

/* TipzedOutboxRetention <duration> | Off: at least a day, so that a
 * delivery's log outlives the retries an operator may want to read. */
static const char *set_outbox_retention(cmd_parms *cmd, void *d, const char *v)
{
    int64_t secs;
    const char *why;
    if (strcasecmp(v, "off") == 0) {
        srv(cmd)->outbox_retention = 0;
        return NULL;
    }
    if ((why = tz_parse_duration(v, &secs)))
        return bad(cmd, v, why);
    if (secs < 86400 || secs > INT32_MAX)
        return bad(cmd, v, "must be between 1d and 24855d, or Off");
    srv(cmd)->outbox_retention = secs;
    return NULL;
}

/* MTN MoMo: TipzedMoMoEnvironment <X-Target-Environment>. */
static const char *set_momo_env(cmd_parms *cmd, void *d, const char *v)
{
    tz_cfg_t *c = srv(cmd);
    if (!*v || strlen(v) > 64 || strspn(v, "abcdefghijklmnopqrstuvwxyz0123456789_-") != strlen(v))
        return bad(cmd, v, "an environment name such as sandbox or mtnzambia");
    c->providers[TZ_PROV_MOMO].environment = v;
    c->providers_set |= 1u << TZ_PROV_MOMO;
    return NULL;
}

/* TipzedMoMoSubscriptionKeyFile: the Collections product's primary key. */
static const char *set_momo_key(cmd_parms *cmd, void *d, const char *path)
{
    tz_cfg_t *c = srv(cmd);
    apr_size_t len;
    c->providers_set |= 1u << TZ_PROV_MOMO;
    return read_secret(cmd, path, &c->providers[TZ_PROV_MOMO].subscription_key, &len);
}

/* TipzedMoMoUserFile: "<API user>:<API key>" on one line. */
static const char *set_momo_user(cmd_parms *cmd, void *d, const char *path)
{
    tz_cfg_t *c = srv(cmd);
    tz_prov_cfg_t *pc = &c->providers[TZ_PROV_MOMO];
    apr_size_t len;
    const char *text, *colon, *err = read_secret(cmd, path, &text, &len);
    if (err)
        return err;
    if (!(colon = strchr(text, ':')) || colon == text || !colon[1] || strchr(text, '\n'))
        return apr_psprintf(cmd->pool, "%s: '%s' must hold \"<API user>:<API key>\" on one line",
                            cmd->directive->directive, path);
    pc->api_user = apr_pstrndup(cmd->pool, text, (apr_size_t)(colon - text));
    pc->api_key = colon + 1;
    c->providers_set |= 1u << TZ_PROV_MOMO;
    return NULL;
}

/* "On", "Off", or "On mixed": the sandbox beside live providers only when
 * that is said explicitly, since its checkout lets anyone approve a
 * payment, and so credit a creator for nothing. */
static const char *set_sandbox(cmd_parms *cmd, void *d, const char *flag, const char *mixed)
{
    tz_cfg_t *c = srv(cmd);
    int on;
    const char *why = tz_parse_flag(flag, &on);
    if (why)
        return bad(cmd, flag, why);
    if (mixed && (!on || strcasecmp(mixed, "mixed") != 0))
        return bad(cmd, mixed, "the only option is \"mixed\", after On");
    c->providers[TZ_PROV_SANDBOX].enabled = on;
    c->providers_set |= 1u << TZ_PROV_SANDBOX;
    c->sandbox_mixed = mixed != NULL;
    return NULL;
}

/* An absolute URL; with_query for the return URL, which may carry one.
 * info: NULL TipzedPublicURL, 1 TipzedCheckoutReturnURL, 2 TipzedAccountURL. */
static const char *set_url(cmd_parms *cmd, void *d, const char *v)
{
    int with_query = cmd->info == (void *)1;
    const char *why = tz_parse_url(v, with_query);
    char *url = apr_pstrdup(cmd->pool, v);
    apr_size_t n = strlen(url);
    if (why)
        return bad(cmd, v, why);
    while (!with_query && n > 8 && url[n - 1] == '/')
        url[--n] = '\0'; /* paths are appended with their own slash */
    if (with_query)
        srv(cmd)->return_url = url;
    else if (cmd->info == (void *)2)
        srv(cmd)->account_url = url;
    else
        srv(cmd)->public_url = url;
    return NULL;
}

/* TipzedLoginRateLimit, and with info TipzedGuestRateLimit: count window. */
static const char *set_rate_limit(cmd_parms *cmd, void *d, const char *count,
                                  const char *window)
{
    int64_t n, w;
    const char *why = tz_parse_int64(count, &n);
    if (why || n < 1 || n > 1000000)
        return bad(cmd, count, "the count must be an integer 1..1000000");
    if ((why = tz_parse_duration(window, &w)))
        return bad(cmd, window, why);
    *(cmd->info ? &srv(cmd)->guest_rl_count : &srv(cmd)->rl_count) = (int)n;
    *(cmd->info ? &srv(cmd)->guest_rl_window : &srv(cmd)->rl_window) = w;
    return NULL;
}

/* TipzedEmailTokenLifetime verify [reset]: how long a mailed link works. */
static const char *set_token_lifetime(cmd_parms *cmd, void *d, const char *verify,
                                      const char *reset)
{
    int64_t v, r = -1;
    const char *why = tz_parse_duration(verify, &v);
    if (why || v < 1)
        return bad(cmd, verify, why ? why : "must be at least 1s");
    if (reset && ((why = tz_parse_duration(reset, &r)) || r < 1))
        return bad(cmd, reset, why ? why : "must be at least 1s");
    srv(cmd)->verify_ttl = v;
    srv(cmd)->reset_ttl = reset ? r : v;
    return NULL;
}

static const char *set_transfers(cmd_parms *cmd, void *d, const char *v)
{
    int policy;
    if (tz_transfer_policy_parse(v, &policy) != 0)
        return bad(cmd, v, "must be none, to-creators or any");
    srv(cmd)->transfer_policy = policy;
    return NULL;
}

static const char *set_transfer_limit(cmd_parms *cmd, void *d, const char *amount,
                                      const char *window)
{
    int64_t n, w;
    const char *why = tz_parse_amount(amount, &n);
    if (why)
        return bad(cmd, amount, why);
    if ((why = tz_parse_duration(window, &w)))
        return bad(cmd, window, why);
    srv(cmd)->transfer_limit = n;
    srv(cmd)->transfer_window = w;
    return NULL;
}

/* The configuration of provider name; the sandbox is configured by
 * TipzedSandbox alone (its secret is derived, its checkout is ours). */
static const char *provider_arg(cmd_parms *cmd, const char *name, tz_prov_cfg_t **out)
{
    int i = tz_provider_id(name);
    tz_cfg_t *c = srv(cmd);
    if (i < 0 || i == TZ_PROV_SANDBOX)
        return bad(cmd, name, i < 0 ? apr_pstrcat(cmd->pool, "unknown provider (",
                                                  tz_provider_names(cmd->pool), ")", NULL)
                                    : "the sandbox is switched on with TipzedSandbox On");
    c->providers_set |= 1u << i;
    *out = &c->providers[i];
    return NULL;
}

static const char *set_provider(cmd_parms *cmd, void *d, const char *name, const char *url)
{
    tz_prov_cfg_t *pc = NULL;
    const char *err = provider_arg(cmd, name, &pc);
    if (err)
        return err;
    if (strncmp(url, "https://", 8) != 0 && strncmp(url, "http://", 7) != 0)
        return bad(cmd, url, "the base URL must start with https:// or http://");
    pc->enabled = 1;
    pc->base_url = url;
    return NULL;
}

static const char *set_provider_secret(cmd_parms *cmd, void *d, const char *name,
                                       const char *path)
{
    tz_prov_cfg_t *pc = NULL;
    apr_size_t len;
    const char *err = provider_arg(cmd, name, &pc);
    return err ? err : read_secret(cmd, path, &pc->api_secret, &len);
}

static const char *set_webhook_secret(cmd_parms *cmd, void *d, const char *name,
                                      const char *path)
{
    tz_prov_cfg_t *pc = NULL;
    apr_size_t len;
    const char *err = provider_arg(cmd, name, &pc);
    if (err || (err = read_secret(cmd, path, &pc->webhook_secret, &len)))
        return err;
    pc->webhook_secret_len = len;
    if (pc->webhook_secret_len < 16)
        return apr_psprintf(cmd->pool, "%s: the secret in '%s' is shorter than 16 bytes",
                            cmd->directive->directive, path);
    return NULL;
}

/* The secret that signs the requests made to billers (docs/bills.md). */
static const char *set_biller_secret(cmd_parms *cmd, void *d, const char *path)
{
    tz_cfg_t *c = srv(cmd);
    const char *err = read_secret(cmd, path, &c->biller_secret, &c->biller_secret_len);
    if (err)
        return err;
    if (c->biller_secret_len < 16)
        return apr_psprintf(cmd->pool, "%s: the secret in '%s' is shorter than 16 bytes",
                            cmd->directive->directive, path);
    return NULL;
}

static const char *set_default_provider(cmd_parms *cmd, void *d, const char *name)
{
    if (tz_provider_id(name) < 0)
        return bad(cmd, name, apr_pstrcat(cmd->pool, "unknown provider (",
                                          tz_provider_names(cmd->pool), ")", NULL));
    srv(cmd)->default_provider = name;
    return NULL;
}

/* One key per line, 64 hex characters each; the first line seals new data,
 * the others still open data sealed before a key rotation. */
static const char *set_enc_keys(cmd_parms *cmd, void *d, const char *path)
{
    tz_cfg_t *c = srv(cmd);
    const char *content, *why;
    apr_size_t len;
    char *text, *line, *state;
    const char *err = read_secret(cmd, path, &content, &len);
    if (err)
        return err;
    c->enc_keys = apr_array_make(cmd->pool, 2, sizeof(tz_aead_key_t));
    text = apr_pstrmemdup(cmd->pool, content, len);
    for (line = apr_strtok(text, "\n", &state); line; line = apr_strtok(NULL, "\n", &state)) {
        if (!*line || *line == '#')
            continue;
        tz_aead_key_t *k = apr_array_push(c->enc_keys);
        if ((why = tz_aead_key_from_hex(line, k)))
            return apr_psprintf(cmd->pool, "%s: '%s': %s", cmd->directive->directive, path, why);
    }
    if (c->enc_keys->nelts == 0)
        return apr_psprintf(cmd->pool, "%s: '%s' holds no key", cmd->directive->directive, path);
    return NULL;
}

/* Process-wide, so main server only: 0 until set (then the CPU count). */
unsigned tz_hash_concurrency;

static const char *set_hash_concurrency(cmd_parms *cmd, void *d, const char *arg)
{
    int64_t n;
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    if (err)
        return err;
    if (tz_parse_int64(arg, &n) || n < 1 || n > 1024)
        return apr_psprintf(cmd->pool, "%s: '%s' is not a number from 1 to 1024",
                            cmd->directive->directive, arg);
    tz_hash_concurrency = (unsigned)n;
    return NULL;
}

#define TZ_OFF(f) (void *)APR_OFFSETOF(tz_cfg_t, f)

const command_rec tz_cmds[] = {
    AP_INIT_TAKE1("TipzedJWTSecretFile", set_jwt_secret, NULL, RSRC_CONF,
                  "file holding the HS256 key (at least 32 bytes)"),
    AP_INIT_TAKE1("TipzedJWTIssuer", set_string, TZ_OFF(jwt_iss), RSRC_CONF, "JWT iss"),
    AP_INIT_TAKE1("TipzedJWTAudience", set_string, TZ_OFF(jwt_aud), RSRC_CONF, "JWT aud"),
    AP_INIT_TAKE1("TipzedAccessTokenTTL", set_duration, TZ_OFF(access_ttl), RSRC_CONF,
                  "access token lifetime (default 15m)"),
    AP_INIT_TAKE1("TipzedRefreshTokenTTL", set_duration, TZ_OFF(refresh_ttl), RSRC_CONF,
                  "refresh token lifetime (default 30d)"),
    AP_INIT_TAKE1("TipzedPlatformFee", set_fee, NULL, RSRC_CONF,
                  "platform fee percentage (default 15%)"),
    AP_INIT_TAKE1("TipzedTopupFee", set_topup_fee, NULL, RSRC_CONF,
                  "platform fee on wallet top-ups (default 0%)"),
    AP_INIT_TAKE12("TipzedCashback", set_cashback, NULL, RSRC_CONF,
                   "cashback on fans' tips: percentage and monthly cap per fan, or Off (default)"),
    AP_INIT_TAKE1("TipzedDefaultCurrency", set_default_currency, NULL, RSRC_CONF,
                  "ISO 4217 code (default ZMW)"),
    AP_INIT_ITERATE("TipzedCurrencies", add_currency, NULL, RSRC_CONF,
                    "accepted ISO 4217 codes (default ZMW)"),
    AP_INIT_TAKE1("TipzedMinPayment", set_amount, TZ_OFF(min_payment), RSRC_CONF,
                  "minimum payment, minor units (default 100)"),
    AP_INIT_TAKE1("TipzedMaxPayment", set_amount, TZ_OFF(max_payment), RSRC_CONF,
                  "maximum payment, minor units (default 10000000)"),
    AP_INIT_TAKE1("TipzedMinPayout", set_amount, TZ_OFF(min_payout), RSRC_CONF,
                  "minimum payout, minor units (default 1000)"),
    AP_INIT_TAKE1("TipzedTransfers", set_transfers, NULL, RSRC_CONF,
                  "transfers between wallets: none, to-creators (the default) or any"),
    AP_INIT_TAKE2("TipzedTransferLimit", set_transfer_limit, NULL, RSRC_CONF,
                  "what one sender may transfer per currency within a sliding window"
                  " (default 500000 1d)"),
    AP_INIT_TAKE1("TipzedReferralBonus", set_referral_bonus, NULL, RSRC_CONF,
                  "minor units credited to a referrer's cashback balance when the referred"
                  " user's first payment succeeds, or Off (the default)"),
    AP_INIT_TAKE1("TipzedPaymentExpiry", set_duration, TZ_OFF(payment_expiry), RSRC_CONF,
                  "pending payments expire after this (default 30m)"),
    AP_INIT_TAKE13("TipzedTax", set_tax, NULL, RSRC_CONF,
                   "Off (the default), or the tax invoices show: name percent"
                   " inclusive|exclusive (e.g. VAT 16% inclusive)"),
    AP_INIT_TAKE1("TipzedInvoiceIssuer", set_invoice_issuer, NULL, RSRC_CONF,
                  "the platform's name as seller on the invoices of top-ups (default Tipzed)"),
    AP_INIT_TAKE1("TipzedInvoiceFont", set_invoice_font, NULL, RSRC_CONF,
                  "the TrueType font invoices are rendered with (default DejaVu Sans of"
                  " fonts-dejavu-core)"),
    AP_INIT_TAKE1("TipzedBillingGrace", set_duration, TZ_OFF(billing_grace), RSRC_CONF,
                  "how long a past-due subscription or schedule is retried daily before it"
                  " ends (default 3d)"),
    AP_INIT_TAKE12("TipzedReserve", set_reserve, NULL, RSRC_CONF,
                   "rolling reserve: the percentage of each credit to a creator held, and for"
                   " how many days, or Off (the default)"),
    AP_INIT_TAKE1("TipzedFirstPayoutDelay", set_first_payout_delay, NULL, RSRC_CONF,
                  "days after a creator's first credit before the first payout may be requested"
                  " (default 0)"),
    AP_INIT_TAKE2("TipzedProvider", set_provider, NULL, RSRC_CONF,
                  "provider name and API base URL"),
    AP_INIT_TAKE1("TipzedDefaultProvider", set_default_provider, NULL, RSRC_CONF,
                  "provider used when a payment names none"),
    AP_INIT_TAKE2("TipzedProviderSecretFile", set_provider_secret, NULL, RSRC_CONF,
                  "provider name and the file of its API secret"),
    AP_INIT_TAKE2("TipzedWebhookSecretFile", set_webhook_secret, NULL, RSRC_CONF,
                  "provider name and the file of its webhook secret"),
    AP_INIT_TAKE1("TipzedBillerSecretFile", set_biller_secret, NULL, RSRC_CONF,
                  "file of the secret that signs requests to billers (bill payments)"),
    AP_INIT_TAKE1("TipzedWebhookTolerance", set_duration, TZ_OFF(webhook_tolerance), RSRC_CONF,
                  "accepted webhook timestamp skew (default 5m)"),
    AP_INIT_TAKE1("TipzedProviderTimeout", set_duration, TZ_OFF(provider_timeout), RSRC_CONF,
                  "total time allowed for one outbound provider call (default 10s)"),
    AP_INIT_TAKE1("TipzedStatusPoll", set_status_poll, NULL, RSRC_CONF,
                  "seconds before a pending payment is asked about at its provider, or Off "
                  "(default 1m)"),
    AP_INIT_TAKE1("TipzedMoMoEnvironment", set_momo_env, NULL, RSRC_CONF,
                  "MTN MoMo X-Target-Environment (default sandbox)"),
    AP_INIT_TAKE1("TipzedMoMoSubscriptionKeyFile", set_momo_key, NULL, RSRC_CONF,
                  "file holding the MoMo Collections subscription key"),
    AP_INIT_TAKE1("TipzedMoMoUserFile", set_momo_user, NULL, RSRC_CONF,
                  "file holding the MoMo API user and API key as user:key"),
    AP_INIT_TAKE12("TipzedSandbox", set_sandbox, NULL, RSRC_CONF,
                   "On|Off [mixed]: the sandbox provider (default Off); mixed allows it beside"
                   " live providers"),
    AP_INIT_TAKE1("TipzedPublicURL", set_url, NULL, RSRC_CONF,
                  "the server's public URL, the only source of absolute URLs sent to providers"
                  " and payers (required when a provider is enabled)"),
    AP_INIT_TAKE1("TipzedCheckoutReturnURL", set_url, (void *)1, RSRC_CONF,
                  "where payers land after a provider's checkout (payment_id is added);"
                  " default: the built-in page /payments/{id}/return"),
    AP_INIT_TAKE1("TipzedEncryptionKeyFile", set_enc_keys, NULL, RSRC_CONF,
                  "file of AES-256 keys, 64 hex characters per line, current first"),
    AP_INIT_TAKE2("TipzedWebhookRetry", set_webhook_retry, NULL, RSRC_CONF,
                  "attempts of an outbound webhook delivery in all, and the longest wait"
                  " between two (default 24 6h)"),
    AP_INIT_TAKE1("TipzedAdminTOTP", set_flag, TZ_OFF(admin_totp), RSRC_CONF,
                  "On (default): an admin logs in only with a TOTP code; Off: password alone"),
    AP_INIT_TAKE1("TipzedWebhookAllowPrivate", set_flag, TZ_OFF(webhook_private), RSRC_CONF,
                  "On: webhook endpoints may be plain http and reach private, loopback and"
                  " link-local addresses (default Off)"),
    AP_INIT_TAKE1("TipzedWebhookConcurrency", set_webhook_concurrency, NULL, RSRC_CONF,
                  "outbound webhook deliveries in flight at once per server (default 8)"),
    AP_INIT_TAKE1("TipzedOutboxRetention", set_outbox_retention, NULL, RSRC_CONF,
                  "how long finished webhook deliveries, mail and events are kept (default 30d), "
                  "or Off"),
    AP_INIT_TAKE1("TipzedWebhookTimeout", set_duration, TZ_OFF(webhook_timeout), RSRC_CONF,
                  "total time allowed for one webhook delivery attempt (default 10s)"),
    AP_INIT_TAKE12("TipzedSMTP", set_smtp, NULL, RSRC_CONF,
                   "the SMTP server mail is sent through and the sender, or Off (default)"),
    AP_INIT_TAKE1("TipzedMailTemplates", set_mail_dir, NULL, RSRC_CONF,
                  "directory of mail templates replacing the shipped ones file by file"),
    AP_INIT_TAKE1("TipzedMaxBodySize", set_size, NULL, RSRC_CONF,
                  "largest request body (default 64K)"),
    AP_INIT_ITERATE("TipzedCORSOrigin", add_cors, NULL, RSRC_CONF,
                    "origins allowed by CORS"),
    AP_INIT_TAKE_ARGV("TipzedMetricsAccess", set_metrics_access, NULL, RSRC_CONF,
                      "who may read GET /metrics: all, or addresses and networks (CIDR);"
                      " default 127.0.0.0/8 and ::1"),
    AP_INIT_TAKE2("TipzedLoginRateLimit", set_rate_limit, NULL, RSRC_CONF,
                  "failed logins allowed per client IP and per email, and the window"),
    AP_INIT_TAKE3("TipzedPaymentVelocity", add_velocity, NULL, RSRC_CONF,
                  "payments allowed per fan, ip, instrument or creator within a window,"
                  " e.g. ip 20 1m (several lines; default none)"),
    AP_INIT_TAKE2("TipzedGuestRateLimit", set_rate_limit, (void *)1, RSRC_CONF,
                  "guest tips (without an account) allowed per client IP, and the window"),
    AP_INIT_TAKE12("TipzedEmailTokenLifetime", set_token_lifetime, NULL, RSRC_CONF,
                   "how long a verification link works, and a password-reset link"
                   " (default 48h 1h)"),
    AP_INIT_TAKE1("TipzedAccountURL", set_url, (void *)2, RSRC_CONF,
                  "base URL of the links mailed for verification and password reset"
                  " (default TipzedPublicURL)"),
    AP_INIT_TAKE12("TipzedCreatorCache", tz_cache_directive, NULL, RSRC_CONF,
                   "socache for public creator profiles (e.g. shmcb:/path(1048576)) and a TTL"
                   " (default 30s), or none"),
    AP_INIT_TAKE1("TipzedSharedCounters", tz_counters_directive, NULL, RSRC_CONF,
                  "where the login rate limit and payment velocity are counted: none (this"
                  " node's shared memory, default) or database (PostgreSQL, every node)"),
    AP_INIT_TAKE1("TipzedPasswordHashConcurrency", set_hash_concurrency, NULL, RSRC_CONF,
                  "password hashes computed at once per child, 32 MiB each (default: CPUs)"),
    {NULL}};

#define TZ_DEFAULT(f, v) if (c->f == TZ_UNSET) c->f = (v)

/* Amounts are minor units of currencies with two decimals, the unit the
 * Flutterwave adapter converts with; currencies without decimals (or with
 * three) are refused rather than charged 100 times too little or too much. */
static const char *check_currencies(apr_pool_t *p, tz_cfg_t *c)
{
    static const char *const odd[] = {"BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW",
        "PYG", "RWF", "UGX", "VND", "VUV", "XAF", "XOF", "XPF", "BHD", "IQD", "JOD", "KWD",
        "LYD", "OMR", "TND", NULL};
    int found = 0;
    for (int i = 0; i < c->currencies->nelts; i++) {
        const char *cur = APR_ARRAY_IDX(c->currencies, i, const char *);
        found |= strcmp(cur, c->default_currency) == 0;
        for (int j = 0; odd[j]; j++)
            if (strcmp(cur, odd[j]) == 0)
                return apr_psprintf(p, "TipzedCurrencies: %s does not have two decimals; "
                                    "amounts are minor units of two-decimal currencies", cur);
    }
    return found ? NULL : "TipzedDefaultCurrency is not one of TipzedCurrencies";
}

/* Each enabled provider gets the tolerance, the sandbox its derived
 * secret.  A provider whose webhooks could never be verified is refused:
 * every payment through it would stay pending, however much was paid. */
static const char *finalize_providers(apr_pool_t *p, tz_cfg_t *c)
{
    for (int i = 0; i < TZ_PROV__COUNT; i++) {
        tz_prov_cfg_t *pc = &c->providers[i];
        pc->tolerance = c->webhook_tolerance;
        if (i == TZ_PROV_MOMO && !pc->environment)
            pc->environment = "sandbox";
        if (i == TZ_PROV_SANDBOX && pc->enabled) {
            apr_size_t len;
            if (!(pc->webhook_secret = tz_sandbox_secret(p, c->jwt_key, c->jwt_keylen, &len)))
                return "TipzedSandbox: cannot derive the sandbox's webhook secret";
            pc->webhook_secret_len = len;
        } else if (pc->enabled && !pc->webhook_secret && tz_providers[i]->signature_header) {
            return apr_psprintf(p, "TipzedProvider %s has no TipzedWebhookSecretFile %s: its "
                                "webhooks could not be verified", tz_providers[i]->name,
                                tz_providers[i]->name);
        } else if (pc->enabled && tz_providers[i]->token && (!pc->api_user || !pc->subscription_key)) {
            return apr_psprintf(p, "TipzedProvider %s needs TipzedMoMoUserFile and "
                                "TipzedMoMoSubscriptionKeyFile: no access token could be had",
                                tz_providers[i]->name);
        } else if (pc->enabled && tz_providers[i]->needs_api_secret && !pc->api_secret) {
            return apr_psprintf(p, "TipzedProvider %s has no TipzedProviderSecretFile %s: no "
                                "checkout could be created", tz_providers[i]->name,
                                tz_providers[i]->name);
        }
    }
    return NULL;
}

/* What cannot work once requests come: absolute URLs without
 * TipzedPublicURL (the Host header is the client's to choose), and the
 * sandbox beside live providers unless said explicitly. */
static const char *check_providers(apr_pool_t *p, tz_cfg_t *c)
{
    const char *live = NULL;
    for (int i = 0; i < TZ_PROV__COUNT; i++)
        if (i != TZ_PROV_SANDBOX && c->providers[i].enabled)
            live = live ? apr_pstrcat(p, live, ", ", tz_providers[i]->name, NULL)
                        : tz_providers[i]->name;
    if ((live || c->providers[TZ_PROV_SANDBOX].enabled) && !c->public_url)
        return "TipzedPublicURL is required when a provider is enabled: it is the only source "
               "of the absolute URLs sent to providers and payers";
    if (live && c->providers[TZ_PROV_SANDBOX].enabled && c->sandbox_mixed != 1)
        return apr_psprintf(p, "TipzedSandbox On beside live providers (%s) lets anyone approve "
                            "a payment for nothing; say TipzedSandbox On mixed to allow it", live);
    if (c->default_provider && !c->providers[tz_provider_id(c->default_provider)].enabled)
        return apr_psprintf(p, "TipzedDefaultProvider %s is not enabled", c->default_provider);
    return NULL;
}

/* Applies defaults and cross-directive checks after the merge. */
const char *tz_cfg_finalize(apr_pool_t *p, tz_cfg_t *c)
{
    const char *err;
    TZ_DEFAULT(access_ttl, 15 * 60);
    TZ_DEFAULT(refresh_ttl, 30 * 86400);
    TZ_DEFAULT(fee_bps, 1500);
    TZ_DEFAULT(topup_fee_bps, 0);
    TZ_DEFAULT(cashback_bps, 0);
    TZ_DEFAULT(cashback_cap, 0);
    TZ_DEFAULT(min_payment, 100);
    TZ_DEFAULT(max_payment, 10000000);
    TZ_DEFAULT(min_payout, 1000);
    TZ_DEFAULT(transfer_policy, TZ_TRANSFERS_TO_CREATORS);
    TZ_DEFAULT(transfer_limit, 500000);
    TZ_DEFAULT(transfer_window, 86400);
    TZ_DEFAULT(payment_expiry, 30 * 60);
    TZ_DEFAULT(billing_grace, 3 * 86400);
    TZ_DEFAULT(reserve_bps, 0);
    TZ_DEFAULT(reserve_days, 0);
    TZ_DEFAULT(first_payout_delay, 0);
    if (c->tax_json && !*c->tax_json)
        c->tax_json = NULL; /* TipzedTax Off */
    if (!c->tax_json)
        c->tax_bps = 0;
    if (!c->invoice_issuer)
        c->invoice_issuer = "Tipzed";
    if (!c->invoice_font)
        c->invoice_font = TZ_PDF_FONT;
    TZ_DEFAULT(referral_bonus, 0);
    TZ_DEFAULT(webhook_tolerance, 300);
    TZ_DEFAULT(provider_timeout, 10);
    TZ_DEFAULT(status_poll, 60);
    TZ_DEFAULT(webhook_retries, 24);
    TZ_DEFAULT(webhook_retry_max, 6 * 3600);
    TZ_DEFAULT(webhook_private, 0);
    TZ_DEFAULT(webhook_concurrency, 8);
    TZ_DEFAULT(webhook_timeout, 10);
    TZ_DEFAULT(outbox_retention, 30 * 86400);
    if (c->smtp_url && !*c->smtp_url)
        c->smtp_url = NULL; /* TipzedSMTP Off */
    TZ_DEFAULT(max_body, 64 * 1024);
    TZ_DEFAULT(rl_count, 5);
    TZ_DEFAULT(rl_window, 60);
    TZ_DEFAULT(admin_totp, 1);
    TZ_DEFAULT(verify_ttl, 48 * 3600);
    TZ_DEFAULT(reset_ttl, 3600);
    TZ_DEFAULT(guest_rl_count, 10);
    TZ_DEFAULT(guest_rl_window, 3600);
    if (!c->metrics_acl) {
        c->metrics_acl = apr_pcalloc(p, sizeof *c->metrics_acl);
        tz_metrics_acl_default(p, c->metrics_acl);
    }
    if (!c->jwt_iss)
        c->jwt_iss = "tipzed";
    if (!c->jwt_aud)
        c->jwt_aud = "tipzed-api";
    if (!c->default_currency)
        c->default_currency = "ZMW";
    if (!c->currencies) {
        c->currencies = apr_array_make(p, 1, sizeof(const char *));
        APR_ARRAY_PUSH(c->currencies, const char *) = c->default_currency;
    }
    if (c->min_payment > c->max_payment)
        return "TipzedMinPayment is larger than TipzedMaxPayment";
    if ((err = check_currencies(p, c)))
        return err;
    if (!c->jwt_key)
        return "TipzedJWTSecretFile is required";
    if (!c->enc_keys)
        return "TipzedEncryptionKeyFile is required";
    if ((err = finalize_providers(p, c)) || (err = check_providers(p, c)))
        return err;
    c->jwt.key = (const unsigned char *)c->jwt_key;
    c->jwt.keylen = c->jwt_keylen;
    c->jwt.iss = c->jwt_iss;
    c->jwt.aud = c->jwt_aud;
    return NULL;
}
