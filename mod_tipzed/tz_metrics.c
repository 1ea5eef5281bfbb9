/* Prometheus metrics: label sets, the text exposition format, and the
 * address lists of TipzedMetricsAccess (see tz_metrics.h). */
#include "tz_metrics.h"
#include <arpa/inet.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <apr_strings.h>

/* A label set: its last entry, "other", stands for every value not listed,
 * so that a series' count stays bounded whatever clients send. */
static size_t label_index(const char *const *labels, size_t n, const char *v)
{
    for (size_t i = 0; v && i < n - 1; i++)
        if (strcmp(labels[i], v) == 0)
            return i;
    return n - 1;
}

static const char *label_at(const char *const *labels, size_t n, size_t i)
{
    return labels[i < n ? i : n - 1];
}

/* Every status the API answers, and the few httpd itself may. */
static const char *const tz_statuses[TZ_METRICS_NSTATUS] = {
    "200", "201", "202", "204", "301", "302", "304", "400", "401", "403", "404", "405",
    "408", "409", "410", "413", "415", "422", "429", "500", "501", "502", "503", "504",
    "other"};

size_t tz_metrics_status_index(int status)
{
    char v[12];
    snprintf(v, sizeof v, "%d", status);
    return label_index(tz_statuses, TZ_METRICS_NSTATUS, v);
}

const char *tz_metrics_status_label(size_t i)
{
    return label_at(tz_statuses, TZ_METRICS_NSTATUS, i);
}

