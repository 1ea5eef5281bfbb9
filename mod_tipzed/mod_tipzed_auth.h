/* Bearer-token authentication of protected routes. */
#ifndef MOD_TIPZED_AUTH_H
#define MOD_TIPZED_AUTH_H
#include "mod_tipzed.h"

/* Sets q->user from a valid access token, or sends 401 and returns it. */
int tz_authenticate(tz_req_t *q);

/* A fresh session for user (a JSON user object): access and refresh
 * tokens, answered with status. */
int tz_auth_new_session(tz_req_t *q, json_t *user, int status);

/* The session id an access token's jti carries, or NULL. */
const char *tz_jti_session(apr_pool_t *p, const char *jti);

/* 429 with Retry-After: too many failed attempts. */
int tz_too_many(request_rec *r, apr_int64_t wait);

#endif
