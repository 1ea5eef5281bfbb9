/* Route matching over a static table.  No httpd types.
 * Patterns are relative to /api/v1, e.g. "/payments/{id}/refund"; "{id}"
 * matches a canonical UUID only (a malformed UUID is a 404).  A single
 * trailing slash on the path is ignored. */
#ifndef TZ_ROUTER_H
#define TZ_ROUTER_H
#include <stddef.h>
#include <apr_pools.h>

typedef struct {
    const char *method;   /* "GET", "POST", "PUT", "DELETE" */
    const char *pattern;
    const void *data;     /* the caller's handler record */
} tz_route_t;

typedef enum {
    TZ_ROUTE_FOUND = 0,
    TZ_ROUTE_NOT_FOUND,
    TZ_ROUTE_BAD_METHOD
} tz_route_result_e;

typedef struct {
    const tz_route_t *route; /* on FOUND */
    char id[37];             /* the {id} segment, lower-cased, or "" */
    const char *allow;       /* on BAD_METHOD (and FOUND): "GET, POST" from p */
} tz_route_match_t;

/* HEAD matches GET routes.  allow lists the methods of every route whose
 * pattern matches the path, in table order, without duplicates. */
tz_route_result_e tz_route_match(apr_pool_t *p, const tz_route_t *routes, size_t n,
                                 const char *path, const char *method,
                                 tz_route_match_t *out);

#endif
