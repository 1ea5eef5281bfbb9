/* Shared declarations of the httpd glue (mod_tipzed*.c).  The core
 * (tz_*.c) never includes this header. */
#ifndef MOD_TIPZED_H
#define MOD_TIPZED_H

#include "httpd.h"
#include "http_config.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"
#include "http_core.h"
#include "apr_strings.h"
#include "apr_dbd.h"
#include "mod_dbd.h"

#include "tz_crypto.h"
#include "tz_json.h"
#include "tz_schema.h"
#include "tz_query.h"
#include "tz_jwt.h"
#include "tz_sql.h"
#include "tz_provider.h"
#include "tz_http_client.h"

extern module AP_MODULE_DECLARE_DATA tipzed_module;

#define TZ_UNSET (-1)

typedef enum { TZ_PROV_MOBILE_MONEY, TZ_PROV_FLUTTERWAVE, TZ_PROV_STRIPE, TZ_PROV__COUNT } tz_provider_e;

typedef struct {
    int enabled;
    const char *base_url;
    const char *api_secret;        /* outbound API secret */
    const char *webhook_secret;    /* webhook signing secret / verif-hash */
    apr_size_t webhook_secret_len;
} tz_provider_cfg_t;

/* Server configuration.  Fields start unset (NULL / TZ_UNSET) so merging can
 * tell "not given" from an explicit value; tz_cfg_finalize() applies the
 * defaults of SPEC §5 after the merge. */
typedef struct {
    const char *jwt_key;            /* secret file content */
    apr_size_t jwt_keylen;
    const char *jwt_iss, *jwt_aud;
    apr_int64_t access_ttl, refresh_ttl;
    int fee_bps;
    const char *default_currency;
    apr_array_header_t *currencies; /* const char * */
    apr_int64_t min_payment, max_payment, min_payout;
    apr_int64_t payment_expiry;
    tz_provider_cfg_t providers[TZ_PROV__COUNT];
    int providers_set;
    const char *default_provider;
    apr_int64_t webhook_tolerance;
    apr_int64_t provider_timeout;   /* seconds, total per outbound call */
    int sandbox;
    apr_array_header_t *enc_keys;   /* tz_aead_key_t; first one seals */
    apr_int64_t max_body;
    apr_array_header_t *cors_origins; /* const char * */
    int rl_count;
    apr_int64_t rl_window;
    tz_jwt_cfg_t jwt;               /* derived at finalize */
    int active;                     /* 0: no Tipzed directives in this server */
} tz_cfg_t;

extern const command_rec tz_cmds[];
extern unsigned tz_hash_concurrency; /* TipzedPasswordHashConcurrency, 0: unset */
void *tz_cfg_create(apr_pool_t *p, server_rec *s);
void *tz_cfg_merge(apr_pool_t *p, void *base, void *add);
const char *tz_cfg_finalize(apr_pool_t *p, tz_cfg_t *c);
const char *tz_provider_name(tz_provider_e p);
int tz_provider_from_name(const char *name);

static inline tz_cfg_t *tz_cfg(const request_rec *r)
{
    return ap_get_module_config(r->server->module_config, &tipzed_module);
}

/* The authenticated caller. */
typedef struct {
    const char *id;
    const char *role;
} tz_principal_t;

/* One request as the API handlers see it. */
typedef struct {
    request_rec *r;
    tz_cfg_t *cfg;
    const char *id;          /* the {id} path segment, or NULL */
    tz_principal_t user;     /* set when the route requires auth */
    const char *raw;         /* raw body (NUL-terminated copy) and its length */
    apr_size_t rawlen;
    json_t *body;            /* parsed JSON object, for JSON routes */
    const char *request_id;  /* also sent as X-Request-Id */
} tz_req_t;

typedef int (*tz_handler_fn)(tz_req_t *q);

/* Route flags. */
#define TZ_R_PUBLIC   0x00
#define TZ_R_USER     0x01  /* any authenticated user */
#define TZ_R_FAN      0x02
#define TZ_R_CREATOR  0x04
#define TZ_R_ADMIN    0x08
#define TZ_R_JSON     0x10  /* reads a JSON object body */
#define TZ_R_RAW      0x20  /* reads the raw body (signed webhooks) */
#define TZ_R_OPTJSON  0x40  /* JSON body optional (empty allowed) */

