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
#include "tz_crypto.h"
#include "tz_outbox.h"
#include "tz_validate.h"
#include "apr_base64.h"
#include "apr_strings.h"
#include "apr_time.h"
#include "apr_uri.h"

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
    if (b->o.body_cap > TZ_HTTP_MAX_BODY)
        b->o.body_cap = TZ_HTTP_MAX_BODY; /* allocated up front for every job */
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

/* ---- mail ---- */

#define TZ_SMTP_TIMEOUT_MS 30000L
#define TZ_MIME_WORD_BYTES 45 /* 60 base64 characters: a 72-character encoded word */

typedef struct {
    const char *name;            /* display name, unquoted, or "" */
    const char *addr;            /* the bare address */
} tz_mailbox_t;

/* An address the envelope can carry as it is: tz_email_ok's shape, ASCII
 * (no SMTPUTF8), and none of the characters that would need quoting. */
static int tz_addr_spec_ok(const char *a)
{
    if (!tz_email_ok(a) || strpbrk(a, "<>()[]\\,;:\""))
        return 0;
    for (const unsigned char *c = (const unsigned char *)a; *c; c++)
        if (*c >= 0x80)
            return 0;
    return 1;
}

/* The display name before "<": blanks around it and one pair of quotes
 * taken off; NULL when what is left has a character no name may carry. */
static const char *tz_display_name(apr_pool_t *p, const char *s, size_t len)
{
    char *name = apr_pstrmemdup(p, s, len);
    size_t n = len;
    while (n > 0 && (name[n - 1] == ' ' || name[n - 1] == '\t'))
        name[--n] = '\0';
    while (*name == ' ' || *name == '\t')
        name++, n--;
    if (n >= 2 && name[0] == '"' && name[n - 1] == '"') {
        name[n - 1] = '\0';
        name++;
    }
    for (const unsigned char *c = (const unsigned char *)name; *c; c++)
        if (*c < 0x20 || *c == 0x7f || *c == '"' || *c == '\\' || *c == '<' || *c == '>')
            return NULL;
    return name;
}

/* "Name <addr>", "\"Name\" <addr>" or "addr": 0, or -1 when it is not one
 * address (line breaks included: they would start a header of their own). */
static int tz_mailbox_parse(apr_pool_t *p, const char *s, tz_mailbox_t *mb)
{
    const char *lt, *gt;
    if (!s || strpbrk(s, "\r\n"))
        return -1;
    if (!(lt = strrchr(s, '<'))) {
        mb->name = "";
        mb->addr = s;
        return tz_addr_spec_ok(s) ? 0 : -1;
    }
    if (!(gt = strchr(lt, '>')) || gt[1] != '\0')
        return -1;
    mb->addr = apr_pstrmemdup(p, lt + 1, (apr_size_t)(gt - lt - 1));
    mb->name = tz_display_name(p, s, (size_t)(lt - s));
    return mb->name && tz_addr_spec_ok(mb->addr) ? 0 : -1;
}

/* 1 when s can stand in a header as it is: printable ASCII, and no "=?"
 * that a reader would take for the start of an encoded word. */
static int tz_header_plain(const char *s)
{
    for (const unsigned char *c = (const unsigned char *)s; *c; c++)
        if (*c < 0x20 || *c >= 0x7f)
            return 0;
    return strstr(s, "=?") == NULL;
}

/* s as RFC 2047 encoded words, each cut between UTF-8 characters (a reader
 * decodes each word on its own) and folded onto a line of its own. */
static char *tz_mime_words(apr_pool_t *p, const char *s)
{
    size_t n = strlen(s), i = 0;
    char *out = "";
    while (i < n) {
        size_t k = n - i < TZ_MIME_WORD_BYTES ? n - i : TZ_MIME_WORD_BYTES;
        while (k < n - i && k > 1 && ((unsigned char)s[i + k] & 0xc0) == 0x80)
            k--; /* s[i + k] continues a character: end the word before it */
        char *b64 = apr_palloc(p, (apr_size_t)apr_base64_encode_len((int)k));
        apr_base64_encode_binary(b64, (const unsigned char *)s + i, (int)k);
        out = apr_pstrcat(p, out, i ? "\r\n " : "", "=?UTF-8?B?", b64, "?=", NULL);
        i += k;
    }
    return out;
}

