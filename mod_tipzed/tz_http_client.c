/* Outbound traffic through libcurl.  Provider calls: one easy handle per
 * call, connect and total timeouts, TLS verification on, http/https only,
 * no redirects, answers capped at 1 MiB.  Webhook deliveries: one multi
 * handle per batch, chains of jobs in parallel, the address guard at
 * connect time.  Mail: SMTP with STARTTLS when offered.  Error texts come
 * from libcurl's transport messages only, which never carry request
 * headers or bodies, so an API secret in "Authorization" cannot reach a
 * log line. */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <curl/curl.h>
#include "tz_http_client.h"
#include "tz_outbox.h"
#include "apr_strings.h"

#define TZ_HTTP_MAX_BODY (1024 * 1024)
#define TZ_HTTP_CONNECT_MS 3000L
#define TZ_HTTP_TOTAL_MS 10000L

int tz_http_client_init(void)
{
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

/* The answer's body, grown in the pool (old buffers stay until the pool
 * goes: answers are small and the pool is the request's). */
typedef struct {
    apr_pool_t *p;
    char *buf;
    size_t len, cap;
    int too_big;
} tz_sink_t;

static size_t tz_http_collect(char *data, size_t size, size_t n, void *userp)
{
    tz_sink_t *s = userp;
    size_t add = size * n;
    if (add > TZ_HTTP_MAX_BODY - s->len) {
        s->too_big = 1;
        return 0; /* aborts the transfer: no provider answer is this large */
    }
    if (s->len + add + 1 > s->cap) {
        size_t cap = (s->len + add + 1) * 2;
        char *grown = apr_palloc(s->p, cap);
        memcpy(grown, s->buf, s->len);
        s->buf = grown;
        s->cap = cap;
    }
    memcpy(s->buf + s->len, data, add);
    s->len += add;
    s->buf[s->len] = '\0';
    return add;
}

/* The request's header lines, plus "Expect:" so a body is sent at once
 * instead of waiting up to a second for "100 Continue".  A line with CR or
 * LF could smuggle a header: the request is refused (rc -1). */
static int tz_http_headers(const apr_array_header_t *headers, struct curl_slist **out)
{
    struct curl_slist *h = NULL, *next;
    int n = headers ? headers->nelts : 0;
    for (int i = 0; i <= n; i++) {
        const char *line = i < n ? APR_ARRAY_IDX(headers, i, const char *) : "Expect:";
        if (!line || strpbrk(line, "\r\n") || !(next = curl_slist_append(h, line))) {
            curl_slist_free_all(h);
            return -1;
        }
        h = next;
    }
    *out = h;
    return 0;
}

/* Defaults every HTTP transfer has; timeouts of 0 or less take ours. */
static void tz_http_transport_opts(CURL *c, long conn, long total, char *errbuf)
{
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L); /* threaded MPMs: no SIGALRM for timeouts */
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(c, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, conn > 0 ? conn : TZ_HTTP_CONNECT_MS);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, total > 0 ? total : TZ_HTTP_TOTAL_MS);
}

/* Safe defaults of a provider call that do not depend on the request. */
static void tz_http_safe_opts(CURL *c, const tz_http_opts_t *opts, char *errbuf)
{
    tz_http_transport_opts(c, opts ? opts->connect_timeout_ms : 0,
                           opts ? opts->total_timeout_ms : 0, errbuf);
    curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)TZ_HTTP_MAX_BODY);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "mod_tipzed");
}

/* Method, URL, headers and body of this request. */
static void tz_http_request_opts(CURL *c, const tz_out_req_t *req, struct curl_slist *h,
                                 tz_sink_t *sink)
{
    curl_easy_setopt(c, CURLOPT_URL, req->url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, tz_http_collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, sink);
    if (req->body || strcmp(req->method, "POST") == 0) {
        /* a POST without a body still sends Content-Length: 0 */
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, req->body ? req->body : "");
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
                         (curl_off_t)(req->body ? req->bodylen : 0));
    } else {
        curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    }
    if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "POST") != 0)
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req->method);
}

/* resp->error for a failed transfer: libcurl's short text and its detail
 * (host, port, elapsed time; never headers). */
static void tz_http_fail(apr_pool_t *p, CURLcode rc, const char *errbuf, const tz_sink_t *sink,
                         tz_http_resp_t *resp)
{
    resp->status = 0;
    resp->timed_out = rc == CURLE_OPERATION_TIMEDOUT;
    if (sink->too_big || rc == CURLE_FILESIZE_EXCEEDED)
        resp->error = "the answer is larger than 1 MiB";
    else
        resp->error = apr_pstrcat(p, curl_easy_strerror(rc), *errbuf ? ": " : "", errbuf, NULL);
}

