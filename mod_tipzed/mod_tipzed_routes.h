/* The API's route table and the dispatcher. */
#ifndef MOD_TIPZED_ROUTES_H
#define MOD_TIPZED_ROUTES_H
#include "mod_tipzed.h"

/* Serves path (relative to the handler's <Location>). */
int tz_dispatch(request_rec *r, const char *path);

#endif