/* A mailbox as a header value: the name as it is, quoted when it has
 * characters with a meaning in addresses, or encoded when not ASCII. */
static const char *tz_mailbox_header(apr_pool_t *p, const tz_mailbox_t *mb)
{
    if (!*mb->name)
        return mb->addr;
    if (!tz_header_plain(mb->name))
        return apr_pstrcat(p, tz_mime_words(p, mb->name), " <", mb->addr, ">", NULL);
    if (strpbrk(mb->name, "()<>[]:;@\\,.\""))
        return apr_pstrcat(p, "\"", mb->name, "\" <", mb->addr, ">", NULL);
    return apr_pstrcat(p, mb->name, " <", mb->addr, ">", NULL);
}

/* The header lines of a message (without a final line end). */
static apr_array_header_t *tz_mail_headers(apr_pool_t *p, const tz_mailbox_t *from,
                                           const tz_mailbox_t *to, const char *subject,
                                           const char *msgid)
{
    apr_array_header_t *h = apr_array_make(p, 6, sizeof(const char *));
    char date[APR_RFC822_DATE_LEN];
    apr_rfc822_date(date, apr_time_now());
    /* "GMT" is the obsolete spelling of the zone: RFC 5322 asks for +0000 */
    APR_ARRAY_PUSH(h, const char *) = apr_pstrcat(p, "Date: ", apr_pstrndup(p, date, 26), "+0000", NULL);
    APR_ARRAY_PUSH(h, const char *) = apr_pstrcat(p, "From: ", tz_mailbox_header(p, from), NULL);
    APR_ARRAY_PUSH(h, const char *) = apr_pstrcat(p, "To: ", tz_mailbox_header(p, to), NULL);
    APR_ARRAY_PUSH(h, const char *) = apr_pstrcat(p, "Subject: ",
        tz_header_plain(subject) ? subject : tz_mime_words(p, subject), NULL);
    APR_ARRAY_PUSH(h, const char *) = apr_pstrcat(p, "Message-ID: ", msgid, NULL);
    APR_ARRAY_PUSH(h, const char *) = "MIME-Version: 1.0";
    return h;
}

/* Bare LF and lone CR as CRLF: SMTP's line end, and the one line break
 * libcurl's quoted-printable encoder keeps as a break. */
static const char *tz_crlf(apr_pool_t *p, const char *s)
{
    size_t n = strlen(s), o = 0;
    char *out = apr_palloc(p, 2 * n + 1);
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\r' || s[i] == '\n') {
            out[o++] = '\r';
            out[o++] = '\n';
            i += s[i] == '\r' && s[i + 1] == '\n';
        } else {
            out[o++] = s[i];
        }
    }
    out[o] = '\0';
    return out;
}

/* text with CRLF line ends as quoted-printable (RFC 2045): lines of at most
 * 76 characters, '=' and bytes outside printable ASCII as =XX, and a blank
 * before a line end encoded, since mail systems may strip it. */
static const char *tz_qp(apr_pool_t *p, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = strlen(s), o = 0, col = 0;
    char *out = apr_palloc(p, 4 * n + 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        int at_eol = s[i + 1] == '\0' || (s[i + 1] == '\r' && s[i + 2] == '\n');
        int lit = (c > ' ' && c < 0x7f && c != '=') || ((c == ' ' || c == '\t') && !at_eol);
        if (c == '\r' && s[i + 1] == '\n') {
            memcpy(out + o, "\r\n", 2);
            o += 2, i++, col = 0;
            continue;
        }
        if (col + (lit ? 1 : 3) > 75) { /* a soft break: "=" ends the line at 76 */
            memcpy(out + o, "=\r\n", 3);
            o += 3, col = 0;
        }
        if (lit) {
            out[o++] = (char)c;
        } else {
            out[o++] = '=';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
        }
        col += lit ? 1 : 3;
    }
    out[o] = '\0';
    return out;
}

