/* The outbound HTTP client against local sockets: refused connections,
 * silent peers (timeouts), a one-shot server thread for answers, the 1 MiB
 * cap, no redirects, http/https only, and error texts free of secrets. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* strcasestr, MSG_NOSIGNAL */
#endif
#include "tz_test.h"
#include "tz_test_net.h"
#include "tz_http_client.h"
#include <string.h>
#include <strings.h>
#include <pthread.h>
#include <poll.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#define SECRET "sk_live_DO_NOT_LEAK_1234"


static tz_out_req_t request(const char *method, const char *url, const char *body)
{
    tz_out_req_t req = {method, url, apr_array_make(tz_tp, 2, sizeof(const char *)), body,
                        body ? strlen(body) : 0};
    APR_ARRAY_PUSH(req.headers, const char *) = "Authorization: Bearer " SECRET;
    APR_ARRAY_PUSH(req.headers, const char *) = "Content-Type: application/json";
    return req;
}

static const char *url_for(int port, const char *path)
{
    return apr_psprintf(tz_tp, "http://127.0.0.1:%d%s", port, path);
}

START_TEST(closed_port_fails_fast)
{
    int port, fd = tz_listener(&port);
    close(fd); /* nothing listens there now */
    tz_out_req_t req = request("POST", url_for(port, "/v3/payments"), "{}");
    tz_http_opts_t opts = {5000, 10000};
    tz_http_resp_t resp;
    ck_assert_int_eq(tz_http_perform(tz_tp, &req, &opts, &resp), -1);
    ck_assert_int_eq(resp.status, 0);
    ck_assert_ptr_nonnull(resp.error);
    ck_assert_int_eq(resp.timed_out, 0); /* refused at once, not waited out */
    ck_assert_ptr_null(strstr(resp.error, SECRET));
    ck_assert_ptr_null(strstr(resp.error, "Authorization"));
}
END_TEST

START_TEST(silent_peer_times_out)
{
    /* the kernel completes the handshake from the backlog; nobody ever answers */
    int port, fd = tz_listener(&port);
    tz_out_req_t req = request("POST", url_for(port, "/v1/checkout/sessions"), "a=1");
    tz_http_opts_t opts = {200, 200};
    tz_http_resp_t resp;
    ck_assert_int_eq(tz_http_perform(tz_tp, &req, &opts, &resp), -1);
    ck_assert_int_eq(resp.status, 0);
    ck_assert_int_eq(resp.timed_out, 1);
    ck_assert_ptr_nonnull(strcasestr(resp.error, "timed out"));
    ck_assert_ptr_null(strstr(resp.error, SECRET));
    close(fd);
}
END_TEST

/* A server thread that answers one request with a canned answer followed
 * by `filler` bytes of 'x', and keeps what it was sent. */
typedef struct {
    int fd;
    const char *answer;
    size_t filler;
    char got[16384];
    size_t gotlen;
    pthread_t thread;
} srv_t;

/* Reads headers, then Content-Length bytes of body. */
static void srv_read_request(srv_t *s, int c)
{
    char *end = NULL, *cl;
    size_t want = 0;
    ssize_t n;
    while (s->gotlen < sizeof s->got - 1 &&
           (n = recv(c, s->got + s->gotlen, sizeof s->got - 1 - s->gotlen, 0)) > 0) {
        s->gotlen += (size_t)n;
        s->got[s->gotlen] = '\0';
        if (!end && (end = strstr(s->got, "\r\n\r\n"))) {
            cl = strcasestr(s->got, "\r\nContent-Length:");
            want = (size_t)(end + 4 - s->got) + (cl && cl < end ? strtoul(cl + 17, NULL, 10) : 0);
        }
        if (end && s->gotlen >= want)
            break;
    }
}

static void *srv_main(void *arg)
{
    srv_t *s = arg;
    struct pollfd pfd = {s->fd, POLLIN, 0};
    char chunk[65536];
    int c;
    if (poll(&pfd, 1, 5000) != 1 || (c = accept(s->fd, NULL, NULL)) < 0)
        return NULL; /* the client never came: the test's assertions say why */
    srv_read_request(s, c);
    send(c, s->answer, strlen(s->answer), MSG_NOSIGNAL);
    memset(chunk, 'x', sizeof chunk);
    for (size_t sent = 0; sent < s->filler;) {
        size_t k = s->filler - sent < sizeof chunk ? s->filler - sent : sizeof chunk;
        ssize_t n = send(c, chunk, k, MSG_NOSIGNAL);
        if (n <= 0)
            break; /* the client hung up: expected when it caps the answer */
        sent += (size_t)n;
    }
    close(c);
    return NULL;
}

static srv_t *srv_start(const char *answer, size_t filler, int *port)
{
    srv_t *s = apr_pcalloc(tz_tp, sizeof *s);
    s->fd = tz_listener(port);
    s->answer = answer;
    s->filler = filler;
    ck_assert_int_eq(pthread_create(&s->thread, NULL, srv_main, s), 0);
    return s;
}

static void srv_stop(srv_t *s)
{
    pthread_join(s->thread, NULL);
    close(s->fd);
}

