/* The API's route table and the dispatcher. */
#ifndef MOD_TIPZED_ROUTES_H
#define MOD_TIPZED_ROUTES_H
#include "mod_tipzed.h"

#include "tz_router.h"

/* Serves path (relative to the handler's <Location>). */
int tz_dispatch(request_rec *r, const char *path);

/* The route table, for the metrics' fixed series: its length and row i. */
size_t tz_route_count(void);
const tz_route_t *tz_route_at(size_t i);

#endif
