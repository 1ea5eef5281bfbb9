/* Route matching over a static table, and who may use a route.  No httpd
 * types.  Patterns are relative to /api/v1, e.g. "/payments/{id}/refund";
 * "{id}" matches a canonical UUID only (a malformed UUID is a 404),
 * "{name}" a lower-case word of 1..32 letters, digits and underscores
 * (e.g. a provider name), and "{hash}" a SHA-256 in 64 hex digits of
 * either case (anything else is a 404).  A single trailing slash on the
 * path is ignored. */
#ifndef TZ_ROUTER_H
#define TZ_ROUTER_H
#include <stddef.h>
#include <apr_pools.h>

typedef struct {
    const char *method;   /* "GET", "POST", "PUT", "PATCH", "DELETE" */
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
    char id[65];             /* the {id} or {hash} segment lower-cased, the {name} segment, or "" */
    const char *allow;       /* on BAD_METHOD (and FOUND): "GET, POST" from p */
} tz_route_match_t;

/* HEAD matches GET routes.  allow lists the methods of every route whose
 * pattern matches the path, in table order, without duplicates. */
tz_route_result_e tz_route_match(apr_pool_t *p, const tz_route_t *routes, size_t n,
                                 const char *path, const char *method,
                                 tz_route_match_t *out);

/* Route flags: who may call a route, and what body it reads. */
#define TZ_R_PUBLIC   0x00
#define TZ_R_USER     0x01  /* any authenticated user */
#define TZ_R_FAN      0x02
#define TZ_R_CREATOR  0x04
#define TZ_R_ADMIN    0x08
#define TZ_R_JSON     0x10  /* reads a JSON object body */
#define TZ_R_RAW      0x20  /* reads the raw body (signed webhooks) */
#define TZ_R_OPTJSON  0x40  /* JSON body optional (empty allowed) */
#define TZ_R_GUEST    0x80  /* without an Authorization header: a guest, unauthenticated */
#define TZ_R_AUTH     (TZ_R_USER | TZ_R_FAN | TZ_R_CREATOR | TZ_R_ADMIN)

/* 1 when a caller of role ("fan", "creator", "admin") may use a route with
 * these flags: routes naming no role admit every authenticated user; a
 * route naming roles admits exactly those. */
int tz_role_allowed(unsigned flags, const char *role);

#endif
