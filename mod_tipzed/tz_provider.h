/* Payment providers as one const table of adapters (tz_providers[]).
 * Pure functions, no httpd types: each adapter builds its outbound
 * requests, reads the provider's answers, verifies and parses its
 * webhooks.  The HTTP transport is tz_http_client.h; the glue
 * (mod_tipzed_providers.c, mod_tipzed_webhooks.c) drives the operations a
 * row has, and answers accordingly where an operation is NULL.
 *
 * Adding a provider: one adapter file (tz_prov_<name>.c) defining its
 * const tz_provider_t, one enum value and one row in tz_provider.c.  The
 * steps are written out in docs/providers.md. */
#ifndef TZ_PROVIDER_H
#define TZ_PROVIDER_H
#include <stddef.h>
#include <stdint.h>
#include <apr_pools.h>
#include <apr_tables.h>
#include "tz_sig.h"

/* The providers, in the order the default provider is chosen (the sandbox
 * last: a live provider wins when both are on). */
typedef enum {
    TZ_PROV_MOBILE_MONEY,
    TZ_PROV_FLUTTERWAVE,
    TZ_PROV_STRIPE,
    TZ_PROV_MOMO,
    TZ_PROV_SANDBOX,
    TZ_PROV__COUNT
} tz_provider_id_e;

/* One provider's configuration: TipzedProvider (or TipzedSandbox),
 * TipzedProviderSecretFile, TipzedWebhookSecretFile, the MoMo directives,
 * and the global TipzedWebhookTolerance copied in at startup. */
typedef struct {
    int enabled;
    const char *base_url;        /* API or checkout base URL, no trailing slash needed */
    const char *api_secret;      /* outbound API secret (may be NULL); for a provider
                                    with a token operation, the glue puts the current
                                    OAuth access token here in a per-call copy */
    const char *webhook_secret;  /* webhook signing secret / hash (may be NULL) */
    size_t webhook_secret_len;
    int64_t tolerance;           /* seconds of accepted signature timestamp skew */
    /* OAuth client credentials and API product key (MTN MoMo: API user and
     * API key from TipzedMoMoUserFile, Ocp-Apim-Subscription-Key from
     * TipzedMoMoSubscriptionKeyFile, X-Target-Environment from
     * TipzedMoMoEnvironment); NULL for the other providers. */
    const char *api_user;
    const char *api_key;
    const char *subscription_key;
    const char *environment;
} tz_prov_cfg_t;