typedef struct {
    tz_handler_fn fn;
    unsigned flags;
} tz_route_data_t;

/* mod_tipzed_http.c */
int tz_send_json(request_rec *r, int status, json_t *j);
int tz_send_json_text(request_rec *r, int status, const char *text);
int tz_send_problem(request_rec *r, int status, const char *code, const char *detail);
int tz_send_field_problem(request_rec *r, int status, const char *code, const char *field,
                          const char *message);
int tz_send_problem_errors(request_rec *r, int status, const char *code, const char *detail,
                           json_t *errors);
int tz_send_no_content(request_rec *r);
int tz_read_body(request_rec *r, apr_int64_t limit, char **buf, apr_size_t *len);
const char *tz_client_ip(request_rec *r);
/* A decoded query-string parameter (the first if repeated), or NULL. */
const char *tz_query_arg(request_rec *r, const char *name);
int tz_validate_or_422(tz_req_t *q, const tz_schema_t *schema);

/* mod_tipzed_db.c */
typedef struct {
    apr_dbd_results_t *res;
    apr_dbd_row_t *row;      /* reused: the driver counts rows in it */
    ap_dbd_t *dbd;
} tz_rows_t;
void tz_db_register(apr_pool_t *p, server_rec *s);
void tz_db_child_init(apr_pool_t *p, server_rec *s);
/* Runs a labelled select with text arguments (NULL = SQL NULL).  Returns 0,
 * or an HTTP status (503) after logging; recovers once from a restarted
 * PostgreSQL (PITFALLS 2). */
int tz_db_select(request_rec *r, tz_query_e q, tz_rows_t *out, const char **args);
int tz_db_server_value(apr_pool_t *p, server_rec *s, tz_query_e q, const char **args,
                       const char **value);
/* The first column of the first row, or NULL when no row / SQL NULL. */
int tz_db_value(request_rec *r, tz_query_e q, const char **args, const char **value);
/* Next row's columns into cols[0..ncols); returns 1 per row, 0 at the end. */
int tz_db_next(request_rec *r, tz_rows_t *rows, const char **cols, int ncols);
/* Calls a JSON-returning function: parses the single text value. */
int tz_db_json(request_rec *r, tz_query_e q, const char **args, json_t **out);

/* mod_tipzed_auth.c */
int tz_authenticate(tz_req_t *q);
int tz_h_register(tz_req_t *q);
int tz_h_login(tz_req_t *q);
int tz_h_refresh(tz_req_t *q);
int tz_h_logout(tz_req_t *q);
int tz_h_me(tz_req_t *q);

/* mod_tipzed_ratelimit.c */
int tz_rl_pre_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp);
apr_status_t tz_rl_post_config(apr_pool_t *p, server_rec *s);
void tz_rl_child_init(apr_pool_t *p, server_rec *s);
apr_int64_t tz_rl_check(request_rec *r, const char *key, unsigned limit, apr_int64_t window);
void tz_rl_record_failure(request_rec *r, const char *key, apr_int64_t window);
void tz_rl_clear(request_rec *r, const char *key);

/* mod_tipzed_creators.c, mod_tipzed_wallets.c */
/* mod_tipzed_cache.c: public creator profiles in a shared socache. */
const char *tz_cache_directive(cmd_parms *cmd, void *d, const char *spec, const char *ttl);
int tz_cache_pre_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp);
apr_status_t tz_cache_post_config(apr_pool_t *p, server_rec *s);
void tz_cache_child_init(apr_pool_t *p, server_rec *s);
const char *tz_cache_get(tz_req_t *q, const char *creator);
int tz_cache_put(tz_req_t *q, const char *creator, const char *json); /* 0: cache off */
void tz_cache_forget(tz_req_t *q, const char *creator);

