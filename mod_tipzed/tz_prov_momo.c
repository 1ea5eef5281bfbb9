/* MTN MoMo Collections (provider "momo"): the payer confirms the payment
 * on their phone.  OAuth access token (POST /collection/token/),
 * requesttopay with X-Reference-Id = our payment id, and the request's
 * status (GET /collection/v1_0/requesttopay/{id}), which is the only
 * thing trusted: a callback is a hint to ask. */
#include <string.h>
#include "tz_provider.h"
#include "apr_strings.h"

static tz_sig_status_e tz_momo_unsigned(const tz_prov_cfg_t *cfg, const tz_webhook_t *in)
{
    (void)cfg;
    (void)in;
    return TZ_SIG_OK; /* nothing to check: every callback is verified by asking */
}

static tz_parse_status_e tz_momo_parse_stub(apr_pool_t *p, const char *body, size_t len,
                                            tz_event_t *ev)
{
    (void)p;
    (void)body;
    (void)len;
    memset(ev, 0, sizeof(*ev));
    ev->kind = TZ_EV_IGNORED;
    return TZ_PARSE_OK;
}

const tz_provider_t tz_provider_momo = {
    .name = "momo",
    .signature_header = NULL,
    .verify_signature = tz_momo_unsigned,
    .parse_event = tz_momo_parse_stub,
};
