/* The outbox's dispatcher (mod_tipzed_outbox.c) and its mail (mod_tipzed_mail.c). */
#ifndef MOD_TIPZED_OUTBOX_H
#define MOD_TIPZED_OUTBOX_H
#include "mod_tipzed.h"

/* One tick: events fanned out into deliveries and mail, then rounds of
 * deliveries and mail while there is work, for a few seconds at most. */
void tz_outbox_run(apr_pool_t *p, server_rec *s, const tz_cfg_t *c);

/* Rounds of mail (TipzedSMTP) while there is some, for a few seconds at
 * most: claimed, rendered, sent, reported. */
void tz_mail_run(apr_pool_t *p, server_rec *s, const tz_cfg_t *c);

/* A random 32 bits for the retries' jitter. */
uint32_t tz_outbox_jitter(void);

#endif