int tz_h_creator_get(tz_req_t *q);
int tz_h_creator_me(tz_req_t *q);
int tz_h_creator_update(tz_req_t *q);
int tz_h_follow(tz_req_t *q);
int tz_h_unfollow(tz_req_t *q);
int tz_h_wallet(tz_req_t *q);
int tz_h_wallet_transactions(tz_req_t *q);

/* mod_tipzed_idempotency.c: tz_idem_begin returns OK when this request
 * owns the key, DONE when it already answered (replay, 400, 409, 422). */
typedef struct {
    const char *key;
} tz_idem_key_t;
int tz_idem_begin(tz_req_t *q, const char *route, tz_idem_key_t *k);
int tz_idem_respond(tz_req_t *q, tz_idem_key_t *k, int status, json_t *body);
void tz_idem_release(tz_req_t *q, tz_idem_key_t *k);

/* mod_tipzed_payments.c, mod_tipzed_webhooks.c, mod_tipzed_sandbox.c */
int tz_h_payment_initiate(tz_req_t *q);
int tz_h_payment_get(tz_req_t *q);
int tz_h_payments_list(tz_req_t *q);
int tz_h_payment_refund(tz_req_t *q);
int tz_h_webhook_generic(tz_req_t *q);
int tz_h_webhook_flutterwave(tz_req_t *q);
int tz_h_webhook_stripe(tz_req_t *q);
/* The adapter view of a provider's configuration. */
tz_prov_cfg_t tz_prov_cfg(const tz_cfg_t *c, tz_provider_e which);
/* Performs an adapter's request with the configured timeouts. */
int tz_provider_call(request_rec *r, const tz_cfg_t *c, const tz_out_req_t *req, tz_http_resp_t *resp);
const char *tz_provider_checkout(tz_req_t *q, const char *provider, const tz_checkout_req_t *cr);
int tz_h_sandbox_checkout(tz_req_t *q);
/* The sandbox's webhook secret, derived from the JWT key so every child
 * and every restart agree on it. */
const char *tz_sandbox_secret(apr_pool_t *p, const tz_cfg_t *c, apr_size_t *len);
/* Applies a verified provider event; sends the answer. */
int tz_apply_event(tz_req_t *q, const char *provider, const tz_event_t *ev);

/* mod_tipzed_payouts.c, mod_tipzed_admin.c */
int tz_h_payout_request(tz_req_t *q);
int tz_h_payouts_me(tz_req_t *q);
int tz_h_payouts_page(tz_req_t *q, const char **args);
int tz_payout_step(tz_req_t *q, const char *action, const char *text);
int tz_h_payout_cancel(tz_req_t *q);
int tz_h_admin_payouts(tz_req_t *q);
int tz_h_admin_payout_approve(tz_req_t *q);
int tz_h_admin_payout_reject(tz_req_t *q);
int tz_h_admin_payout_process(tz_req_t *q);
int tz_h_admin_payout_complete(tz_req_t *q);
int tz_h_admin_payout_fail(tz_req_t *q);
int tz_h_admin_transactions(tz_req_t *q);
int tz_h_admin_reconciliation(tz_req_t *q);
int tz_h_admin_audit_log(tz_req_t *q);
/* Appends to the audit log (failures are logged, never fatal). */
void tz_audit(tz_req_t *q, const char *actor, const char *action, const char *type,
              const char *target, const char *note);
/* Reads ?limit&offset; sends 422 and returns non-zero when invalid. */
int tz_page_or_422(tz_req_t *q, const char **limit, const char **offset);

/* mod_tipzed_watchdog.c */
void tz_watchdog_register(apr_pool_t *p, server_rec *s);

/* mod_tipzed_health.c, mod_tipzed_openapi.c */
int tz_h_health(tz_req_t *q);
int tz_h_health_detailed(tz_req_t *q);
int tz_h_openapi(tz_req_t *q);

/* mod_tipzed.c */
const char *tz_api_base(request_rec *r);

/* mod_tipzed_routes.c */
int tz_dispatch(request_rec *r, const char *path);
extern const struct tz_route_table { const void *routes; apr_size_t n; } tz_route_table;

#endif
