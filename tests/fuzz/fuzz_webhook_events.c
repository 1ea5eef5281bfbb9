/* Webhook and provider-answer body parsers.  The first byte picks the
 * parser: 0 generic event, 1 Flutterwave event, 2 Stripe event,
 * 3 Flutterwave verify answer, 4 Flutterwave checkout answer, 5 Stripe
 * checkout answer; the rest is the raw body. */
#include "fuzz_common.h"
#include "tz_provider.h"
#include "tz_parse.h"

static void check_event(const tz_event_t *ev)
{
    TZ_FUZZ_ASSERT(ev->kind >= TZ_EV_SUCCESS && ev->kind <= TZ_EV_UNVERIFIED);
    if (ev->payment_id)
        TZ_FUZZ_ASSERT(tz_is_uuid(ev->payment_id));
    if (ev->has_amount)
        TZ_FUZZ_ASSERT(ev->amount >= 0);
    if (ev->currency)
        TZ_FUZZ_ASSERT(strlen(ev->currency) == 3);
    if (ev->kind != TZ_EV_IGNORED && ev->kind != TZ_EV_UNVERIFIED)
        TZ_FUZZ_ASSERT(ev->event_id && *ev->event_id);
    if (ev->event_id)
        (void)strlen(ev->event_id);
    if (ev->provider_tx_id)
        (void)strlen(ev->provider_tx_id);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    tz_event_t ev;
    const char *body, *ref = NULL;
    size_t len;
    tz_parse_status_e st = TZ_PARSE_MALFORMED;
    if (size < 1)
        return 0;
    p = tz_fuzz_pool();
    /* The module hands parsers a NUL-terminated copy; len excludes the NUL. */
    body = apr_pstrmemdup(p, (const char *)data + 1, size - 1);
    len = size - 1;
    memset(&ev, 0, sizeof ev);
    switch (data[0] % 6) {
    case 0: st = tz_generic_parse_event(p, body, len, &ev); break;
    case 1: st = tz_flw_parse_event(p, body, len, &ev); break;
    case 2: st = tz_stripe_parse_event(p, body, len, &ev); break;
    case 3: st = tz_flw_parse_verify(p, body, len, &ev); break;
    case 4: (void)tz_flw_checkout_link(p, body, len, &ref); break;
    case 5: (void)tz_stripe_checkout_url(p, body, len, &ref); break;
    }
    if (st == TZ_PARSE_INVALID)
        TZ_FUZZ_ASSERT(ev.bad_field && *ev.bad_field);
    if (st == TZ_PARSE_OK) {
        check_event(&ev);
        if (ev.has_amount)
            (void)tz_minor_to_decimal(p, ev.amount);
    }
    apr_pool_destroy(p);
    return 0;
}