START_TEST(post_answer_and_request_shape)
{
    int port;
    srv_t *s = srv_start("HTTP/1.1 201 Created\r\nContent-Type: application/json\r\n"
                         "Content-Length: 11\r\nConnection: close\r\n\r\n{\"ok\":true}", 0, &port);
    char big[4000];
    memset(big, 'b', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    tz_out_req_t req = request("POST", url_for(port, "/v3/payments"), big);
    tz_http_resp_t resp;
    ck_assert_int_eq(tz_http_perform(tz_tp, &req, NULL, &resp), 0);
    srv_stop(s);
    ck_assert_int_eq(resp.status, 201);
    ck_assert_str_eq(resp.body, "{\"ok\":true}");
    ck_assert_uint_eq(resp.bodylen, 11);
    ck_assert_ptr_null(resp.error);
    ck_assert_ptr_nonnull(strstr(s->got, "POST /v3/payments HTTP/1.1\r\n"));
    ck_assert_ptr_nonnull(strstr(s->got, "\r\nAuthorization: Bearer " SECRET "\r\n"));
    ck_assert_ptr_nonnull(strstr(s->got, "\r\nContent-Length: 3999\r\n"));
    ck_assert_ptr_null(strcasestr(s->got, "Expect:")); /* body sent at once */
    ck_assert_ptr_nonnull(strstr(s->got, big));
}
END_TEST

START_TEST(get_and_redirect_not_followed)
{
    int port;
    srv_t *s = srv_start("HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:1/elsewhere\r\n"
                         "Content-Length: 0\r\nConnection: close\r\n\r\n", 0, &port);
    tz_out_req_t req = request("GET", url_for(port, "/v3/transactions/1/verify"), NULL);
    tz_http_resp_t resp;
    ck_assert_int_eq(tz_http_perform(tz_tp, &req, NULL, &resp), 0);
    srv_stop(s);
    ck_assert_int_eq(resp.status, 302);
    ck_assert_uint_eq(resp.bodylen, 0);
    ck_assert_str_eq(resp.body, "");
    ck_assert_ptr_nonnull(strstr(s->got, "GET /v3/transactions/1/verify HTTP/1.1\r\n"));
    ck_assert_ptr_null(strcasestr(s->got, "Content-Length"));
}
END_TEST

/* Declared too large, and too large without a declared length. */
START_TEST(answer_capped_at_1mib)
{
    static const char *answers[] = {
        "HTTP/1.1 200 OK\r\nContent-Length: 1048577\r\nConnection: close\r\n\r\n",
        "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n"};
    for (size_t i = 0; i < 2; i++) {
        int port;
        srv_t *s = srv_start(answers[i], 1048577, &port);
        tz_out_req_t req = request("GET", url_for(port, "/big"), NULL);
        tz_http_resp_t resp;
        ck_assert_int_eq(tz_http_perform(tz_tp, &req, NULL, &resp), -1);
        srv_stop(s);
        ck_assert_int_eq(resp.status, 0);
        ck_assert_ptr_nonnull(strstr(resp.error, "1 MiB"));
        ck_assert_uint_le(resp.bodylen, 1048576);
    }
    int port;
    srv_t *s = srv_start("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n", 1048576, &port);
    tz_out_req_t req = request("GET", url_for(port, "/exact"), NULL);
    tz_http_resp_t resp;
    ck_assert_int_eq(tz_http_perform(tz_tp, &req, NULL, &resp), 0); /* exactly 1 MiB is fine */
    srv_stop(s);
    ck_assert_uint_eq(resp.bodylen, 1048576);
    ck_assert_uint_eq(strlen(resp.body), 1048576);
}
END_TEST

START_TEST(refused_requests)
{
    static const char *urls[] = {"file:///etc/hostname", "ftp://127.0.0.1/x", "gopher://127.0.0.1/",
                                 "dict://127.0.0.1/"};
    tz_http_resp_t resp;
    for (size_t i = 0; i < sizeof urls / sizeof urls[0]; i++) {
        tz_out_req_t req = request("GET", urls[i], NULL);
        ck_assert_msg(tz_http_perform(tz_tp, &req, NULL, &resp) == -1, "fetched %s", urls[i]);
        ck_assert_int_eq(resp.status, 0);
        ck_assert_ptr_nonnull(resp.error);
    }
    tz_out_req_t req = request("POST", "http://127.0.0.1:1/", "{}");
    APR_ARRAY_PUSH(req.headers, const char *) = "X-Smuggle: a\r\nHost: evil";
    ck_assert_int_eq(tz_http_perform(tz_tp, &req, NULL, &resp), -1);
    ck_assert_ptr_null(strstr(resp.error, "evil"));
    ck_assert_ptr_null(strstr(resp.error, SECRET));
    req.url = NULL; /* an adapter that could not build its request */
    ck_assert_int_eq(tz_http_perform(tz_tp, &req, NULL, &resp), -1);
    ck_assert_ptr_nonnull(resp.error);
}
END_TEST

static void curl_setup(void)
{
    ck_assert_int_eq(tz_http_client_init(), 0);
}

static Suite *http_client_suite(void)
{
    Suite *s = suite_create("http_client");
    TCase *tc = tz_tcase("transport");
    tcase_add_unchecked_fixture(tc, curl_setup, NULL);
    tcase_add_test(tc, closed_port_fails_fast);
    tcase_add_test(tc, silent_peer_times_out);
    tcase_add_test(tc, post_answer_and_request_shape);
    tcase_add_test(tc, get_and_redirect_not_followed);
    tcase_add_test(tc, answer_capped_at_1mib);
    tcase_add_test(tc, refused_requests);
    suite_add_tcase(s, tc);
    return s;
}

TZ_TEST_MAIN(http_client_suite)
