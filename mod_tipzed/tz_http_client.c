/* Outbound HTTP for provider APIs through libcurl: one easy handle per
 * call, connect and total timeouts, TLS verification on, http/https only,
 * no redirects, answers capped at 1 MiB.  Error texts come from libcurl's
 * transport messages only, which never carry request headers or bodies,
 * so an API secret in "Authorization" cannot reach a log line. */
#include <string.h>
#include <curl/curl.h>
#include "tz_http_client.h"
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
static int tz_http_headers(const tz_out_req_t *req, struct curl_slist **out)
{
    struct curl_slist *h = NULL, *next;
    int n = req->headers ? req->headers->nelts : 0;
    for (int i = 0; i <= n; i++) {
        const char *line = i < n ? APR_ARRAY_IDX(req->headers, i, const char *) : "Expect:";
        if (!line || strpbrk(line, "\r\n") || !(next = curl_slist_append(h, line))) {
            curl_slist_free_all(h);
            return -1;
        }
        h = next;
    }
    *out = h;
    return 0;
}

/* Safe defaults that do not depend on the request. */
static void tz_http_safe_opts(CURL *c, const tz_http_opts_t *opts, char *errbuf)
{
    long conn = opts && opts->connect_timeout_ms > 0 ? opts->connect_timeout_ms
                                                     : TZ_HTTP_CONNECT_MS;
    long total = opts && opts->total_timeout_ms > 0 ? opts->total_timeout_ms : TZ_HTTP_TOTAL_MS;
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L); /* threaded MPMs: no SIGALRM for timeouts */
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(c, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, conn);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, total);
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
    if (!req || !req->url || !req->method || tz_http_headers(req, &h) != 0) {
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
