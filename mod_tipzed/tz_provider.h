/* Payment providers as adapters behind one small interface.  Pure
 * functions (no httpd types): each adapter builds its outbound requests,
 * reads the provider's answers, verifies and parses its webhooks.  The
 * HTTP transport is tz_http_client.h; the glue in mod_tipzed_payments.c
 * strings them together. */
#ifndef TZ_PROVIDER_H
#define TZ_PROVIDER_H
#include <stddef.h>
#include <stdint.h>
#include <apr_pools.h>
#include <apr_tables.h>
#include "tz_sig.h"

typedef struct {
    const char *base_url;        /* from TipzedProvider, no trailing slash needed */
    const char *api_secret;      /* TipzedProviderSecretFile (may be NULL) */
    const char *webhook_secret;  /* TipzedWebhookSecretFile (may be NULL) */
    size_t webhook_secret_len;
    int64_t tolerance;           /* TipzedWebhookTolerance, seconds */
} tz_prov_cfg_t;

/* What a checkout is created for. */
typedef struct {
    const char *payment_id;      /* our UUID: tx_ref / client_reference_id / reference */
    int64_t amount;              /* minor units */
    const char *currency;        /* ISO 4217, upper case */
    const char *description;     /* e.g. "Tip for <creator name>" */
    const char *customer_email;
    const char *phone_number;    /* may be NULL */
    const char *callback_url;    /* absolute URL of our webhook endpoint */
    const char *return_url;      /* where the provider sends the payer back */
} tz_checkout_req_t;

/* An outbound HTTP request an adapter wants made. */
typedef struct {
    const char *method;          /* "GET" / "POST" */
    const char *url;             /* NULL when the request could not be built
                                    (e.g. invalid UTF-8): the transport refuses it */
    apr_array_header_t *headers; /* const char * "Name: value" */
    const char *body;            /* NULL for none */
    size_t bodylen;
} tz_out_req_t;

typedef enum {
    TZ_EV_SUCCESS = 0,  /* money taken */
    TZ_EV_FAILED,       /* the charge failed */
    TZ_EV_REFUNDED,     /* the provider refunded it */
    TZ_EV_IGNORED,      /* an event type we do not act on (answer 200) */
    TZ_EV_UNVERIFIED    /* a reported success the provider's verification contradicts */
} tz_event_kind_e;

/* A webhook event reduced to what crediting needs. */
typedef struct {
    tz_event_kind_e kind;
    const char *event_id;        /* the provider's unique delivery/event id */
    const char *payment_id;      /* our UUID as echoed by the provider, or NULL */
    const char *provider_tx_id;  /* provider transaction/charge id, or NULL */
    int has_amount;              /* amount/currency present in the event */
    int64_t amount;              /* minor units */
    const char *currency;        /* upper case */
    int64_t timestamp;           /* generic scheme's "timestamp", else 0 */
} tz_event_t;

typedef enum {
    TZ_PARSE_OK = 0,
    TZ_PARSE_MALFORMED           /* not the provider's shape: 400 */
} tz_parse_status_e;

/* Minor units <-> a decimal major-unit string for currencies with two
 * decimals ("2550" <-> "25.50"), exact, without floating point. */
char *tz_minor_to_decimal(apr_pool_t *p, int64_t minor);
/* Accepts "25", "25.5", "25.50"; refuses more than two decimals, signs,
 * exponents and overflow.  0 on success. */
int tz_decimal_to_minor(const char *text, int64_t *minor);

/* RFC 3986 percent-encoding of everything but unreserved characters. */
char *tz_url_escape(apr_pool_t *p, const char *s);

/* ---- helpers shared by the adapters ---- */
typedef struct {
    const char *key;
    const char *value;           /* NULL: the pair is left out */
} tz_kv_t;

/* application/x-www-form-urlencoded "k=v&k=v", keys and values both
 * percent-encoded (so "metadata[id]" travels as "metadata%5Bid%5D"). */
char *tz_form_encode(apr_pool_t *p, const tz_kv_t *kv, size_t n);
/* base + path with exactly one '/' between them. */
char *tz_prov_url(apr_pool_t *p, const char *base, const char *path);
/* "Authorization: Bearer <secret>", "Accept: application/json" and, when
 * content_type is not NULL, "Content-Type: <content_type>". */
apr_array_header_t *tz_prov_headers(apr_pool_t *p, const char *secret,
                                    const char *content_type);
