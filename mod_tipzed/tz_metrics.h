/* Prometheus metrics, the rules without httpd: the fixed label sets
 * (statuses, methods, latency buckets), the text exposition format 0.0.4
 * (families with # HELP and # TYPE, label escaping, histograms), and the
 * address lists of TipzedMetricsAccess.  The shared counters themselves
 * and the handler are the glue's (mod_tipzed_metrics.c). */
#ifndef TZ_METRICS_H
#define TZ_METRICS_H
#include <stddef.h>
#include <stdint.h>
#include <apr_pools.h>
#include <apr_tables.h>

#define TZ_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* ---- bounded label values ---- */

/* The statuses counted one by one; any other counts as status="other"
 * (index TZ_METRICS_NSTATUS - 1). */
#define TZ_METRICS_NSTATUS 25
size_t tz_metrics_status_index(int status);
const char *tz_metrics_status_label(size_t i);

/* Methods of requests no route matched ("other" for anything unusual). */
#define TZ_METRICS_NMETHOD 8
size_t tz_metrics_method_index(const char *method);
const char *tz_metrics_method_label(size_t i);

/* Outcomes of a provider event as the database recorded it ("other" for
 * any outcome not listed, e.g. the composite ones of disputes). */
#define TZ_METRICS_NOUTCOME 9
size_t tz_metrics_outcome_index(const char *outcome);
const char *tz_metrics_outcome_label(size_t i);

/* Latency buckets, upper bounds in microseconds: 1 ms .. 5 s, then +Inf
 * (index TZ_METRICS_NBUCKET - 1). */
#define TZ_METRICS_NBUCKET 13
size_t tz_metrics_bucket(uint64_t usec);
const char *tz_metrics_bucket_label(size_t i); /* "0.001" .. "5", "+Inf" */

/* ---- the exposition format ---- */

/* A label value escaped for the text format: \ " and newline. */
const char *tz_metrics_escape(apr_pool_t *p, const char *v);
/* {k1="v1",k2="v2"} from n pairs (kv[2i], kv[2i+1]), values escaped;
 * "" when n is 0. */
const char *tz_metrics_labels(apr_pool_t *p, const char *const *kv, size_t n);

/* The text being written: lines appended in order. */
typedef struct {
    apr_pool_t *p;
    apr_array_header_t *parts; /* const char * */
} tz_mtext_t;

void tz_mtext_init(tz_mtext_t *t, apr_pool_t *p);
/* # HELP and # TYPE lines of a family (type: counter, gauge, histogram). */
void tz_mtext_family(tz_mtext_t *t, const char *name, const char *type, const char *help);
void tz_mtext_u64(tz_mtext_t *t, const char *name, const char *labels, uint64_t v);
void tz_mtext_i64(tz_mtext_t *t, const char *name, const char *labels, int64_t v);
/* A real value (NaN, +Inf and -Inf spelled as Prometheus reads them). */
void tz_mtext_f(tz_mtext_t *t, const char *name, const char *labels, double v);
/* One histogram's series: buckets[TZ_METRICS_NBUCKET] are counts per
 * bucket (not cumulative); written cumulative, _sum from microseconds
 * (exact, no rounding), _count equal to the +Inf bucket.  labels: the
 * pairs of the series without "le". */
void tz_mtext_histogram(tz_mtext_t *t, const char *name, const char *const *kv, size_t n,
                        const uint64_t *buckets, uint64_t sum_usec);
const char *tz_mtext_done(tz_mtext_t *t, size_t *len);

/* ---- TipzedMetricsAccess ---- */

typedef struct {
    int family;              /* 4 or 6 */
    unsigned char addr[16];  /* network, in network order (4 bytes for IPv4) */
    int bits;
} tz_cidr_t;

typedef struct {
    int all;                 /* "all": anyone */
    apr_array_header_t *nets; /* tz_cidr_t */
} tz_metrics_acl_t;

/* One network: an IPv4 or IPv6 address with an optional /prefix (a bare
 * address is one host).  Host bits set beyond the prefix are refused, so
 * a typo cannot silently widen or narrow the list.  NULL, or why not. */
const char *tz_cidr_parse(const char *s, tz_cidr_t *out);
/* The directive's arguments: "all" alone, or networks.  NULL, or why not
 * (naming the argument). */
const char *tz_metrics_acl_parse(apr_pool_t *p, int argc, char *const *argv,
                                 tz_metrics_acl_t *out);
/* The default: loopback only (127.0.0.0/8 and ::1). */
void tz_metrics_acl_default(apr_pool_t *p, tz_metrics_acl_t *out);
/* 1 when the client address ip (text, as httpd gives it) may scrape; an
 * IPv4-mapped IPv6 address (::ffff:a.b.c.d, from a dual-stack listener)
 * matches IPv4 networks by its IPv4 address, and IPv6 networks as itself.
 * An unparsable address is refused. */
int tz_metrics_acl_allows(const tz_metrics_acl_t *acl, const char *ip);

#endif
