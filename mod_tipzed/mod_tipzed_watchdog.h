/* Periodic work inside Apache (mod_watchdog singletons). */
#ifndef MOD_TIPZED_WATCHDOG_H
#define MOD_TIPZED_WATCHDOG_H
#include "mod_tipzed.h"

void tz_watchdog_register(apr_pool_t *p, server_rec *s);
/* Per child, after tz_db_child_init: the gate every tick passes, closed
 * (waiting for the ticks in flight) when the child's pool goes. */
void tz_watchdog_child_init(apr_pool_t *p, server_rec *s);
/* 1 once the child is going: a tick stops at its next step. */
int tz_watchdog_closing(void);

/* The provider work of one tick (mod_tipzed_poller.c): pending payments
 * asked about at their provider, refunds asked again, bill payments
 * checked at their biller. */
void tz_poll_payments(apr_pool_t *p, server_rec *s, const tz_cfg_t *c);
void tz_retry_refunds(apr_pool_t *p, server_rec *s, const tz_cfg_t *c);
/* Bill payments left pending asked about at their biller's /status. */
void tz_check_bills(apr_pool_t *p, server_rec *s, const tz_cfg_t *c);

#endif