typedef struct {
    const char *data;
    size_t len, off;
} tz_upload_t;

static size_t tz_smtp_read(char *buf, size_t size, size_t n, void *userp)
{
    tz_upload_t *u = userp;
    size_t k = u->len - u->off < size * n ? u->len - u->off : size * n;
    memcpy(buf, u->data + u->off, k);
    u->off += k;
    return k;
}

/* A message without attachment, composed here: one text/plain part is all
 * it is, where libcurl's MIME support would always make a multipart. */
static tz_upload_t *tz_smtp_plain(apr_pool_t *p, const apr_array_header_t *h, const char *text)
{
    tz_upload_t *u = apr_pcalloc(p, sizeof *u);
    u->data = apr_pstrcat(p, apr_array_pstrcat(p, h, '\n'),
                          "\nContent-Type: text/plain; charset=UTF-8\n"
                          "Content-Transfer-Encoding: quoted-printable\n\n", NULL);
    u->data = apr_pstrcat(p, tz_crlf(p, u->data), tz_qp(p, tz_crlf(p, text)), NULL);
    u->len = strlen(u->data);
    return u;
}

/* multipart/mixed: the text (quoted-printable), then the attachment
 * (base64).  NULL when libcurl could not build it. */
static curl_mime *tz_smtp_mime(apr_pool_t *p, CURL *c, const tz_mail_t *m)
{
    curl_mime *mime = curl_mime_init(c);
    curl_mimepart *text = mime ? curl_mime_addpart(mime) : NULL;
    curl_mimepart *file = text ? curl_mime_addpart(mime) : NULL;
    if (!file || curl_mime_data(text, tz_crlf(p, m->text ? m->text : ""), CURL_ZERO_TERMINATED) ||
        curl_mime_type(text, "text/plain; charset=UTF-8") ||
        curl_mime_encoder(text, "quoted-printable") ||
        curl_mime_data(file, m->attach, m->attach_len) ||
        curl_mime_filename(file, m->attach_name ? m->attach_name : "attachment") ||
        curl_mime_type(file, m->attach_type ? m->attach_type : "application/octet-stream") ||
        curl_mime_encoder(file, "base64")) {
        curl_mime_free(mime);
        return NULL;
    }
    return mime;
}

/* Everything a mail transfer needs but its content. */
static void tz_smtp_opts(CURL *c, const tz_smtp_cfg_t *cfg, const char *from, struct curl_slist *rcpt,
                         char *errbuf)
{
    long ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : TZ_SMTP_TIMEOUT_MS;
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_URL, cfg->url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl_easy_setopt(c, CURLOPT_USE_SSL, (long)CURLUSESSL_TRY);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(c, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, ms);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, ms);
    curl_easy_setopt(c, CURLOPT_MAIL_FROM, from);
    curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
}

/* libcurl's words for a failed transfer; a password from the URL is never
 * in them, but should one ever be, only the short text is given. */
static const char *tz_smtp_error(apr_pool_t *p, const char *url, CURLcode rc, const char *errbuf)
{
    apr_uri_t u;
    const char *e = apr_pstrcat(p, curl_easy_strerror(rc), *errbuf ? ": " : "", errbuf, NULL);
    if (apr_uri_parse(p, url, &u) == APR_SUCCESS && u.password && *u.password &&
        strstr(e, u.password))
        return curl_easy_strerror(rc);
    return e;
}

/* An attachment's name or type: no control characters, no quotes (they
 * end up inside a quoted header parameter). */
static int tz_attach_word_ok(const char *s)
{
    for (const unsigned char *c = (const unsigned char *)s; c && *c; c++)
        if (*c < 0x20 || *c == 0x7f || *c == '"' || *c == '\\')
            return 0;
    return 1;
}