/* What a checkout is created for. */
typedef struct {
    const char *payment_id;      /* our UUID: tx_ref / client_reference_id / reference */
    int64_t amount;              /* minor units */
    const char *currency;        /* ISO 4217, upper case */
    const char *description;     /* e.g. "Tip for <creator name>" */
    const char *customer_email;
    const char *phone_number;    /* may be NULL */
    const char *api_url;         /* absolute URL of the API base (".../api/v1") */
    const char *callback_url;    /* absolute URL of this provider's webhook endpoint */
    const char *return_url;      /* where the provider sends the payer back (may be NULL) */
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

/* A signed delivery as it arrived. */
typedef struct {
    const char *signature;       /* the value of the provider's signature header, or NULL */
    const char *body;            /* raw bytes, before any parsing */
    size_t len;
    int64_t now;                 /* Unix seconds */
} tz_webhook_t;

typedef enum {
    TZ_EV_SUCCESS = 0,  /* money taken */
    TZ_EV_FAILED,       /* the charge failed */
    TZ_EV_REFUND,       /* news of a refund: refund_status says which */
    TZ_EV_IGNORED,      /* an event type we do not act on (answer 200) */
    TZ_EV_UNVERIFIED,   /* a reported success the provider's verification contradicts */
    TZ_EV_DISPUTE,      /* news of a dispute (chargeback): dispute_status says which */
    TZ_EV_PENDING       /* a status or verify answer: not final yet, ask again later */
} tz_event_kind_e;

/* A webhook event reduced to what crediting needs. */
typedef struct {
    tz_event_kind_e kind;
    const char *event_id;        /* unique per fact: a redelivery has the same id */
    const char *payment_id;      /* our UUID as echoed by the provider, or NULL */
    const char *provider_tx_id;  /* provider transaction/charge id, or NULL */
    int has_amount;              /* amount/currency present in the event */
    int64_t amount;              /* minor units */
    const char *currency;        /* upper case */
    int64_t timestamp;           /* the generic scheme's "timestamp", else 0 */
    const char *bad_field;       /* on TZ_PARSE_INVALID: the member at fault */

    /* TZ_EV_REFUND.  The payment is named by payment_id or, when the
     * provider does not echo ours, by provider_tx_id (Stripe: the
     * PaymentIntent id; Flutterwave: the transaction id).  amount is this
     * refund's amount (has_amount); refunded_total, when has_refunded_total,
     * is everything the provider has refunded of the payment so far (Stripe's
     * charge.amount_refunded) -- the glue settles by whichever it has. */
    const char *refund_status;   /* "succeeded" | "pending" | "failed" */
    const char *refund_id;       /* our refund's UUID when the provider echoes it, or NULL */
    const char *provider_refund_id;
    int has_refunded_total;
    int64_t refunded_total;

    /* TZ_EV_DISPUTE: the provider's dispute id, its state, and the disputed
     * amount/currency in amount/currency (has_amount). */
    const char *dispute_id;
    const char *dispute_status;  /* "open" | "won" | "lost" */
    const char *reason;          /* the provider's words (refusals, disputes), or NULL */
} tz_event_t;

typedef enum {
    TZ_PARSE_OK = 0,
    TZ_PARSE_MALFORMED,          /* not JSON (or not an object): 400 */
    TZ_PARSE_INVALID             /* JSON, but a known member is missing or of the
                                    wrong type or value: 422 naming ev->bad_field */
} tz_parse_status_e;

/* What a refund is asked for. */
typedef struct {
    const char *refund_id;       /* our id of this refund: the provider's idempotency key */
    const char *payment_id;
    const char *provider_tx_id;  /* the provider's id of the charge (Stripe: PaymentIntent) */
    int64_t amount;              /* minor units, <= what is left of the payment */
    const char *currency;
    const char *reason;
    int64_t now;                 /* Unix seconds, for signed requests */
} tz_refund_req_t;

/* What a status call asks about: a pending payment whose webhook has not
 * come. */
typedef struct {
    const char *payment_id;
    const char *provider_ref;    /* what the checkout answer named (Stripe: the
                                    Checkout Session id), or NULL */
    const char *provider_tx_id;  /* the provider's transaction id if known, or NULL */
    int64_t now;                 /* Unix seconds, for signed requests */
} tz_status_req_t;

/* One provider's operations.  A NULL operation is one the provider does
 * not have: checkout_link for providers whose checkout is an API call
 * (they have checkout + checkout_answer instead); verify for providers
 * whose signature alone is trusted; refund for providers that cannot
 * refund through an API (refund_local says the ledger alone is the truth,
 * as for the sandbox; otherwise a refund is refused); status for providers
 * that cannot be asked about a payment; token for providers whose API key
 * is itself the bearer secret. */
typedef struct {
    const char *name;             /* as in directives, URLs and payments.provider */
    const char *signature_header; /* the request header carrying the webhook signature,
                                     NULL when callbacks are unsigned (never trusted as
                                     sent: every event is verified with the provider) */
    int generic;                  /* speaks the generic protocol at /payments/webhook too */
    int needs_api_secret;         /* its outbound calls need TipzedProviderSecretFile */
    int needs_msisdn;             /* the payer's phone_number (an MSISDN) is required */
    int refund_local;             /* no refund call: a refund is confirmed at once */
    int refund_retry_safe;        /* a refund request sent again with the same refund_id
                                     cannot refund twice (an idempotency key), so a refund
                                     whose answer was lost is asked again */

    /* OAuth: the request for an access token, and the token and its
     * lifetime (seconds) read from the 2xx answer (0 on success). */
    void (*token)(apr_pool_t *p, const tz_prov_cfg_t *cfg, tz_out_req_t *out);
    int (*token_answer)(apr_pool_t *p, const char *body, size_t len, const char **token,
                        int64_t *expires_in);

    /* Redirect gateways: the payer's link, built without any call. */
    const char *(*checkout_link)(apr_pool_t *p, const tz_prov_cfg_t *cfg,
                                 const tz_checkout_req_t *req);
    /* API checkouts: the request that creates the checkout, and the link
     * read from its 2xx answer (NULL when unusable; "" when the checkout
     * has no link: the payer confirms on their phone).  *provider_ref (may
     * stay NULL) names the checkout for later status calls. */
    void (*checkout)(apr_pool_t *p, const tz_prov_cfg_t *cfg, const tz_checkout_req_t *req,
                     tz_out_req_t *out);
    const char *(*checkout_answer)(apr_pool_t *p, const char *body, size_t len,
                                   const char **provider_ref);

    /* The webhook: its signature (on the raw bytes), then its event. */
    tz_sig_status_e (*verify_signature)(const tz_prov_cfg_t *cfg, const tz_webhook_t *in);
    tz_parse_status_e (*parse_event)(apr_pool_t *p, const char *body, size_t len,
                                     tz_event_t *ev);

    /* Asks the provider about a reported event before it is applied; the
     * 2xx answer is read into v (TZ_PARSE_OK: a verdict). */
    void (*verify)(apr_pool_t *p, const tz_prov_cfg_t *cfg, const tz_event_t *ev,
                   tz_out_req_t *out);
    tz_parse_status_e (*verify_answer)(apr_pool_t *p, const char *body, size_t len,
                                       tz_event_t *v);

    /* Refunds through the provider: the request, and its 2xx answer read
     * as a TZ_EV_REFUND event (refund_status, provider_refund_id, amount).
     * A 4xx answer other than 408, 409 and 429 is a refusal (the glue's
     * rule); anything else leaves the refund pending. */
    void (*refund)(apr_pool_t *p, const tz_prov_cfg_t *cfg, const tz_refund_req_t *req,
                   tz_out_req_t *out);
    tz_parse_status_e (*refund_answer)(apr_pool_t *p, const char *body, size_t len,
                                       tz_event_t *v);
    /* The status of a pending payment whose webhook has not come: its 2xx
     * answer read as TZ_EV_SUCCESS / TZ_EV_FAILED (a verdict, with
     * payment_id, provider_tx_id, amount, currency when the provider says
     * them) or TZ_EV_PENDING (ask again later).  event_id is left to the
     * glue. */
    void (*status)(apr_pool_t *p, const tz_prov_cfg_t *cfg, const tz_status_req_t *req,
                   tz_out_req_t *out);
    tz_parse_status_e (*status_answer)(apr_pool_t *p, const char *body, size_t len,
                                       tz_event_t *v);
} tz_provider_t;

/* The table, indexed by tz_provider_id_e. */
extern const tz_provider_t *const tz_providers[TZ_PROV__COUNT];

/* The id of the provider called name, or -1. */
int tz_provider_id(const char *name);

/* "mobile_money, flutterwave, stripe, sandbox": for error messages. */
const char *tz_provider_names(apr_pool_t *p);

/* The adapters' rows. */
extern const tz_provider_t tz_provider_generic;
extern const tz_provider_t tz_provider_flutterwave;
extern const tz_provider_t tz_provider_stripe;
extern const tz_provider_t tz_provider_momo;
extern const tz_provider_t tz_provider_sandbox;

/* ---- refunds: the provider's word on a refund call ---- */
/* "succeeded", "pending" or "failed" as the parsed 2xx answer v says
 * (answered: 1 when the call got an HTTP answer at all, st: how its body
 * parsed); "failed" for a refusal (a 4xx other than 408, 409, 425 and 429:
 * the provider did not and will not do it); "unknown" for anything else (no
 * answer, a timeout, 5xx, an unreadable 2xx): the refund may or may not have
 * been made, and stays pending. */
const char *tz_refund_verdict(int answered, int http_status, tz_parse_status_e st,
                              const tz_event_t *v);
/* The provider's own words in an error body ("message", "error.message",
 * "error" or "reason" of a JSON object), at most 200 bytes cut at a UTF-8
 * boundary, or NULL. */
const char *tz_provider_message(apr_pool_t *p, const char *body, size_t len);

/* ---- helpers shared by the adapters ---- */

/* Minor units <-> a decimal major-unit string for currencies with two
 * decimals ("2550" <-> "25.50"), exact, without floating point. */
char *tz_minor_to_decimal(apr_pool_t *p, int64_t minor);
/* Accepts "25", "25.5", "25.50"; refuses more than two decimals, signs,
 * exponents and overflow.  0 on success. */
int tz_decimal_to_minor(const char *text, int64_t *minor);

/* RFC 3986 percent-encoding of everything but unreserved characters. */
char *tz_url_escape(apr_pool_t *p, const char *s);

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
/* Marks ev invalid because of member field; returns TZ_PARSE_INVALID. */
tz_parse_status_e tz_event_invalid(tz_event_t *ev, const char *field);

/* ---- the generic mobile-money gateway (and the sandbox's wire format) ---- */
/* <base>?reference=<id>&amount=<minor>&currency=<c>&callback=<url>, escaped. */
const char *tz_generic_checkout_link(apr_pool_t *p, const tz_prov_cfg_t *cfg,
                                     const tz_checkout_req_t *req);
/* X-Tipzed-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>. */
tz_sig_status_e tz_generic_verify_signature(const tz_prov_cfg_t *cfg, const tz_webhook_t *in);
/* {payment_id, status: success|failed, timestamp, provider_transaction_id?,
 * amount?, currency?}: payment_id a UUID string (lower-cased), timestamp
 * RFC 3339 text or Unix seconds, amount a JSON integer >= 0, currency
 * three upper-case letters; optional members sent as null count as absent;
 * unknown members are ignored.  event id = payment_id ":"
 * provider_transaction_id (empty when absent) ":" status.
 * status refunded | refund_failed (REFUND, refund_status succeeded |
 * failed) also requires refund_id (a UUID) and amount; dispute_opened |
 * dispute_won | dispute_lost (DISPUTE, dispute_status open | won | lost)
 * requires dispute_id (1..100 characters, no control characters) and
 * amount; both take an optional "reason" text, and their event id is
 * payment_id ":" refund_id or dispute_id ":" status. */
tz_parse_status_e tz_generic_parse_event(apr_pool_t *p, const char *body, size_t len,
                                         tz_event_t *ev);
/* POST <base>/refunds, JSON {refund_id, payment_id, provider_transaction_id
 * (left out when NULL), amount (minor units), currency, reason (left out
 * when NULL)}, Content-Type and Accept application/json, and
 * X-Tipzed-Signature over the exact body at req->now with the webhook
 * secret (no URL when there is no secret). */
void tz_generic_refund_request(apr_pool_t *p, const tz_prov_cfg_t *cfg,
                               const tz_refund_req_t *req, tz_out_req_t *out);
/* {refund_id: UUID, status: succeeded|pending|failed, provider_refund_id?,
 * amount? (integer >= 0), reason?} -> REFUND; event id refund_id ":" status. */
tz_parse_status_e tz_generic_parse_refund(apr_pool_t *p, const char *body, size_t len,
                                          tz_event_t *ev);
/* POST <base>/status, JSON {payment_id}, signed like the refund call. */
void tz_generic_status_request(apr_pool_t *p, const tz_prov_cfg_t *cfg,
                               const tz_status_req_t *req, tz_out_req_t *out);
/* {payment_id, status: success|failed|pending, provider_transaction_id?,
 * amount?, currency?} (the callback's rules, no timestamp) -> SUCCESS |
 * FAILED | PENDING. */
tz_parse_status_e tz_generic_parse_status(apr_pool_t *p, const char *body, size_t len,
                                          tz_event_t *ev);

/* ---- the sandbox ---- */
/* <api_url>/sandbox/checkout/<payment id>: the module's own page. */
const char *tz_sandbox_checkout_link(apr_pool_t *p, const tz_prov_cfg_t *cfg,
                                     const tz_checkout_req_t *req);
/* The sandbox's webhook secret: HMAC-SHA256 of a fixed label under the
 * JWT key, as hex, so every child and every restart agree on it (NULL
 * when the MAC cannot be computed). */
const char *tz_sandbox_secret(apr_pool_t *p, const void *jwt_key, size_t jwt_keylen,
                              size_t *len);

/* ---- Flutterwave v3 ---- */
/* POST <base>/v3/payments with Bearer secret and a JSON body (tx_ref,
 * amount in major units, currency, redirect_url, customer, customizations). */
void tz_flw_checkout_request(apr_pool_t *p, const tz_prov_cfg_t *cfg,
                             const tz_checkout_req_t *req, tz_out_req_t *out);
/* data.link of {"status":"success","data":{"link":...}}; NULL otherwise. */
const char *tz_flw_checkout_link(apr_pool_t *p, const char *body, size_t len,
                                 const char **provider_ref);
/* The verif-hash header equals the configured secret hash. */
tz_sig_status_e tz_flw_verify_signature(const tz_prov_cfg_t *cfg, const tz_webhook_t *in);
/* charge.completed -> SUCCESS when data.status == "successful", FAILED when
 * "failed", IGNORED for other statuses.  payment_id = data.tx_ref (a UUID,
 * lower-cased), provider_tx_id = data.id (as text), event_id = "flw:" +
 * data.id + ":" + data.status.  data.amount (major units, integer or
 * real) is converted exactly; more than two decimals, negative amounts or
 * reals of 10^13 and above are INVALID.
 * refund.completed -> REFUND of provider_tx_id = data.tx_id, read as
 * tz_flw_parse_refund reads data; event_id "flw:refund:<id>:<status>".
 * chargeback.created / chargeback.updated -> DISPUTE: dispute_id = data.id,
 * provider_tx_id = data.transaction_id (as text), payment_id = data.tx_ref
 * when it is a UUID (else NULL), amount from data.amount, currency when
 * sent; dispute_status "lost" for lost/accepted, "won" for won/reversed,
 * else "open"; event_id "flw:chargeback:<id>:<status>".
 * Other events IGNORED. */
tz_parse_status_e tz_flw_parse_event(apr_pool_t *p, const char *body, size_t len,
                                     tz_event_t *ev);
/* GET <base>/v3/transactions/<ev->provider_tx_id>/verify with Bearer secret. */
void tz_flw_verify_request(apr_pool_t *p, const tz_prov_cfg_t *cfg, const tz_event_t *ev,
                           tz_out_req_t *out);
/* Reads the verify answer into ev (kind SUCCESS only when status=="success"
 * and data.status=="successful", FAILED when data.status=="failed", else
 * UNVERIFIED; amount/currency/tx_ref from data). */
tz_parse_status_e tz_flw_parse_verify(apr_pool_t *p, const char *body, size_t len,
                                      tz_event_t *ev);
/* POST <base>/v3/transactions/<provider_tx_id>/refund, Bearer secret,
 * JSON {"amount": <major units, exact decimal text>, "comments": reason}
 * (comments left out when NULL; no URL without a transaction id). */
void tz_flw_refund_request(apr_pool_t *p, const tz_prov_cfg_t *cfg, const tz_refund_req_t *req,
                           tz_out_req_t *out);
/* {"status":"success","data":{id, tx_id, amount_refunded, status}} ->
 * REFUND: provider_refund_id = data.id, provider_tx_id = data.tx_id (as
 * text), amount exact from amount_refunded, refund_status "succeeded" for
 * completed, "failed" for failed, else "pending". */
tz_parse_status_e tz_flw_parse_refund(apr_pool_t *p, const char *body, size_t len,
                                      tz_event_t *ev);
/* GET <base>/v3/transactions/verify_by_reference?tx_ref=<payment id>, Bearer. */
void tz_flw_status_request(apr_pool_t *p, const tz_prov_cfg_t *cfg, const tz_status_req_t *req,
                           tz_out_req_t *out);
/* Read as tz_flw_parse_verify reads, but SUCCESS only for "success" with
 * data.status "successful", FAILED for "failed", else PENDING. */
tz_parse_status_e tz_flw_parse_status(apr_pool_t *p, const char *body, size_t len,
                                      tz_event_t *ev);

/* ---- Stripe ---- */
/* POST <base>/v1/checkout/sessions, form-encoded, Bearer secret,
 * Idempotency-Key "tipzed-<payment id>"; client_reference_id,
 * metadata[payment_id] and payment_intent_data[metadata][payment_id] = our
 * id; customer_email when known. */
void tz_stripe_checkout_request(apr_pool_t *p, const tz_prov_cfg_t *cfg,
                                const tz_checkout_req_t *req, tz_out_req_t *out);
/* "url" of the created session (NULL otherwise), its "id" in *provider_ref. */
const char *tz_stripe_checkout_url(apr_pool_t *p, const char *body, size_t len,
                                   const char **provider_ref);
/* Stripe-Signature over the raw body (tz_sig_verify_tv1). */
tz_sig_status_e tz_stripe_verify_signature(const tz_prov_cfg_t *cfg, const tz_webhook_t *in);
/* checkout.session.completed (payment_status "paid"),
 * checkout.session.async_payment_succeeded and payment_intent.succeeded ->
 * SUCCESS; checkout.session.async_payment_failed and
 * checkout.session.expired -> FAILED (the session is over);
 * payment_intent.payment_failed IGNORED (the payer may retry within the
 * session); these carry payment_id from metadata.payment_id or
 * client_reference_id, and an object without one is IGNORED (another
 * integration on the same account).  Refunds and disputes are matched by
 * provider_tx_id = the object's payment_intent, payment_id NULL, and an
 * object without a payment_intent is IGNORED: charge.refunded (partial or
 * full) -> REFUND "succeeded" with refunded_total = amount_refunded (no
 * amount of its own); charge.refund.updated, refund.updated and
 * refund.failed -> REFUND read as tz_stripe_parse_refund reads the Refund;
 * charge.dispute.created / .updated / .closed -> DISPUTE (dispute_id, amount,
 * currency, reason; dispute_status "won" for won / warning_closed, "lost"
 * for lost, else "open").  Others IGNORED.  event_id = "id"; amounts from
 * amount_total / amount_received / amount; currency upper-cased. */
tz_parse_status_e tz_stripe_parse_event(apr_pool_t *p, const char *body, size_t len,
                                        tz_event_t *ev);
/* POST <base>/v1/refunds, form-encoded, Bearer secret, Idempotency-Key
 * "tipzed-refund-<refund id>"; payment_intent = provider_tx_id, amount
 * (minor units), metadata[refund_id], metadata[payment_id],
 * metadata[reason] (cut to 500 characters).  No URL without a
 * PaymentIntent. */
void tz_stripe_refund_request(apr_pool_t *p, const tz_prov_cfg_t *cfg,
                              const tz_refund_req_t *req, tz_out_req_t *out);
/* A Refund object -> REFUND: provider_refund_id = id, amount, currency,
 * provider_tx_id = payment_intent, refund_id = metadata.refund_id when a
 * UUID, reason = failure_reason; refund_status "succeeded" for succeeded,
 * "failed" for failed / canceled, else "pending".  event_id id ":" status. */
tz_parse_status_e tz_stripe_parse_refund(apr_pool_t *p, const char *body, size_t len,
                                         tz_event_t *ev);
/* GET <base>/v1/checkout/sessions/<provider_ref>, Bearer secret (no URL
 * without a provider_ref). */
void tz_stripe_status_request(apr_pool_t *p, const tz_prov_cfg_t *cfg,
                              const tz_status_req_t *req, tz_out_req_t *out);
/* A Checkout Session: status "complete" with payment_status "paid" ->
 * SUCCESS, "expired" -> FAILED (both with amount_total, currency,
 * provider_tx_id = payment_intent, payment_id when the session carries
 * ours), anything else PENDING. */
tz_parse_status_e tz_stripe_parse_status(apr_pool_t *p, const char *body, size_t len,
                                         tz_event_t *ev);

/* ---- MTN MoMo Collections ---- */
/* A payer's MSISDN: an optional leading '+', then 10..15 digits, the
 * first not 0 ("+260971234567" -> "260971234567"); NULL otherwise. */
const char *tz_msisdn_normalize(apr_pool_t *p, const char *in);
/* "Basic " base64(api_user ":" api_key). */
char *tz_momo_basic_auth(apr_pool_t *p, const char *api_user, const char *api_key);
/* POST <base>/collection/token/ with Basic auth, Ocp-Apim-Subscription-Key
 * and an empty body; url NULL when a credential is missing or unsafe. */
void tz_momo_token_request(apr_pool_t *p, const tz_prov_cfg_t *cfg, tz_out_req_t *out);
/* {"access_token": "...", "token_type": ..., "expires_in": N}: 0 with the
 * token (non-empty, printable, no space) and N (a positive integer). */
int tz_momo_token_answer(apr_pool_t *p, const char *body, size_t len, const char **token,
                         int64_t *expires_in);
/* POST <base>/collection/v1_0/requesttopay, Bearer cfg->api_secret (the
 * access token), X-Reference-Id = payment id, X-Target-Environment,
 * X-Callback-Url, Ocp-Apim-Subscription-Key; body {amount (decimal text),
 * currency, externalId, payer {partyIdType "MSISDN", partyId},
 * payerMessage (description, at most 160 bytes of whole UTF-8 sequences),
 * payeeNote "Tipzed"}.  url NULL without a valid MSISDN, with invalid
 * UTF-8, or without a header value. */
void tz_momo_checkout_request(apr_pool_t *p, const tz_prov_cfg_t *cfg,
                              const tz_checkout_req_t *req, tz_out_req_t *out);
/* "" (202 Accepted, no link: the payer confirms on the phone); no ref. */
const char *tz_momo_checkout_answer(apr_pool_t *p, const char *body, size_t len,
                                    const char **provider_ref);
/* Callbacks are unsigned: always TZ_SIG_OK (each one is verified by asking). */
tz_sig_status_e tz_momo_verify_signature(const tz_prov_cfg_t *cfg, const tz_webhook_t *in);
/* GET <base>/collection/v1_0/requesttopay/<payment id> (ev->payment_id,
 * req->payment_id) with Bearer, X-Target-Environment and the key. */
void tz_momo_verify_request(apr_pool_t *p, const tz_prov_cfg_t *cfg, const tz_event_t *ev,
                            tz_out_req_t *out);
void tz_momo_status_request(apr_pool_t *p, const tz_prov_cfg_t *cfg,
                            const tz_status_req_t *req, tz_out_req_t *out);
/* A requesttopay object: status SUCCESSFUL -> SUCCESS; FAILED, REJECTED,
 * TIMEOUT, EXPIRED -> FAILED; anything else PENDING.  payment_id =
 * externalId (a UUID, lower-cased; INVALID "externalId"), provider_tx_id
 * = financialTransactionId, amount from decimal text or a JSON integer of
 * major units with currency (both or neither), reason from a string or an
 * object's message/code; event_id "momo:<payment id>:<STATUS>". */
tz_parse_status_e tz_momo_status_answer(apr_pool_t *p, const char *body, size_t len,
                                        tz_event_t *ev);
/* The callback MTN sends to X-Callback-Url: the same object, the payment
 * id from externalId or else referenceId.  Not trusted: verified by asking. */
tz_parse_status_e tz_momo_parse_event(apr_pool_t *p, const char *body, size_t len,
                                      tz_event_t *ev);

#endif
