/* The httpd directives: parsing and validation (each setter's error names
 * the line for `apachectl configtest`), merging, defaults. */
#ifndef MOD_TIPZED_CONFIG_H
#define MOD_TIPZED_CONFIG_H
#include "mod_tipzed.h"

extern const command_rec tz_cmds[];
extern unsigned tz_hash_concurrency; /* TipzedPasswordHashConcurrency, 0: unset */
void *tz_cfg_create(apr_pool_t *p, server_rec *s);
void *tz_cfg_merge(apr_pool_t *p, void *base, void *add);
/* Defaults and cross-directive checks after the merge; an error message
 * or NULL. */
const char *tz_cfg_finalize(apr_pool_t *p, tz_cfg_t *c);

#endif