int tz_http_perform(apr_pool_t *p, const tz_out_req_t *req, const tz_http_opts_t *opts,
                    tz_http_resp_t *resp)
{
    char errbuf[CURL_ERROR_SIZE] = "";
    tz_sink_t sink = {p, apr_pcalloc(p, 1), 0, 1, 0};
    struct curl_slist *h = NULL;
    CURL *c;
    CURLcode rc;
    long status = 0;
    memset(resp, 0, sizeof(*resp));
    resp->body = sink.buf;
    if (!req || !req->url || !req->method || tz_http_headers(req->headers, &h) != 0) {
        resp->error = "the request could not be built";
        return -1;
    }
    if (!(c = curl_easy_init())) {
        curl_slist_free_all(h);
        resp->error = "libcurl could not start a transfer";
        return -1;
    }
    tz_http_safe_opts(c, opts, errbuf);
    tz_http_request_opts(c, req, h, &sink);
    rc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(c);
    curl_slist_free_all(h); /* only after the handle: it points at the list until then */
    resp->body = sink.buf;
    resp->bodylen = sink.len;
    if (rc != CURLE_OK) {
        tz_http_fail(p, rc, errbuf, &sink, resp);
        return -1;
    }
    resp->status = (int)status;
    return 0;
}

/* ---- webhook deliveries ---- */

#define TZ_BATCH_BODY_CAP 4096
#define TZ_BATCH_CONCURRENCY 4
#define TZ_BATCH_START_FAILED "libcurl could not start a transfer"

/* One running chain: its easy handle, kept for the chain's next job (and
 * the chains after it) so an endpoint's connection is reused, and the job
 * in flight.  Slots live in the pool: curl holds pointers to them. */
typedef struct {
    CURL *easy;
    struct curl_slist *headers;
    size_t pos, end;             /* the chain's jobs still to go: order[pos..end) */
    tz_http_job_t *job;          /* the job in flight, or NULL */
    size_t cap;
    int capped, refused, allow_private;
    long long started_ms;
    char errbuf[CURL_ERROR_SIZE];
} tz_slot_t;

typedef struct {
    apr_pool_t *p;
    tz_http_job_t *jobs;
    size_t n, next;              /* next: where the chains not taken yet begin in order */
    size_t *order;               /* job indexes by chain, then by position in the array */
    tz_http_batch_opts_t o;      /* with defaults filled in */
    CURLM *multi;
    tz_slot_t *slots;
    int nslots, active;
} tz_batch_t;

typedef struct {
    int chain;
    size_t idx;
} tz_chain_key_t;

static int tz_chain_cmp(const void *a, const void *b)
{
    const tz_chain_key_t *x = a, *y = b;
    if (x->chain != y->chain)
        return x->chain < y->chain ? -1 : 1;
    return x->idx < y->idx ? -1 : x->idx > y->idx; /* qsort is not stable: the index keeps order */
}

static long long tz_now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* The guard: called for every address libcurl is about to connect to,
 * after name resolution, so a name that resolves to a private address
 * (or starts to, as in DNS rebinding) is caught as surely as a literal. */
static curl_socket_t tz_batch_open(void *clientp, curlsocktype purpose, struct curl_sockaddr *a)
{
    tz_slot_t *s = clientp;
    if (!s->allow_private && tz_addr_forbidden(&a->addr)) {
        s->refused = 1;
        return CURL_SOCKET_BAD;
    }
    /* close-on-exec: the socket must not leak into a piped logger or CGI */
    return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

/* Keeps the first s->cap bytes of the answer; past them the transfer is
 * stopped (returning less than given), which tz_batch_finish counts as an
 * answer: the status is in, and an endless body must not hold the batch. */
static size_t tz_batch_collect(char *data, size_t size, size_t n, void *userp)
{
    tz_slot_t *s = userp;
    tz_http_job_t *j = s->job;
    size_t add = size * n, room = s->cap - j->resp_len;
    size_t take = add < room ? add : room;
    memcpy(j->resp_body + j->resp_len, data, take);
    j->resp_len += take;
    j->resp_body[j->resp_len] = '\0';
    if (take < add) {
        s->capped = 1;
        return 0;
    }
    return add;
}

/* A handle with the options every delivery of this batch shares. */
static CURL *tz_batch_easy(tz_batch_t *b, tz_slot_t *s)
{
    CURL *c = curl_easy_init();
    if (!c)
        return NULL;
    tz_http_transport_opts(c, b->o.connect_timeout_ms, b->o.total_timeout_ms, s->errbuf);
    curl_easy_setopt(c, CURLOPT_USERAGENT, b->o.user_agent);
    /* no proxy, even from the environment: a proxy would make the
     * connection to the endpoint, out of the guard's sight */
    curl_easy_setopt(c, CURLOPT_PROXY, "");
    curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, tz_batch_open);
    curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, s);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, tz_batch_collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, s);
    curl_easy_setopt(c, CURLOPT_PRIVATE, s);
    return c;
}