/* ASCII-only case mapping (locale independent), copied into p. */
char *tz_ascii_upper(apr_pool_t *p, const char *s);
char *tz_ascii_lower(apr_pool_t *p, const char *s);

/* ---- generic mobile-money gateway (SPEC §3) and the sandbox ---- */
/* <base>?reference=<id>&amount=<minor>&currency=<c>&callback=<url>, escaped. */
char *tz_generic_checkout_url(apr_pool_t *p, const char *base, const tz_checkout_req_t *req);
/* {payment_id, status: success|failed, timestamp, provider_transaction_id?,
 * amount?, currency?}: payment_id a UUID string (lower-cased), timestamp and
 * amount JSON integers (amount >= 0), currency three upper-case letters;
 * optional members sent as null count as absent; unknown members are
 * ignored; anything else is MALFORMED.  event id = provider_transaction_id,
 * else payment_id + ":" + status. */
tz_parse_status_e tz_generic_parse_event(apr_pool_t *p, const char *body, size_t len,
                                         tz_event_t *ev);

/* ---- Flutterwave v3 ---- */
/* POST <base>/v3/payments with Bearer secret and a JSON body (tx_ref,
 * amount in major units, currency, redirect_url, customer, customizations). */
void tz_flw_checkout_request(apr_pool_t *p, const tz_prov_cfg_t *cfg,
                             const tz_checkout_req_t *req, tz_out_req_t *out);
/* data.link of {"status":"success","data":{"link":...}}; NULL otherwise. */
const char *tz_flw_checkout_link(apr_pool_t *p, const char *body, size_t len);
/* verif-hash header equals the configured secret hash. */
tz_sig_status_e tz_flw_verify_webhook(const tz_prov_cfg_t *cfg, const char *verif_hash);
/* charge.completed -> SUCCESS when data.status == "successful", FAILED when
 * "failed", IGNORED for other statuses; other events IGNORED.  payment_id =
 * data.tx_ref (a UUID, lower-cased), provider_tx_id = data.id (as text),
 * event_id = "flw:" + data.id + ":" + data.status.  data.amount (major
 * units, integer or real) is converted exactly; more than two decimals,
 * negative amounts or reals of 10^13 and above are MALFORMED. */
tz_parse_status_e tz_flw_parse_event(apr_pool_t *p, const char *body, size_t len,
                                     tz_event_t *ev);
/* GET <base>/v3/transactions/<id>/verify with Bearer secret. */
void tz_flw_verify_request(apr_pool_t *p, const tz_prov_cfg_t *cfg, const char *tx_id,
                           tz_out_req_t *out);
/* Reads the verify answer into ev (kind SUCCESS only when status=="success"
 * and data.status=="successful", FAILED when data.status=="failed", else
 * UNVERIFIED; amount/currency/tx_ref from data). */
tz_parse_status_e tz_flw_parse_verify(apr_pool_t *p, const char *body, size_t len,
                                      tz_event_t *ev);

/* ---- Stripe ---- */
/* POST <base>/v1/checkout/sessions, form-encoded, Bearer secret,
 * Idempotency-Key "tipzed-<payment id>"; client_reference_id,
 * metadata[payment_id] and payment_intent_data[metadata][payment_id] = our
 * id; customer_email when known. */
void tz_stripe_checkout_request(apr_pool_t *p, const tz_prov_cfg_t *cfg,
                                const tz_checkout_req_t *req, tz_out_req_t *out);
/* "url" of the created session; NULL otherwise. */
const char *tz_stripe_checkout_url(apr_pool_t *p, const char *body, size_t len);
/* Stripe-Signature over the raw body (tz_sig_verify_tv1). */
tz_sig_status_e tz_stripe_verify_webhook(const tz_prov_cfg_t *cfg, const char *header,
                                         const char *body, size_t len, int64_t now);
/* checkout.session.completed (payment_status "paid"),
 * checkout.session.async_payment_succeeded and payment_intent.succeeded ->
 * SUCCESS; payment_intent.payment_failed and
 * checkout.session.async_payment_failed -> FAILED; charge.refunded (fully
 * refunded) -> REFUNDED; others IGNORED, and so is an event whose object
 * carries no payment id of ours (another integration on the same account).
 * event_id = "id"; payment_id from metadata.payment_id or
 * client_reference_id; amount from amount_total / amount_received /
 * amount; currency upper-cased. */
tz_parse_status_e tz_stripe_parse_event(apr_pool_t *p, const char *body, size_t len,
                                        tz_event_t *ev);

#endif
