/* Route matching: literal segments and "{id}" (a canonical UUID). */
#include <string.h>
#include <ctype.h>
#include "tz_router.h"
#include "tz_parse.h"
#include "apr_strings.h"

/* Compares one pattern with the path segment by segment; copies the {id}
 * segment (lower-cased) into id. */
static int match_pattern(const char *pat, const char *path, size_t pathlen, char id[37])
{
    const char *pp = pat, *sp = path, *end = path + pathlen;
    id[0] = '\0';
    while (*pp && sp < end) {
        if (*pp != '/' || *sp != '/')
            return 0;
        pp++, sp++;
        const char *pe = strchr(pp, '/'), *se = memchr(sp, '/', (size_t)(end - sp));
        size_t pl = pe ? (size_t)(pe - pp) : strlen(pp), sl = se ? (size_t)(se - sp) : (size_t)(end - sp);
        if (sl == 0)
            return 0;
        if (pl == 4 && strncmp(pp, "{id}", 4) == 0) {
            char seg[37];
            if (sl != 36)
                return 0;
            memcpy(seg, sp, 36);
            seg[36] = '\0';
            if (!tz_is_uuid(seg))
                return 0;
            for (int i = 0; i < 36; i++)
                id[i] = (char)tolower((unsigned char)seg[i]);
            id[36] = '\0';
        } else if (pl != sl || strncmp(pp, sp, pl) != 0) {
            return 0;
        }
        pp += pl, sp += sl;
    }
    return *pp == '\0' && sp == end;
}

tz_route_result_e tz_route_match(apr_pool_t *p, const tz_route_t *routes, size_t n,
                                 const char *path, const char *method,
                                 tz_route_match_t *out)
{
    size_t len = path ? strlen(path) : 0;
    const char *m = strcmp(method, "HEAD") == 0 ? "GET" : method;
    char *allow = NULL;
    char id[37];
    memset(out, 0, sizeof(*out));
    if (len > 1 && path[len - 1] == '/')
        len--;
    for (size_t i = 0; i < n; i++) {
        if (!match_pattern(routes[i].pattern, path, len, id))
            continue;
        if (!allow || !strstr(allow, routes[i].method))
            allow = allow ? apr_pstrcat(p, allow, ", ", routes[i].method, NULL)
                          : apr_pstrdup(p, routes[i].method);
        if (!out->route && strcmp(routes[i].method, m) == 0) {
            out->route = &routes[i];
            memcpy(out->id, id, sizeof(id));
        }
    }
    out->allow = allow;
    if (out->route)
        return TZ_ROUTE_FOUND;
    return allow ? TZ_ROUTE_BAD_METHOD : TZ_ROUTE_NOT_FOUND;
}
