/* Login attempt counters shared by every child (shared memory + mutex). */
#ifndef MOD_TIPZED_RATELIMIT_H
#define MOD_TIPZED_RATELIMIT_H
#include "mod_tipzed.h"

int tz_rl_pre_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp);
apr_status_t tz_rl_post_config(apr_pool_t *p, server_rec *s);
void tz_rl_child_init(apr_pool_t *p, server_rec *s);
/* Counts an attempt against every key of keys[0..n) before the work, in
 * one step across all children: 0 when counted, else the seconds to wait
 * (nothing counted).  So a burst of concurrent attempts cannot all pass. */
apr_int64_t tz_rl_begin(request_rec *r, const char *const *keys, apr_size_t n, unsigned limit,
                        apr_int64_t window);
/* After a success: takes undo_key's attempt back and forgets clear_key's. */
void tz_rl_succeeded(request_rec *r, const char *undo_key, const char *clear_key);

#endif