/* Why the message cannot be sent as given, or NULL (from and to parsed). */
static const char *tz_mail_refusal(apr_pool_t *p, const tz_smtp_cfg_t *cfg, const tz_mail_t *m,
                                   tz_mailbox_t *from, tz_mailbox_t *to)
{
    if (!cfg || !cfg->url ||
        (strncasecmp(cfg->url, "smtp://", 7) != 0 && strncasecmp(cfg->url, "smtps://", 8) != 0))
        return "the mail server's URL must be smtp:// or smtps://";
    if (tz_mailbox_parse(p, cfg->from, from) != 0)
        return "the sender is not a valid address";
    if (!m || tz_mailbox_parse(p, m->to, to) != 0)
        return "the recipient is not a valid address";
    if (!m->subject || strpbrk(m->subject, "\r\n"))
        return "the subject must be one line";
    if (m->attach && (!tz_attach_word_ok(m->attach_name) || !tz_attach_word_ok(m->attach_type)))
        return "the attachment's name or type has control characters or quotes";
    return NULL;
}

/* The message onto the handle: composed here without an attachment, else
 * through libcurl's MIME with the header lines as its headers.  0, or -1
 * when out of memory (*mime and *hdrs hold what there is to free). */
static int tz_smtp_content(apr_pool_t *p, CURL *c, const tz_mail_t *m, const apr_array_header_t *h,
                           curl_mime **mime, struct curl_slist **hdrs)
{
    if (!m->attach) {
        tz_upload_t *u = tz_smtp_plain(p, h, m->text ? m->text : "");
        curl_easy_setopt(c, CURLOPT_READFUNCTION, tz_smtp_read);
        curl_easy_setopt(c, CURLOPT_READDATA, u);
        curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)u->len);
        curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
        return 0;
    }
    for (int i = 0; i < h->nelts; i++) {
        struct curl_slist *next = curl_slist_append(*hdrs, APR_ARRAY_IDX(h, i, const char *));
        if (!next)
            return -1;
        *hdrs = next;
    }
    if (!(*mime = tz_smtp_mime(p, c, m)))
        return -1;
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, *hdrs);
    curl_easy_setopt(c, CURLOPT_MIMEPOST, *mime);
    return 0;
}

int tz_smtp_send(apr_pool_t *p, const tz_smtp_cfg_t *cfg, const tz_mail_t *m, const char **error)
{
    tz_mailbox_t from, to;
    char errbuf[CURL_ERROR_SIZE] = "";
    const char *why = tz_mail_refusal(p, cfg, m, &from, &to), *id = NULL;
    struct curl_slist *rcpt = NULL, *hdrs = NULL;
    curl_mime *mime = NULL;
    CURL *c = NULL;
    CURLcode rc = CURLE_OUT_OF_MEMORY;
    if (!why && !(id = tz_random_hex(p, 16)))
        why = "no random bytes for a Message-ID";
    if (why) {
        *error = why;
        return -1;
    }
    id = apr_pstrcat(p, "<", id, "@", strchr(from.addr, '@') + 1, ">", NULL);
    if ((c = curl_easy_init()) &&
        (rcpt = curl_slist_append(NULL, apr_pstrcat(p, "<", to.addr, ">", NULL))) &&
        tz_smtp_content(p, c, m, tz_mail_headers(p, &from, &to, m->subject, id), &mime, &hdrs) == 0) {
        tz_smtp_opts(c, cfg, apr_pstrcat(p, "<", from.addr, ">", NULL), rcpt, errbuf);
        rc = curl_easy_perform(c);
    }
    curl_easy_cleanup(c); /* before the lists and the MIME tree it points to */
    curl_mime_free(mime);
    curl_slist_free_all(hdrs);
    curl_slist_free_all(rcpt);
    if (rc != CURLE_OK) {
        *error = tz_smtp_error(p, cfg->url, rc, errbuf);
        return -1;
    }
    *error = NULL;
    return 0;
}