static const char *const tz_methods[TZ_METRICS_NMETHOD] = {
    "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "other"};

size_t tz_metrics_method_index(const char *method)
{
    return label_index(tz_methods, TZ_METRICS_NMETHOD, method);
}

const char *tz_metrics_method_label(size_t i)
{
    return label_at(tz_methods, TZ_METRICS_NMETHOD, i);
}

static const char *const tz_outcomes[TZ_METRICS_NOUTCOME] = {
    "credited", "review", "failed", "duplicate", "noop", "not_found", "refunded",
    "refund_failed", "other"};

size_t tz_metrics_outcome_index(const char *outcome)
{
    return label_index(tz_outcomes, TZ_METRICS_NOUTCOME, outcome);
}

const char *tz_metrics_outcome_label(size_t i)
{
    return label_at(tz_outcomes, TZ_METRICS_NOUTCOME, i);
}

/* Upper bounds in microseconds; the last bucket is +Inf. */
static const uint64_t tz_bounds[TZ_METRICS_NBUCKET - 1] = {
    1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000, 2500000, 5000000};

size_t tz_metrics_bucket(uint64_t usec)
{
    size_t i = 0;
    while (i < TZ_METRICS_NBUCKET - 1 && usec > tz_bounds[i])
        i++;
    return i;
}

const char *tz_metrics_bucket_label(size_t i)
{
    static const char *const labels[TZ_METRICS_NBUCKET] = {
        "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1",
        "2.5", "5", "+Inf"};
    return i < TZ_METRICS_NBUCKET ? labels[i] : "+Inf";
}

/* ---- the exposition format ---- */

/* Escapes \ and newline, and " too when quote is set (label values; HELP
 * text escapes only the first two). */
static const char *escape(apr_pool_t *p, const char *v, int quote)
{
    size_t n = 0;
    char *out, *o;
    for (const char *c = v; *c; c++)
        n += (*c == '\\' || *c == '\n' || (quote && *c == '"')) ? 2 : 1;
    o = out = apr_palloc(p, n + 1);
    for (const char *c = v; *c; c++) {
        if (*c == '\\' || (quote && *c == '"'))
            *o++ = '\\', *o++ = *c;
        else if (*c == '\n')
            *o++ = '\\', *o++ = 'n';
        else
            *o++ = *c;
    }
    *o = '\0';
    return out;
}

const char *tz_metrics_escape(apr_pool_t *p, const char *v)
{
    return escape(p, v ? v : "", 1);
}

const char *tz_metrics_labels(apr_pool_t *p, const char *const *kv, size_t n)
{
    const char *s = "";
    if (n == 0)
        return "";
    for (size_t i = 0; i < n; i++)
        s = apr_pstrcat(p, s, i ? "," : "{", kv[2 * i], "=\"",
                        tz_metrics_escape(p, kv[2 * i + 1]), "\"", NULL);
    return apr_pstrcat(p, s, "}", NULL);
}

void tz_mtext_init(tz_mtext_t *t, apr_pool_t *p)
{
    t->p = p;
    t->parts = apr_array_make(p, 256, sizeof(const char *));
}

static void put(tz_mtext_t *t, const char *line)
{
    APR_ARRAY_PUSH(t->parts, const char *) = line;
}

void tz_mtext_family(tz_mtext_t *t, const char *name, const char *type, const char *help)
{
    put(t, apr_pstrcat(t->p, "# HELP ", name, " ", escape(t->p, help, 0), "\n# TYPE ", name,
                       " ", type, "\n", NULL));
}

void tz_mtext_u64(tz_mtext_t *t, const char *name, const char *labels, uint64_t v)
{
    put(t, apr_psprintf(t->p, "%s%s %" PRIu64 "\n", name, labels ? labels : "", v));
}

void tz_mtext_i64(tz_mtext_t *t, const char *name, const char *labels, int64_t v)
{
    put(t, apr_psprintf(t->p, "%s%s %" PRId64 "\n", name, labels ? labels : "", v));
}

void tz_mtext_f(tz_mtext_t *t, const char *name, const char *labels, double v)
{
    char num[40];
    if (isnan(v))
        strcpy(num, "NaN");
    else if (isinf(v))
        strcpy(num, v > 0 ? "+Inf" : "-Inf");
    else
        snprintf(num, sizeof num, "%.17g", v);
    put(t, apr_pstrcat(t->p, name, labels ? labels : "", " ", num, "\n", NULL));
}

/* kv plus one more pair (le), for a bucket's labels. */
static const char *with_le(apr_pool_t *p, const char *const *kv, size_t n, const char *le)
{
    const char **all = apr_palloc(p, sizeof(const char *) * 2 * (n + 1));
    memcpy(all, kv, sizeof(const char *) * 2 * n);
    all[2 * n] = "le";
    all[2 * n + 1] = le;
    return tz_metrics_labels(p, all, n + 1);
}

void tz_mtext_histogram(tz_mtext_t *t, const char *name, const char *const *kv, size_t n,
                        const uint64_t *buckets, uint64_t sum_usec)
{
    const char *bucket = apr_pstrcat(t->p, name, "_bucket", NULL);
    const char *labels = tz_metrics_labels(t->p, kv, n);
    uint64_t cum = 0;
    for (size_t i = 0; i < TZ_METRICS_NBUCKET; i++) {
        cum += buckets[i];
        tz_mtext_u64(t, bucket, with_le(t->p, kv, n, tz_metrics_bucket_label(i)), cum);
    }
    put(t, apr_psprintf(t->p, "%s_sum%s %" PRIu64 ".%06" PRIu64 "\n", name, labels,
                        sum_usec / 1000000, sum_usec % 1000000));
    tz_mtext_u64(t, apr_pstrcat(t->p, name, "_count", NULL), labels, cum);
}

const char *tz_mtext_done(tz_mtext_t *t, size_t *len)
{
    const char *s = apr_array_pstrcat(t->p, t->parts, 0);
    if (len)
        *len = strlen(s);
    return s;
}

/* ---- TipzedMetricsAccess ---- */

/* A prefix length of 1..3 digits within max; -1 otherwise. */
static int prefix_bits(const char *s, int max)
{
    int v = 0;
    if (!*s || strlen(s) > 3)
        return -1;
    for (const char *c = s; *c; c++) {
        if (*c < '0' || *c > '9')
            return -1;
        v = v * 10 + (*c - '0');
    }
    return v <= max ? v : -1;
}

/* 1 when every bit of addr beyond bits is zero. */
static int host_bits_clear(const unsigned char *addr, int len, int bits)
{
    for (int i = 0; i < len; i++) {
        int keep = bits - 8 * i;
        unsigned char mask = keep >= 8 ? 0xff : keep <= 0 ? 0 : (unsigned char)(0xff << (8 - keep));
        if (addr[i] & (unsigned char)~mask)
            return 0;
    }
    return 1;
}

const char *tz_cidr_parse(const char *s, tz_cidr_t *out)
{
    char host[64];
    const char *slash = strchr(s, '/');
    size_t hl = slash ? (size_t)(slash - s) : strlen(s);
    int len;
    memset(out, 0, sizeof *out);
    if (hl == 0 || hl >= sizeof host)
        return "is not an IPv4 or IPv6 address";
    memcpy(host, s, hl);
    host[hl] = '\0';
    if (inet_pton(AF_INET, host, out->addr) == 1)
        out->family = 4, len = 4;
    else if (inet_pton(AF_INET6, host, out->addr) == 1)
        out->family = 6, len = 16;
    else
        return "is not an IPv4 or IPv6 address";
    out->bits = slash ? prefix_bits(slash + 1, 8 * len) : 8 * len;
    if (out->bits < 0)
        return out->family == 4 ? "has a prefix length that is not 0..32"
                                : "has a prefix length that is not 0..128";
    if (!host_bits_clear(out->addr, len, out->bits))
        return "has bits set beyond its prefix length (write the network's first address)";
    return NULL;
}

const char *tz_metrics_acl_parse(apr_pool_t *p, int argc, char *const *argv,
                                 tz_metrics_acl_t *out)
{
    const char *err;
    out->all = 0;
    out->nets = apr_array_make(p, argc > 0 ? argc : 1, sizeof(tz_cidr_t));
    if (argc < 1)
        return "needs \"all\" or at least one address or network";
    if (strcmp(argv[0], "all") == 0) {
        if (argc > 1)
            return "\"all\" takes no networks beside it";
        out->all = 1;
        return NULL;
    }
    for (int i = 0; i < argc; i++) {
        tz_cidr_t *c = apr_array_push(out->nets);
        if (strcmp(argv[i], "all") == 0)
            return "\"all\" takes no networks beside it";
        if ((err = tz_cidr_parse(argv[i], c)))
            return apr_pstrcat(p, "'", argv[i], "' ", err, NULL);
    }
    return NULL;
}

void tz_metrics_acl_default(apr_pool_t *p, tz_metrics_acl_t *out)
{
    char *const loopback[] = {"127.0.0.0/8", "::1"};
    tz_metrics_acl_parse(p, 2, loopback, out);
}

static int in_net(const tz_cidr_t *c, const unsigned char *addr)
{
    int full = c->bits / 8, rest = c->bits % 8;
    if (memcmp(c->addr, addr, (size_t)full) != 0)
        return 0;
    return rest == 0 ||
           ((c->addr[full] ^ addr[full]) & (unsigned char)(0xff << (8 - rest))) == 0;
}

int tz_metrics_acl_allows(const tz_metrics_acl_t *acl, const char *ip)
{
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    unsigned char a4[4], a6[16];
    int v4 = 0, v6 = 0;
    if (acl->all)
        return 1;
    if (!ip)
        return 0;
    if (inet_pton(AF_INET, ip, a4) == 1) {
        v4 = 1;
    } else if (inet_pton(AF_INET6, ip, a6) == 1) {
        v6 = 1;
        if (memcmp(a6, mapped, sizeof mapped) == 0)
            memcpy(a4, a6 + 12, 4), v4 = 1; /* and an IPv6 network may name it too */
    } else {
        return 0;
    }
    for (int i = 0; acl->nets && i < acl->nets->nelts; i++) {
        const tz_cidr_t *c = &APR_ARRAY_IDX(acl->nets, i, tz_cidr_t);
        if ((c->family == 4 && v4 && in_net(c, a4)) || (c->family == 6 && v6 && in_net(c, a6)))
            return 1;
    }
    return 0;
}
