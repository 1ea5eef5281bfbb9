/* Failed-login counters shared by every child (shared memory + mutex). */
#ifndef MOD_TIPZED_RATELIMIT_H
#define MOD_TIPZED_RATELIMIT_H
#include "mod_tipzed.h"

int tz_rl_pre_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp);
apr_status_t tz_rl_post_config(apr_pool_t *p, server_rec *s);
void tz_rl_child_init(apr_pool_t *p, server_rec *s);
/* Seconds to wait before key may try again, 0 when it may now. */
apr_int64_t tz_rl_check(request_rec *r, const char *key, unsigned limit, apr_int64_t window);
void tz_rl_record_failure(request_rec *r, const char *key, apr_int64_t window);
void tz_rl_clear(request_rec *r, const char *key);

#endif
