/* Metrics (mod_tipzed/tz_metrics.c): the TipzedMetricsAccess parser and
 * matcher, and label escaping.  First byte: 0 the rest is the directive's
 * arguments (split at spaces and newlines); 1 the rest is a label value.
 * A parsed network's own address, written back, parses to the same network
 * and is allowed; an escaped value has no newline, no unescaped quote, and
 * unescapes to the input. */
#include "fuzz_common.h"
#include "tz_metrics.h"
#include <arpa/inet.h>

static void acl(apr_pool_t *p, const char *text)
{
    char *copy = apr_pstrdup(p, text), *save = NULL, *argv[16];
    int argc = 0;
    tz_metrics_acl_t a;
    for (char *t = apr_strtok(copy, " \n", &save); t && argc < 16; t = apr_strtok(NULL, " \n", &save))
        argv[argc++] = t;
    if (tz_metrics_acl_parse(p, argc, argv, &a) != NULL || a.all)
        return;
    for (int i = 0; i < a.nets->nelts; i++) {
        const tz_cidr_t *c = &APR_ARRAY_IDX(a.nets, i, tz_cidr_t);
        char host[INET6_ADDRSTRLEN];
        tz_cidr_t back;
        TZ_FUZZ_ASSERT(inet_ntop(c->family == 4 ? AF_INET : AF_INET6, c->addr, host,
                                 sizeof host) != NULL);
        TZ_FUZZ_ASSERT(tz_cidr_parse(apr_psprintf(p, "%s/%d", host, c->bits), &back) == NULL);
        TZ_FUZZ_ASSERT(back.family == c->family && back.bits == c->bits &&
                       memcmp(back.addr, c->addr, sizeof back.addr) == 0);
        TZ_FUZZ_ASSERT(tz_metrics_acl_allows(&a, host));
    }
}

static void escape(apr_pool_t *p, const char *v)
{
    const char *e = tz_metrics_escape(p, v);
    char *u = apr_palloc(p, strlen(e) + 1), *o = u;
    TZ_FUZZ_ASSERT(strchr(e, '\n') == NULL);
    for (const char *c = e; *c; c++) {
        TZ_FUZZ_ASSERT(*c != '"'); /* every quote is escaped, and skipped below */
        if (*c == '\\') {
            c++;
            TZ_FUZZ_ASSERT(*c == '\\' || *c == '"' || *c == 'n');
            *o++ = *c == 'n' ? '\n' : *c;
        } else {
            *o++ = *c;
        }
    }
    *o = '\0';
    TZ_FUZZ_ASSERT(strcmp(u, v) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    char *rest;
    if (size < 1)
        return 0;
    p = tz_fuzz_pool();
    rest = apr_pstrmemdup(p, (const char *)data + 1, size - 1); /* stops at a NUL */
    if (data[0] % 2 == 0)
        acl(p, rest);
    else
        escape(p, rest);
    apr_pool_destroy(p);
    return 0;
}
