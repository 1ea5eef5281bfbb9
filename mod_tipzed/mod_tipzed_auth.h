/* Bearer-token authentication of protected routes. */
#ifndef MOD_TIPZED_AUTH_H
#define MOD_TIPZED_AUTH_H
#include "mod_tipzed.h"

/* Sets q->user from a valid access token, or sends 401 and returns it. */
int tz_authenticate(tz_req_t *q);

#endif
