/* Periodic work inside Apache (mod_watchdog singletons). */
#ifndef MOD_TIPZED_WATCHDOG_H
#define MOD_TIPZED_WATCHDOG_H
#include "mod_tipzed.h"

void tz_watchdog_register(apr_pool_t *p, server_rec *s);

#endif
