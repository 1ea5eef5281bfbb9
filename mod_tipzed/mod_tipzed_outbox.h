/* The outbox's dispatcher (mod_tipzed_outbox.c) and its mail (mod_tipzed_mail.c). */
#ifndef MOD_TIPZED_OUTBOX_H
#define MOD_TIPZED_OUTBOX_H
#include "mod_tipzed.h"
#include "tz_json.h"
#include "tz_sql.h"

/* One tick: events fanned out into deliveries and mail, then rounds of
 * deliveries and mail while there is work, for a few seconds at most. */
void tz_outbox_run(apr_pool_t *p, server_rec *s, const tz_cfg_t *c);

/* Rounds of mail (TipzedSMTP) while there is some, for a few seconds at
 * most: claimed, rendered, sent, reported. */
void tz_mail_run(apr_pool_t *p, server_rec *s, const tz_cfg_t *c);

/* A random 32 bits for the retries' jitter. */
uint32_t tz_outbox_jitter(void);

/* One round of claimed work: how many items it handled (0: no more work). */
typedef int tz_round_fn(apr_pool_t *p, server_rec *s, const tz_cfg_t *c);

/* Rounds of round_fn while it finds work, a few seconds at most and not
 * past a graceful stop, each round in a pool of its own. */
void tz_outbox_rounds(apr_pool_t *p, server_rec *s, const tz_cfg_t *c, tz_round_fn *round_fn);

/* The seconds until an item (a delivery or a mail, with its "attempts"
 * so far) that failed now is tried again: backoff with jitter. */
json_int_t tz_outbox_retry_delay(const tz_cfg_t *c, json_t *item);

/* Reports a round's outcomes with q (the deliveries' or the mails'
 * report), made under the claim's token. */
void tz_outbox_report(apr_pool_t *p, server_rec *s, const tz_cfg_t *c, tz_query_e q,
                      const char *token, json_t *results);

#endif