/* Gives the slot the next chain not taken yet: 0 when there is none. */
static int tz_batch_take_chain(tz_batch_t *b, tz_slot_t *s)
{
    size_t end = b->next;
    if (b->next >= b->n)
        return 0;
    while (end < b->n && b->jobs[b->order[end]].chain == b->jobs[b->order[b->next]].chain)
        end++;
    s->pos = b->next;
    s->end = end;
    b->next = end;
    return 1;
}

/* Starts the job at s->pos on the slot's handle: 0, or -1 with the job's
 * error set (it was not sent). */
static int tz_batch_launch(tz_batch_t *b, tz_slot_t *s)
{
    tz_http_job_t *j = &b->jobs[b->order[s->pos]];
    s->job = j;
    s->capped = s->refused = 0;
    s->errbuf[0] = '\0';
    s->started_ms = tz_now_ms();
    j->resp_body = apr_palloc(b->p, s->cap + 1);
    j->resp_body[0] = '\0';
    if (!j->url || tz_http_headers(j->headers, &s->headers) != 0) {
        j->error = "the request could not be built";
        return -1;
    }
    if (!s->easy && !(s->easy = tz_batch_easy(b, s))) {
        j->error = TZ_BATCH_START_FAILED;
        return -1;
    }
    curl_easy_setopt(s->easy, CURLOPT_URL, j->url);
    curl_easy_setopt(s->easy, CURLOPT_HTTPHEADER, s->headers);
    curl_easy_setopt(s->easy, CURLOPT_POSTFIELDS, j->body ? j->body : "");
    curl_easy_setopt(s->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(j->body ? j->bodylen : 0));
    if (curl_multi_add_handle(b->multi, s->easy) != CURLM_OK) {
        j->error = TZ_BATCH_START_FAILED;
        return -1;
    }
    b->active++;
    return 0;
}

/* The job at s->pos is over (ok: it was delivered): the chain goes on, or
 * when it failed the rest of the chain is skipped so that the endpoint
 * never sees a later event before an earlier one. */
static void tz_batch_advance(tz_batch_t *b, tz_slot_t *s, int ok)
{
    curl_slist_free_all(s->headers); /* the handle's next job sets its own list first */
    s->headers = NULL;
    s->job->latency_ms = (long)(tz_now_ms() - s->started_ms);
    s->job = NULL;
    s->pos++;
    if (!ok)
        for (; s->pos < s->end; s->pos++)
            b->jobs[b->order[s->pos]].skipped = 1;
}

/* Keeps the slot busy: its chain's next job, else the next chain's first;
 * with nothing left the slot's handle is freed. */
static void tz_batch_run_slot(tz_batch_t *b, tz_slot_t *s)
{
    for (;;) {
        if (s->pos >= s->end && !tz_batch_take_chain(b, s)) {
            if (s->easy)
                curl_easy_cleanup(s->easy);
            s->easy = NULL;
            return;
        }
        if (tz_batch_launch(b, s) == 0)
            return;
        tz_batch_advance(b, s, 0);
    }
}

/* A finished transfer's outcome into its job.  An answer cut at the cap
 * (CURLE_WRITE_ERROR after tz_batch_collect stopped it) is an answer. */
static void tz_batch_finish(tz_batch_t *b, tz_slot_t *s, CURLcode rc)
{
    tz_http_job_t *j = s->job;
    long status = 0;
    int answered = rc == CURLE_OK || (rc == CURLE_WRITE_ERROR && s->capped);
    curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &status);
    curl_multi_remove_handle(b->multi, s->easy);
    b->active--;
    if (answered)
        j->status = (int)status;
    else if (s->refused && rc == CURLE_COULDNT_CONNECT)
        j->error = TZ_HTTP_ADDRESS_REFUSED;
    else
        j->error = apr_pstrcat(b->p, curl_easy_strerror(rc), *s->errbuf ? ": " : "", s->errbuf,
                               NULL);
    tz_batch_advance(b, s, answered && status >= 200 && status <= 299);
}

