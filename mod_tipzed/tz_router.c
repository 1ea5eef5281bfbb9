/* Route matching: literal segments, "{id}" (a canonical UUID), "{name}"
 * (a lower-case word) and "{hash}" (64 hex digits); who may use a route.  Every
 * segment must be non-empty, so "//" and a leading or doubled slash never
 * reach a handler; only one trailing slash is forgiven. */
#include <string.h>
#include "tz_router.h"
#include "tz_parse.h"
#include "apr_strings.h"

#define TZ_ID_TOKEN "{id}"
#define TZ_NAME_TOKEN "{name}"
#define TZ_NAME_MAX 32
#define TZ_HASH_TOKEN "{hash}"
#define TZ_HASH_LEN 64
#define TZ_SEG_MAX 65 /* the longest segment copied (a hash) and its NUL */

/* A {name} segment: 1..32 of [a-z0-9_]; copied into name. */
static int match_name(const char *seg, size_t sl, char name[TZ_SEG_MAX])
{
    if (sl == 0 || sl > TZ_NAME_MAX)
        return 0;
    for (size_t i = 0; i < sl; i++)
        if (!((seg[i] >= 'a' && seg[i] <= 'z') || (seg[i] >= '0' && seg[i] <= '9') || seg[i] == '_'))
            return 0;
    memcpy(name, seg, sl);
    name[sl] = '\0';
    return 1;
}

/* A {hash} segment: exactly 64 hex digits, copied lower-cased into hash. */
static int match_hash(const char *seg, size_t sl, char hash[TZ_SEG_MAX])
{
    if (sl != TZ_HASH_LEN)
        return 0;
    for (size_t i = 0; i < sl; i++) {
        char c = seg[i];
        if (c >= 'A' && c <= 'F')
            c = (char)(c - 'A' + 'a');
        else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return 0;
        hash[i] = c;
    }
    hash[sl] = '\0';
    return 1;
}

/* Compares one segment; an {id} segment must be a UUID and is copied,
 * lower-cased, into id (so handlers and SQL see one spelling), and so is
 * a {hash}. */
static int match_segment(const char *pat, size_t pl, const char *seg, size_t sl,
                         char id[TZ_SEG_MAX])
{
    if (pl == sizeof TZ_ID_TOKEN - 1 && memcmp(pat, TZ_ID_TOKEN, pl) == 0) {
        char buf[37];
        if (sl != 36)
            return 0;
        memcpy(buf, seg, 36);
        buf[36] = '\0';
        if (!tz_is_uuid(buf))
            return 0;
        for (int i = 0; i < 37; i++)
            id[i] = (buf[i] >= 'A' && buf[i] <= 'F') ? (char)(buf[i] - 'A' + 'a') : buf[i];
        return 1;
    }
    if (pl == sizeof TZ_NAME_TOKEN - 1 && memcmp(pat, TZ_NAME_TOKEN, pl) == 0)
        return match_name(seg, sl, id);
    if (pl == sizeof TZ_HASH_TOKEN - 1 && memcmp(pat, TZ_HASH_TOKEN, pl) == 0)
        return match_hash(seg, sl, id);
    return pl == sl && memcmp(pat, seg, pl) == 0;
}

/* Matches the pattern against path[0..len) segment by segment. */
static int match_pattern(const char *pat, const char *path, size_t len, char id[TZ_SEG_MAX])
{
    const char *pp = pat, *sp = path, *end = path + len;
    id[0] = '\0';
    while (*pp && sp < end) {
        if (*pp != '/' || *sp != '/')
            return 0;
        pp++, sp++;
        const char *pe = strchr(pp, '/');
        const char *se = memchr(sp, '/', (size_t)(end - sp));
        size_t pl = pe ? (size_t)(pe - pp) : strlen(pp);
        size_t sl = se ? (size_t)(se - sp) : (size_t)(end - sp);
        if (sl == 0 || !match_segment(pp, pl, sp, sl, id))
            return 0;
        pp += pl, sp += sl;
    }
    return *pp == '\0' && sp == end;
}

/* 1 if method is already one of the ", "-separated tokens of list. */
static int allow_has(const char *list, const char *method)
{
    size_t n = strlen(method);
    for (const char *c = list; c && *c;) {
        const char *e = strchr(c, ',');
        size_t l = e ? (size_t)(e - c) : strlen(c);
        if (l == n && memcmp(c, method, n) == 0)
            return 1;
        c = e ? e + 2 : NULL;
    }
    return 0;
}

tz_route_result_e tz_route_match(apr_pool_t *p, const tz_route_t *routes, size_t n,
                                 const char *path, const char *method,
                                 tz_route_match_t *out)
{
    size_t len;
    const char *want = (method && strcmp(method, "HEAD") == 0) ? "GET" : method;
    const char *allow = NULL;
    char id[TZ_SEG_MAX];
    memset(out, 0, sizeof(*out));
    if (!path)
        path = "";
    len = strlen(path);
    /* one trailing slash names the same resource; "/" alone stays empty-segment */
    if (len > 1 && path[len - 1] == '/')
        len--;
    for (size_t i = 0; i < n; i++) {
        if (!match_pattern(routes[i].pattern, path, len, id))
            continue;
        if (!allow)
            allow = apr_pstrdup(p, routes[i].method);
        else if (!allow_has(allow, routes[i].method))
            allow = apr_pstrcat(p, allow, ", ", routes[i].method, NULL);
        if (!out->route && want && strcmp(routes[i].method, want) == 0) {
            out->route = &routes[i];
            memcpy(out->id, id, sizeof out->id);
        }
    }
    out->allow = allow;
    if (out->route)
        return TZ_ROUTE_FOUND;
    return allow ? TZ_ROUTE_BAD_METHOD : TZ_ROUTE_NOT_FOUND;
}

int tz_role_allowed(unsigned flags, const char *role)
{
    unsigned need = flags & (TZ_R_FAN | TZ_R_CREATOR | TZ_R_ADMIN);
    if (!role)
        return 0;
    if (!need)
        return 1;
    return ((need & TZ_R_FAN) && strcmp(role, "fan") == 0) ||
           ((need & TZ_R_CREATOR) && strcmp(role, "creator") == 0) ||
           ((need & TZ_R_ADMIN) && strcmp(role, "admin") == 0);
}
