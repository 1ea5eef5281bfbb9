/* Public creator profiles in a shared socache (TipzedCreatorCache). */
#ifndef MOD_TIPZED_CACHE_H
#define MOD_TIPZED_CACHE_H
#include "mod_tipzed.h"

const char *tz_cache_directive(cmd_parms *cmd, void *d, const char *spec, const char *ttl);
int tz_cache_pre_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp);
apr_status_t tz_cache_post_config(apr_pool_t *p, server_rec *s);
void tz_cache_child_init(apr_pool_t *p, server_rec *s);
const char *tz_cache_get(tz_req_t *q, const char *creator);
int tz_cache_put(tz_req_t *q, const char *creator, const char *json); /* 0: cache off */
void tz_cache_forget(tz_req_t *q, const char *creator);
/* The same outside requests (the watchdog's charges). */
void tz_cache_forget_server(apr_pool_t *p, server_rec *s, const char *creator);
/* Forgets every creator an answer about a payment names: its creator_id,
 * each of creator_ids (the SQL functions' list of a payment's creators)
 * and each creator of splits (a payment as the API shows it). */
void tz_cache_forget_payment(tz_req_t *q, json_t *res);

#endif
