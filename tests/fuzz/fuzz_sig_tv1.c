/* "t=<unix>,v1=<hex>" signature headers (generic X-Tipzed-Signature and
 * Stripe-Signature): the input is "<header>\n<raw body>" (or NUL as the
 * separator), verified with a fixed secret at a fixed clock. */
#include "fuzz_common.h"
#include "fuzz_keys.h"
#include "tz_sig.h"
#include "tz_provider.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = tz_fuzz_pool();
    char *header, *body;
    size_t bodylen;
    tz_prov_cfg_t cfg = {.enabled = 1, .base_url = "https://stripe.invalid", .api_secret = "sk",
                         .webhook_secret = TZ_FUZZ_SECRET, .webhook_secret_len = sizeof TZ_FUZZ_SECRET - 1,
                         .tolerance = TZ_FUZZ_TOLERANCE};
    tz_fuzz_split(p, data, size, &header, &body, &bodylen);
    tz_webhook_t in = {header, body, bodylen, TZ_FUZZ_NOW};
    tz_sig_status_e a = tz_sig_verify_tv1(header, TZ_FUZZ_SECRET, sizeof TZ_FUZZ_SECRET - 1,
                                          body, bodylen, TZ_FUZZ_NOW, TZ_FUZZ_TOLERANCE);
    tz_sig_status_e b = tz_stripe_verify_signature(&cfg, &in);
    TZ_FUZZ_ASSERT(a == b);
    TZ_FUZZ_ASSERT(tz_generic_verify_signature(&cfg, &in) == a);
    TZ_FUZZ_ASSERT(tz_sig_status_str(a) != NULL);
    /* No secret, no match; and the signer's own header always verifies. */
    TZ_FUZZ_ASSERT(tz_sig_verify_tv1(header, "", 0, body, bodylen, TZ_FUZZ_NOW,
                                     TZ_FUZZ_TOLERANCE) != TZ_SIG_OK);
    if (a == TZ_SIG_OK) {
        char *own = tz_sig_sign_tv1(p, TZ_FUZZ_SECRET, sizeof TZ_FUZZ_SECRET - 1, body, bodylen,
                                    TZ_FUZZ_NOW);
        TZ_FUZZ_ASSERT(own && tz_sig_verify_tv1(own, TZ_FUZZ_SECRET, sizeof TZ_FUZZ_SECRET - 1,
                                                body, bodylen, TZ_FUZZ_NOW, 0) == TZ_SIG_OK);
    }
    apr_pool_destroy(p);
    return 0;
}
