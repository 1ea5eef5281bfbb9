/* Idempotency keys: the request fingerprint that tells "same
 * request" from "different request" under one key.  No httpd types. */
#ifndef TZ_IDEM_H
#define TZ_IDEM_H
#include <apr_pools.h>
#include <jansson.h>

/* SHA-256 hex over "<method> <route>\n<canonical body>", the body
 * serialised with sorted keys and no whitespace, so key order and spacing
 * of the client's JSON do not matter but any value does.  body may be NULL. */
char *tz_idem_fingerprint(apr_pool_t *p, const char *method, const char *route,
                          const json_t *body);

#endif
