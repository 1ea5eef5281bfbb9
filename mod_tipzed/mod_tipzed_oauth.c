/* OAuth access tokens of providers that have a token operation (MTN MoMo):
 * one cached token per child and provider configuration, used until a
 * minute before it expires.  Fetching holds the slot's mutex, so threads
 * that need the token meanwhile wait for the one fetch instead of each
 * making their own; a token the provider refused is fetched anew.  Each
 * child keeps its own (the provider issues as many as asked for), so a
 * server makes at most one token call per child per token lifetime. */
#include "mod_tipzed_providers.h"
#include "apr_hash.h"
#include "apr_thread_mutex.h"

#define TZ_TOKEN_MARGIN apr_time_from_sec(60)

typedef struct {
    apr_thread_mutex_t *mu;
    char token[4096];
    apr_time_t expires;          /* 0: none yet */
} tz_token_slot_t;

static apr_pool_t *tz_oauth_pool;
static apr_thread_mutex_t *tz_oauth_mu; /* guards tz_oauth_slots */
static apr_hash_t *tz_oauth_slots;      /* const tz_prov_cfg_t * -> tz_token_slot_t */

void tz_oauth_child_init(apr_pool_t *p, server_rec *s)
{
    tz_oauth_pool = p;
    tz_oauth_slots = apr_hash_make(p);
    if (apr_thread_mutex_create(&tz_oauth_mu, APR_THREAD_MUTEX_DEFAULT, p) != APR_SUCCESS)
        tz_oauth_mu = NULL;
}

static tz_token_slot_t *tz_oauth_slot(const tz_prov_cfg_t *pc)
{
    tz_token_slot_t *slot;
    if (!tz_oauth_mu)
        return NULL;
    apr_thread_mutex_lock(tz_oauth_mu);
    slot = apr_hash_get(tz_oauth_slots, &pc, sizeof pc);
    if (!slot) {
        slot = apr_pcalloc(tz_oauth_pool, sizeof *slot);
        if (apr_thread_mutex_create(&slot->mu, APR_THREAD_MUTEX_DEFAULT, tz_oauth_pool) ==
            APR_SUCCESS) {
            const tz_prov_cfg_t **key = apr_pmemdup(tz_oauth_pool, &pc, sizeof pc);
            apr_hash_set(tz_oauth_slots, key, sizeof pc, slot);
        } else {
            slot = NULL;
        }
    }
    apr_thread_mutex_unlock(tz_oauth_mu);
    return slot;
}

/* Asks the provider for a token; fills the slot.  0 or -1. */
static int tz_oauth_fetch(apr_pool_t *p, server_rec *s, const tz_cfg_t *c,
                          const tz_provider_t *pv, const tz_prov_cfg_t *pc,
                          tz_token_slot_t *slot)
{
    tz_out_req_t req;
    tz_http_resp_t resp;
    const char *token;
    int64_t ttl;
    pv->token(p, pc, &req);
    if (tz_provider_call(p, s, c, &req, &resp) != 0 || resp.status < 200 || resp.status > 299 ||
        pv->token_answer(p, resp.body, resp.bodylen, &token, &ttl) != 0 ||
        strlen(token) >= sizeof slot->token) {
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, s, APLOGNO(10605)
                     "tipzed: %s: no access token (check its credentials files)", pv->name);
        return -1;
    }
    strcpy(slot->token, token);
    slot->expires = apr_time_now() + apr_time_from_sec(ttl);
    return 0;
}

int tz_oauth_cfg(apr_pool_t *p, server_rec *s, const tz_cfg_t *c, const tz_provider_t *pv,
                 const char *refused, tz_prov_cfg_t *out)
{
    const tz_prov_cfg_t *pc = tz_provider_cfg(c, pv);
    tz_token_slot_t *slot;
    int rc = 0;
    *out = *pc;
    if (!pv->token)
        return 0;
    if (!(slot = tz_oauth_slot(pc)))
        return -1;
    apr_thread_mutex_lock(slot->mu);
    /* a refused token is replaced once, however many threads saw it refused */
    if ((refused && strcmp(refused, slot->token) == 0) ||
        apr_time_now() + TZ_TOKEN_MARGIN >= slot->expires)
        rc = tz_oauth_fetch(p, s, c, pv, pc, slot);
    if (rc == 0)
        out->api_secret = apr_pstrdup(p, slot->token);
    apr_thread_mutex_unlock(slot->mu);
    return rc;
}
