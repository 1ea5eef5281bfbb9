/* Outbound HTTP for provider APIs through libcurl: connect and total
 * timeouts, TLS verification on, http/https only, no redirects, bounded
 * answers.  Error texts never carry request headers (secrets). */
#include <string.h>
#include <curl/curl.h>
#include "tz_http_client.h"
#include "apr_strings.h"

#define TZ_HTTP_MAX_BODY (1024 * 1024)

int tz_http_client_init(void)
{
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

typedef struct {
    apr_pool_t *p;
    char *buf;
    size_t len, cap;
} tz_sink_t;

static size_t collect(char *data, size_t size, size_t n, void *userp)
{
    tz_sink_t *s = userp;
    size_t add = size * n;
    if (s->len + add > TZ_HTTP_MAX_BODY)
        return 0; /* aborts the transfer: an answer this large is not a provider's */
    if (s->len + add + 1 > s->cap) {
        size_t cap = (s->len + add + 1) * 2;
        char *grown = apr_palloc(s->p, cap);
        if (s->len)
            memcpy(grown, s->buf, s->len);
        s->buf = grown;
        s->cap = cap;
    }
    memcpy(s->buf + s->len, data, add);
    s->len += add;
    s->buf[s->len] = '\0';
    return add;
}

static struct curl_slist *headers(const tz_out_req_t *req)
{
    struct curl_slist *h = NULL, *next;
    for (int i = 0; req->headers && i < req->headers->nelts; i++) {
        if (!(next = curl_slist_append(h, APR_ARRAY_IDX(req->headers, i, const char *)))) {
            curl_slist_free_all(h);
            return NULL;
        }
        h = next;
    }
    return h;
}

int tz_http_perform(apr_pool_t *p, const tz_out_req_t *req, const tz_http_opts_t *opts,
                    tz_http_resp_t *resp)
{
    tz_sink_t sink = {p, apr_pstrdup(p, ""), 0, 1};
    CURL *c = curl_easy_init();
    struct curl_slist *h = headers(req);
    CURLcode rc = CURLE_FAILED_INIT;
    long status = 0;
    memset(resp, 0, sizeof(*resp));
    if (c) {
        curl_easy_setopt(c, CURLOPT_URL, req->url);
        curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
        curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, opts && opts->connect_timeout_ms ? opts->connect_timeout_ms : 3000L);
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, opts && opts->total_timeout_ms ? opts->total_timeout_ms : 10000L);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
        if (req->body) {
            curl_easy_setopt(c, CURLOPT_POSTFIELDS, req->body);
            curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)req->bodylen);
        }
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req->method);
        rc = curl_easy_perform(c);
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    }
    curl_slist_free_all(h);
    if (c)
        curl_easy_cleanup(c);
    resp->body = sink.buf;
    resp->bodylen = sink.len;
    if (rc != CURLE_OK) {
        resp->error = apr_pstrdup(p, curl_easy_strerror(rc));
        return -1;
    }
    resp->status = (int)status;
    return 0;
}
