/* Webhook and provider-answer body parsers.  The first byte picks the
 * parser: 0 generic event, 1 Flutterwave event, 2 Stripe event,
 * 3 Flutterwave verify answer, 4 Flutterwave checkout answer, 5 Stripe
 * checkout answer, 6 generic refund answer, 7 generic status answer,
 * 8 Flutterwave refund answer, 9 Flutterwave status answer, 10 Stripe
 * refund answer, 11 Stripe status answer; the rest is the raw body. */
#include "fuzz_common.h"
#include "tz_provider.h"
#include "tz_parse.h"

#define TZ_FUZZ_PARSERS 12

/* What kind of answer a parser gives, and so which kinds it may report. */
typedef enum { TZ_FZ_WEBHOOK, TZ_FZ_VERIFY, TZ_FZ_REFUND, TZ_FZ_STATUS } tz_fuzz_role_e;

static int tz_one_of(const char *s, const char *a, const char *b, const char *c)
{
    return s && (strcmp(s, a) == 0 || strcmp(s, b) == 0 || strcmp(s, c) == 0);
}

static void check_common(const tz_event_t *ev)
{
    TZ_FUZZ_ASSERT(ev->kind >= TZ_EV_SUCCESS && ev->kind <= TZ_EV_PENDING);
    if (ev->payment_id)
        TZ_FUZZ_ASSERT(tz_is_uuid(ev->payment_id));
    if (ev->refund_id)
        TZ_FUZZ_ASSERT(tz_is_uuid(ev->refund_id));
    if (ev->has_amount)
        TZ_FUZZ_ASSERT(ev->amount >= 0);
    if (ev->has_refunded_total)
        TZ_FUZZ_ASSERT(ev->refunded_total >= 0);
    if (ev->currency)
        TZ_FUZZ_ASSERT(strlen(ev->currency) == 3);
    if (ev->kind == TZ_EV_REFUND)
        TZ_FUZZ_ASSERT(tz_one_of(ev->refund_status, "succeeded", "pending", "failed"));
    if (ev->kind == TZ_EV_DISPUTE) {
        TZ_FUZZ_ASSERT(tz_one_of(ev->dispute_status, "open", "won", "lost"));
        TZ_FUZZ_ASSERT(ev->dispute_id && *ev->dispute_id);
    }
    if (ev->provider_tx_id)
        (void)strlen(ev->provider_tx_id);
    if (ev->provider_refund_id)
        (void)strlen(ev->provider_refund_id);
    if (ev->reason)
        (void)strlen(ev->reason);
}

/* An acted-on webhook event names its fact and its payment: our id, or
 * for refunds and disputes the provider's transaction. */
static void check_webhook(const tz_event_t *ev)
{
    int by_tx = (ev->kind == TZ_EV_REFUND || ev->kind == TZ_EV_DISPUTE) &&
                ev->provider_tx_id && *ev->provider_tx_id;
    TZ_FUZZ_ASSERT(ev->kind != TZ_EV_PENDING);
    if (ev->kind == TZ_EV_IGNORED || ev->kind == TZ_EV_UNVERIFIED)
        return;
    TZ_FUZZ_ASSERT(ev->event_id && *ev->event_id);
    TZ_FUZZ_ASSERT(ev->payment_id || by_tx);
}

static void check_event(const tz_event_t *ev, tz_fuzz_role_e role)
{
    check_common(ev);
    switch (role) {
    case TZ_FZ_WEBHOOK:
        check_webhook(ev);
        break;
    case TZ_FZ_VERIFY:
        TZ_FUZZ_ASSERT(ev->kind == TZ_EV_SUCCESS || ev->kind == TZ_EV_FAILED ||
                       ev->kind == TZ_EV_UNVERIFIED);
        TZ_FUZZ_ASSERT(ev->payment_id && ev->event_id && *ev->event_id);
        break;
    case TZ_FZ_REFUND:
        TZ_FUZZ_ASSERT(ev->kind == TZ_EV_REFUND && ev->event_id && *ev->event_id);
        break;
    case TZ_FZ_STATUS:
        TZ_FUZZ_ASSERT(ev->kind == TZ_EV_SUCCESS || ev->kind == TZ_EV_FAILED ||
                       ev->kind == TZ_EV_PENDING);
        break;
    }
}

typedef tz_parse_status_e (*tz_fuzz_parser_fn)(apr_pool_t *, const char *, size_t, tz_event_t *);

/* The event parsers by selector; NULL for the checkout answers. */
static const struct {
    tz_fuzz_parser_fn fn;
    tz_fuzz_role_e role;
} tz_fuzz_parsers[TZ_FUZZ_PARSERS] = {
    {tz_generic_parse_event, TZ_FZ_WEBHOOK}, {tz_flw_parse_event, TZ_FZ_WEBHOOK},
    {tz_stripe_parse_event, TZ_FZ_WEBHOOK},  {tz_flw_parse_verify, TZ_FZ_VERIFY},
    {NULL, TZ_FZ_WEBHOOK},                   {NULL, TZ_FZ_WEBHOOK},
    {tz_generic_parse_refund, TZ_FZ_REFUND}, {tz_generic_parse_status, TZ_FZ_STATUS},
    {tz_flw_parse_refund, TZ_FZ_REFUND},     {tz_flw_parse_status, TZ_FZ_STATUS},
    {tz_stripe_parse_refund, TZ_FZ_REFUND},  {tz_stripe_parse_status, TZ_FZ_STATUS},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    tz_event_t ev;
    const char *body, *ref = NULL;
    size_t len, which;
    tz_parse_status_e st = TZ_PARSE_MALFORMED;
    if (size < 1)
        return 0;
    p = tz_fuzz_pool();
    /* The module hands parsers a NUL-terminated copy; len excludes the NUL. */
    body = apr_pstrmemdup(p, (const char *)data + 1, size - 1);
    len = size - 1;
    memset(&ev, 0, sizeof ev);
    which = data[0] % TZ_FUZZ_PARSERS;
    if (which == 4)
        (void)tz_flw_checkout_link(p, body, len, &ref);
    else if (which == 5)
        (void)tz_stripe_checkout_url(p, body, len, &ref);
    else
        st = tz_fuzz_parsers[which].fn(p, body, len, &ev);
    if (st == TZ_PARSE_INVALID)
        TZ_FUZZ_ASSERT(ev.bad_field && *ev.bad_field);
    if (st == TZ_PARSE_OK) {
        check_event(&ev, tz_fuzz_parsers[which].role);
        if (ev.has_amount)
            (void)tz_minor_to_decimal(p, ev.amount);
    }
    apr_pool_destroy(p);
    return 0;
}
