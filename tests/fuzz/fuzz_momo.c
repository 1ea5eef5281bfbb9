/* MTN MoMo Collections: the bodies MTN sends us and the fields we send.
 * The first byte picks the reader: 0 callback (tz_momo_parse_event),
 * 1 status/verify answer (tz_momo_status_answer), 2 token answer
 * (tz_momo_token_answer), 3 a checkout built from "<phone>\n<description>"
 * (tz_msisdn_normalize, tz_momo_checkout_request); the rest is the input. */
#include "fuzz_common.h"
#include "tz_provider.h"
#include "tz_parse.h"
#include "tz_json.h"

#define PID "0f8e9a52-3c1d-4b7a-9e21-5d4c3b2a1f00"

static const tz_prov_cfg_t cfg = {
    .enabled = 1, .base_url = "https://momo.example", .api_secret = "token",
    .api_user = "user", .api_key = "key", .subscription_key = "sub", .environment = "sandbox"};

static int is_lower_uuid(const char *s)
{
    for (const char *c = s; *c; c++)
        if (*c >= 'A' && *c <= 'Z')
            return 0;
    return tz_is_uuid(s);
}

static void check_event(apr_pool_t *p, const tz_event_t *ev)
{
    TZ_FUZZ_ASSERT(ev->kind == TZ_EV_SUCCESS || ev->kind == TZ_EV_FAILED ||
                   ev->kind == TZ_EV_PENDING);
    TZ_FUZZ_ASSERT(ev->payment_id && is_lower_uuid(ev->payment_id));
    TZ_FUZZ_ASSERT(ev->event_id);
    const char *prefix = apr_pstrcat(p, "momo:", ev->payment_id, ":", NULL);
    TZ_FUZZ_ASSERT(strncmp(ev->event_id, prefix, strlen(prefix)) == 0);
    TZ_FUZZ_ASSERT(ev->event_id[strlen(prefix)] != '\0');
    if (ev->has_amount) {
        TZ_FUZZ_ASSERT(ev->amount >= 0);
        TZ_FUZZ_ASSERT(ev->currency && !tz_parse_currency(ev->currency));
        (void)tz_minor_to_decimal(p, ev->amount);
    } else {
        TZ_FUZZ_ASSERT(!ev->currency);
    }
    if (ev->provider_tx_id)
        TZ_FUZZ_ASSERT(*ev->provider_tx_id);
    if (ev->reason)
        TZ_FUZZ_ASSERT(*ev->reason);
}

static void check_token(const char *tok, int64_t exp)
{
    TZ_FUZZ_ASSERT(tok && *tok && exp > 0);
    for (const char *c = tok; *c; c++)
        TZ_FUZZ_ASSERT((unsigned char)*c > 0x20 && *c != 0x7f);
}

/* A built request carries a valid MSISDN and a message of at most 160
 * bytes of valid UTF-8; otherwise it is refused. */
static void check_checkout(apr_pool_t *p, const char *phone, const char *desc)
{
    tz_checkout_req_t req = {PID, 2550, "ZMW", desc, NULL, phone, "https://h/api/v1",
                             "https://h/api/v1/webhooks/momo", NULL};
    tz_out_req_t out;
    const char *msisdn = tz_msisdn_normalize(p, phone), *err, *msg;
    json_t *body;
    if (msisdn) {
        size_t n = strlen(msisdn);
        TZ_FUZZ_ASSERT(n >= 10 && n <= 15 && msisdn[0] != '0');
        TZ_FUZZ_ASSERT(strspn(msisdn, "0123456789") == n);
        TZ_FUZZ_ASSERT(strcmp(phone + (phone[0] == '+'), msisdn) == 0);
    }
    tz_momo_checkout_request(p, &cfg, &req, &out);
    if (!msisdn)
        TZ_FUZZ_ASSERT(!out.url);
    if (!out.url)
        return;
    body = tz_json_parse(p, out.body, out.bodylen, &err);
    TZ_FUZZ_ASSERT(json_is_object(body));
    msg = json_string_value(json_object_get(body, "payerMessage"));
    TZ_FUZZ_ASSERT(msg && strlen(msg) <= 160 && strncmp(desc, msg, strlen(msg)) == 0);
    TZ_FUZZ_ASSERT(strcmp(json_string_value(json_object_get(json_object_get(body, "payer"),
                                                            "partyId")), msisdn) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    tz_event_t ev;
    const char *body, *tok = NULL;
    char *phone, *desc;
    size_t len;
    int64_t exp = 0;
    tz_parse_status_e st = TZ_PARSE_MALFORMED;
    if (size < 1)
        return 0;
    p = tz_fuzz_pool();
    body = apr_pstrmemdup(p, (const char *)data + 1, size - 1);
    len = size - 1;
    memset(&ev, 0, sizeof ev);
    switch (data[0] % 4) {
    case 0: st = tz_momo_parse_event(p, body, len, &ev); break;
    case 1: st = tz_momo_status_answer(p, body, len, &ev); break;
    case 2:
        if (tz_momo_token_answer(p, body, len, &tok, &exp) == 0)
            check_token(tok, exp);
        break;
    case 3:
        tz_fuzz_split(p, data + 1, size - 1, &phone, &desc, &len);
        check_checkout(p, phone, desc);
        break;
    }
    if (st == TZ_PARSE_INVALID)
        TZ_FUZZ_ASSERT(ev.bad_field && *ev.bad_field);
    if (st == TZ_PARSE_OK)
        check_event(p, &ev);
    apr_pool_destroy(p);
    return 0;
}