/* Every finished transfer: its outcome, then its slot's next job. */
static void tz_batch_reap(tz_batch_t *b)
{
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(b->multi, &left))) {
        char *priv = NULL;
        CURLcode rc = m->data.result; /* m is gone once the handle is removed */
        if (m->msg != CURLMSG_DONE)
            continue;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &priv);
        tz_batch_finish(b, (tz_slot_t *)(void *)priv, rc);
        tz_batch_run_slot(b, (tz_slot_t *)(void *)priv);
    }
}

/* libcurl's multi interface itself failed (out of memory): every job not
 * done yet fails with why, and every handle is freed. */
static void tz_batch_abandon(tz_batch_t *b, const char *why)
{
    tz_slot_t spare = {0};
    for (int i = 0; i < b->nslots; i++) {
        tz_slot_t *s = &b->slots[i];
        if (s->job) {
            curl_multi_remove_handle(b->multi, s->easy);
            s->job->error = why;
            tz_batch_advance(b, s, 0);
        }
        if (s->easy)
            curl_easy_cleanup(s->easy);
        s->easy = NULL;
    }
    while (tz_batch_take_chain(b, &spare)) {
        spare.job = &b->jobs[b->order[spare.pos]];
        spare.job->error = why;
        spare.started_ms = tz_now_ms();
        tz_batch_advance(b, &spare, 0);
    }
    b->active = 0;
}

/* Defaults, the jobs ordered by chain, and one slot per chain up to the
 * concurrency. */
static void tz_batch_init(tz_batch_t *b, apr_pool_t *p, tz_http_job_t *jobs, size_t n,
                          const tz_http_batch_opts_t *opts)
{
    tz_chain_key_t *keys = apr_palloc(p, n * sizeof *keys);
    size_t chains = 0;
    memset(b, 0, sizeof *b);
    b->p = p;
    b->jobs = jobs;
    b->n = n;
    if (opts)
        b->o = *opts;
    b->o.body_cap = b->o.body_cap ? b->o.body_cap : TZ_BATCH_BODY_CAP;
    b->o.concurrency = b->o.concurrency > 0 ? b->o.concurrency : TZ_BATCH_CONCURRENCY;
    b->o.user_agent = b->o.user_agent ? b->o.user_agent : "mod_tipzed";
    for (size_t i = 0; i < n; i++)
        keys[i] = (tz_chain_key_t){jobs[i].chain, i};
    qsort(keys, n, sizeof *keys, tz_chain_cmp);
    b->order = apr_palloc(p, n * sizeof *b->order);
    for (size_t i = 0; i < n; i++) {
        b->order[i] = keys[i].idx;
        chains += i == 0 || keys[i].chain != keys[i - 1].chain;
    }
    b->nslots = chains < (size_t)b->o.concurrency ? (int)chains : b->o.concurrency;
    b->slots = apr_pcalloc(p, (size_t)b->nslots * sizeof *b->slots);
    for (int i = 0; i < b->nslots; i++) {
        b->slots[i].cap = b->o.body_cap;
        b->slots[i].allow_private = b->o.allow_private;
    }
}

void tz_http_batch(apr_pool_t *p, tz_http_job_t *jobs, size_t n, const tz_http_batch_opts_t *opts)
{
    tz_batch_t b;
    CURLMcode mc = CURLM_OK;
    for (size_t i = 0; i < n; i++) {
        jobs[i].status = jobs[i].skipped = 0;
        jobs[i].latency_ms = 0;
        jobs[i].error = NULL;
        jobs[i].resp_body = apr_pcalloc(p, 1);
        jobs[i].resp_len = 0;
    }
    if (n == 0)
        return;
    tz_batch_init(&b, p, jobs, n, opts);
    if (!(b.multi = curl_multi_init())) {
        tz_batch_abandon(&b, TZ_BATCH_START_FAILED);
        return;
    }
    for (int i = 0; i < b.nslots; i++)
        tz_batch_run_slot(&b, &b.slots[i]);
    while (b.active > 0 && mc == CURLM_OK) {
        int running;
        mc = curl_multi_perform(b.multi, &running);
        tz_batch_reap(&b);
        if (mc == CURLM_OK && b.active > 0)
            mc = curl_multi_poll(b.multi, NULL, 0, 1000, NULL);
    }
    if (mc != CURLM_OK)
        tz_batch_abandon(&b, apr_pstrcat(p, "libcurl failed: ", curl_multi_strerror(mc), NULL));
    curl_multi_cleanup(b.multi);
}
