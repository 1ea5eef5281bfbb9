/* Flutterwave's verif-hash header: tz_sig_verify_hash and
 * tz_flw_verify_signature with a fixed secret; the input is the header. */
#include "fuzz_common.h"
#include "fuzz_keys.h"
#include "tz_sig.h"
#include "tz_provider.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = tz_fuzz_pool();
    char *header = apr_pstrmemdup(p, (const char *)data, size);
    tz_prov_cfg_t cfg = {.enabled = 1, .base_url = "https://flw.invalid", .api_secret = "sk",
                         .webhook_secret = TZ_FUZZ_SECRET, .webhook_secret_len = sizeof TZ_FUZZ_SECRET - 1,
                         .tolerance = TZ_FUZZ_TOLERANCE};
    tz_prov_cfg_t none = {.enabled = 1, .base_url = "https://flw.invalid", .api_secret = "sk",
                         .webhook_secret = NULL, .webhook_secret_len = 0,
                         .tolerance = TZ_FUZZ_TOLERANCE};
    tz_webhook_t in = {header, "", 0, 0};
    tz_sig_status_e a = tz_sig_verify_hash(header, TZ_FUZZ_SECRET, sizeof TZ_FUZZ_SECRET - 1);
    tz_sig_status_e b = tz_flw_verify_signature(&cfg, &in);
    TZ_FUZZ_ASSERT(a == b);
    TZ_FUZZ_ASSERT((a == TZ_SIG_OK) == (strcmp(header, TZ_FUZZ_SECRET) == 0));
    TZ_FUZZ_ASSERT(tz_flw_verify_signature(&none, &in) != TZ_SIG_OK);
    TZ_FUZZ_ASSERT(tz_sig_verify_hash(header, "", 0) != TZ_SIG_OK);
    apr_pool_destroy(p);
    return 0;
}
