/* Webhook deliveries in batches against a local keep-alive server: chains
 * in parallel and in order, a failure skipping the rest of its chain,
 * redirects not followed, the answer cap, refused and silent peers, the
 * private-address guard (which must refuse before connecting), and the
 * concurrency bound. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* strcasestr, MSG_NOSIGNAL */
#endif
#include "tz_test.h"
#include "tz_test_net.h"
#include "tz_http_client.h"
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <pthread.h>

#define SECRET "whsec_DO_NOT_LEAK_5678"
#define MAXREQ 128
#define MAXCONN 64

/* A server answering by path: /s/STATUS[/DELAY_MS], /big/N (N bytes of
 * 'x'), /redir (302 to /s/200?followed).  Each connection gets its own
 * thread and keeps alive; what arrived is kept in order. */
typedef struct {
    int fd, port;
    volatile int stop;
    pthread_mutex_t mu;
    int conns, inflight, max_inflight, nreq;
    char req[MAXREQ][1024];     /* each request's head and body, cut at 1023 bytes */
    char path[MAXREQ][128];
    pthread_t acceptor, handlers[MAXCONN];
} hsrv_t;

typedef struct {
    hsrv_t *s;
    int c;
} conn_t;

/* One request into buf (head and Content-Length body): its length, 0 at EOF. */
static size_t read_request(int c, char *buf, size_t cap, size_t *have)
{
    char *end;
    ssize_t n;
    for (;;) {
        buf[*have] = '\0';
        if ((end = strstr(buf, "\r\n\r\n"))) {
            char *cl = strcasestr(buf, "\r\nContent-Length:");
            size_t want = (size_t)(end + 4 - buf) + (cl && cl < end ? strtoul(cl + 17, NULL, 10) : 0);
            if (*have >= want)
                return want;
        }
        if (*have >= cap - 1 || (n = tz_recv_within(c, buf + *have, cap - 1 - *have, 5000)) <= 0)
            return 0;
        *have += (size_t)n;
    }
}

static char big[200000]; /* filled with 'x' before any server thread runs */

/* The answer for path (its delay already waited out). */
static void answer(int c, const char *path)
{
    char head[256];
    int status = 200;
    size_t len = 0;
    const char *body = "ok";
    if (sscanf(path, "/s/%d", &status) == 1)
        len = 2;
    else if (sscanf(path, "/big/%zu", &len) == 1)
        body = big;
    else if (strncmp(path, "/redir", 6) == 0)
        status = 302;
    snprintf(head, sizeof head, "HTTP/1.1 %d X\r\n%sContent-Length: %zu\r\n\r\n", status,
             status == 302 ? "Location: /s/200?followed\r\n" : "", len);
    send(c, head, strlen(head), MSG_NOSIGNAL);
    send(c, body, len, MSG_NOSIGNAL);
}

/* /s/STATUS/DELAY_MS: the delay in microseconds, else 0. */
static useconds_t delay_of(const char *path)
{
    int status, ms;
    return sscanf(path, "/s/%d/%d", &status, &ms) == 2 && ms > 0 ? (useconds_t)ms * 1000 : 0;
}

static void *conn_main(void *arg)
{
    conn_t *k = arg;
    hsrv_t *s = k->s;
    char buf[8192], path[128];
    size_t have = 0, len;
    while ((len = read_request(k->c, buf, sizeof buf, &have)) > 0) {
        if (sscanf(buf, "%*s %127s", path) != 1)
            break;
        pthread_mutex_lock(&s->mu);
        if (s->nreq < MAXREQ) {
            snprintf(s->req[s->nreq], sizeof s->req[0], "%.*s", (int)len, buf);
            snprintf(s->path[s->nreq], sizeof s->path[0], "%s", path);
        }
        s->nreq++;
        if (++s->inflight > s->max_inflight)
            s->max_inflight = s->inflight;
        pthread_mutex_unlock(&s->mu);
        usleep(delay_of(path));
        /* counted out before the answer leaves: the client may start its
         * next request as soon as it has the answer */
        pthread_mutex_lock(&s->mu);
        s->inflight--;
        pthread_mutex_unlock(&s->mu);
        answer(k->c, path);
        memmove(buf, buf + len, have - len);
        have -= len;
    }
    close(k->c);
    free(k);
    return NULL;
}

static void *accept_main(void *arg)
{
    hsrv_t *s = arg;
    while (!s->stop) {
        struct pollfd pfd = {s->fd, POLLIN, 0};
        conn_t *k;
        int c;
        if (poll(&pfd, 1, 50) != 1 || (c = accept(s->fd, NULL, NULL)) < 0)
            continue;
        k = malloc(sizeof *k);
        *k = (conn_t){s, c};
        pthread_mutex_lock(&s->mu);
        if (s->conns < MAXCONN && pthread_create(&s->handlers[s->conns], NULL, conn_main, k) == 0)
            s->conns++;
        else {
            close(c);
            free(k);
        }
        pthread_mutex_unlock(&s->mu);
    }
    return NULL;
}

static hsrv_t *hsrv_start(void)
{
    hsrv_t *s = apr_pcalloc(tz_tp, sizeof *s);
    memset(big, 'x', sizeof big);
    pthread_mutex_init(&s->mu, NULL);
    s->fd = tz_listener(&s->port);
    ck_assert_int_eq(pthread_create(&s->acceptor, NULL, accept_main, s), 0);
    return s;
}

/* Stops accepting and waits for every connection to end (the batch has
 * closed its side: curl_multi_cleanup closes its connections). */
static void hsrv_stop(hsrv_t *s)
{
    s->stop = 1;
    pthread_join(s->acceptor, NULL);
    for (int i = 0; i < s->conns; i++)
        pthread_join(s->handlers[i], NULL);
    close(s->fd);
    pthread_mutex_destroy(&s->mu);
}

/* Where path arrived among the requests, or -1. */
static int arrived(hsrv_t *s, const char *path)
{
    for (int i = 0; i < s->nreq && i < MAXREQ; i++)
        if (strcmp(s->path[i], path) == 0)
            return i;
    return -1;
}

static tz_http_job_t job(int port, const char *path, int chain)
{
    tz_http_job_t j = {0};
    j.url = apr_psprintf(tz_tp, "http://127.0.0.1:%d%s", port, path);
    j.body = apr_psprintf(tz_tp, "{\"path\":\"%s\"}", path);
    j.bodylen = strlen(j.body);
    j.headers = apr_array_make(tz_tp, 2, sizeof(const char *));
    APR_ARRAY_PUSH(j.headers, const char *) = "Content-Type: application/json";
    APR_ARRAY_PUSH(j.headers, const char *) = "X-Tipzed-Signature: t=1,v1=" SECRET;
    j.chain = chain;
    return j;
}

static tz_http_batch_opts_t opts(int concurrency, int allow_private)
{
    tz_http_batch_opts_t o = {2000, 5000, 4096, concurrency, allow_private, "tipzed-test/1"};
    return o;
}

static void assert_delivered(const tz_http_job_t *j, int status)
{
    ck_assert_msg(j->status == status && !j->error && !j->skipped, "%s: status %d, error %s, skipped %d",
                  j->url, j->status, j->error ? j->error : "-", j->skipped);
}

static void assert_skipped(const tz_http_job_t *j)
{
    ck_assert_msg(j->skipped == 1 && j->status == 0 && !j->error, "%s not skipped", j->url);
    ck_assert_str_eq(j->resp_body, "");
}

START_TEST(chains_in_parallel_each_in_order)
{
    hsrv_t *s = hsrv_start();
    tz_http_job_t jobs[] = {job(s->port, "/s/200/300?a1", 1), job(s->port, "/s/200/300?b1", 2),
                            job(s->port, "/s/200?a2", 1), job(s->port, "/s/201?b2", 2),
                            job(s->port, "/s/204?a3", 1)};
    tz_http_batch_opts_t o = opts(4, 1);
    tz_http_batch(tz_tp, jobs, 5, &o);
    hsrv_stop(s);
    assert_delivered(&jobs[0], 200);
    assert_delivered(&jobs[1], 200);
    assert_delivered(&jobs[2], 200);
    assert_delivered(&jobs[3], 201);
    assert_delivered(&jobs[4], 204);
    ck_assert_str_eq(jobs[0].resp_body, "ok");
    ck_assert_uint_eq(jobs[0].resp_len, 2);
    ck_assert_int_ge(jobs[0].latency_ms, 290);
    ck_assert_int_eq(s->nreq, 5);
    ck_assert_int_eq(s->max_inflight, 2); /* a1 and b1 were in the server together */
    ck_assert_int_lt(arrived(s, "/s/200/300?a1"), arrived(s, "/s/200?a2"));
    ck_assert_int_lt(arrived(s, "/s/200?a2"), arrived(s, "/s/204?a3"));
    ck_assert_int_lt(arrived(s, "/s/200/300?b1"), arrived(s, "/s/201?b2"));
    ck_assert_int_eq(s->conns, 2); /* each chain kept its connection */
    /* the request as sent */
    const char *r = s->req[arrived(s, "/s/200?a2")];
    ck_assert_ptr_nonnull(strstr(r, "POST /s/200?a2 HTTP/1.1\r\n"));
    ck_assert_ptr_nonnull(strstr(r, "\r\nContent-Type: application/json\r\n"));
    ck_assert_ptr_nonnull(strstr(r, "\r\nX-Tipzed-Signature: t=1,v1=" SECRET "\r\n"));
    ck_assert_ptr_nonnull(strstr(r, "\r\nUser-Agent: tipzed-test/1\r\n"));
    ck_assert_ptr_null(strcasestr(r, "Expect:"));
    ck_assert_ptr_nonnull(strstr(r, "\r\n\r\n{\"path\":\"/s/200?a2\"}"));
}
END_TEST

START_TEST(failure_skips_the_rest_of_its_chain)
{
    hsrv_t *s = hsrv_start();
    tz_http_job_t jobs[] = {job(s->port, "/s/500?a1", 7), job(s->port, "/s/200?b1", 3),
                            job(s->port, "/s/200?a2", 7), job(s->port, "/s/200?b2", 3),
                            job(s->port, "/s/200?a3", 7)};
    tz_http_batch_opts_t o = opts(2, 1);
    tz_http_batch(tz_tp, jobs, 5, &o);
    hsrv_stop(s);
    ck_assert_int_eq(jobs[0].status, 500);
    ck_assert_ptr_null(jobs[0].error);
    ck_assert_int_eq(jobs[0].skipped, 0);
    ck_assert_str_eq(jobs[0].resp_body, "ok"); /* the answer body is kept for a failure too */
    assert_skipped(&jobs[2]);
    assert_skipped(&jobs[4]);
    assert_delivered(&jobs[1], 200);
    assert_delivered(&jobs[3], 200);
    ck_assert_int_eq(s->nreq, 3);
    ck_assert_int_eq(arrived(s, "/s/200?a2"), -1);
    ck_assert_int_eq(arrived(s, "/s/200?a3"), -1);
}
END_TEST

START_TEST(redirect_is_a_failure_and_not_followed)
{
    hsrv_t *s = hsrv_start();
    tz_http_job_t jobs[] = {job(s->port, "/redir", 1), job(s->port, "/s/200?after", 1)};
    tz_http_batch_opts_t o = opts(1, 1);
    tz_http_batch(tz_tp, jobs, 2, &o);
    hsrv_stop(s);
    ck_assert_int_eq(jobs[0].status, 302);
    ck_assert_ptr_null(jobs[0].error);
    assert_skipped(&jobs[1]);
    ck_assert_int_eq(s->nreq, 1);
    ck_assert_int_eq(arrived(s, "/s/200?followed"), -1);
}
END_TEST

START_TEST(answer_body_capped)
{
    hsrv_t *s = hsrv_start();
    tz_http_job_t jobs[] = {job(s->port, "/big/150000", 1), job(s->port, "/big/100", 1),
                            job(s->port, "/big/0", 1), job(s->port, "/big/5000", 2)};
    tz_http_batch_opts_t o = opts(2, 1);
    o.body_cap = 100;
    tz_http_batch(tz_tp, jobs, 3, &o); /* the chain of three, cap 100 */
    assert_delivered(&jobs[0], 200);
    ck_assert_uint_eq(jobs[0].resp_len, 100);
    ck_assert_uint_eq(strlen(jobs[0].resp_body), 100);
    ck_assert_uint_eq(strspn(jobs[0].resp_body, "x"), 100);
    assert_delivered(&jobs[1], 200); /* exactly the cap: all of it */
    ck_assert_uint_eq(jobs[1].resp_len, 100);
    assert_delivered(&jobs[2], 200);
    ck_assert_uint_eq(jobs[2].resp_len, 0);
    ck_assert_str_eq(jobs[2].resp_body, "");
    o.body_cap = 0; /* the default: 4096 */
    tz_http_batch(tz_tp, jobs + 3, 1, &o);
    hsrv_stop(s);
    assert_delivered(&jobs[3], 200);
    ck_assert_uint_eq(jobs[3].resp_len, 4096);
}
END_TEST

START_TEST(connect_refused)
{
    int port, fd = tz_listener(&port);
    close(fd); /* nothing listens there now */
    tz_http_job_t jobs[] = {job(port, "/s/200?1", 1), job(port, "/s/200?2", 1)};
    tz_http_batch_opts_t o = opts(2, 1);
    tz_http_batch(tz_tp, jobs, 2, &o);
    ck_assert_int_eq(jobs[0].status, 0);
    ck_assert_ptr_nonnull(jobs[0].error);
    ck_assert_ptr_nonnull(strcasestr(jobs[0].error, "connect"));
    ck_assert_ptr_null(strstr(jobs[0].error, SECRET));
    ck_assert_ptr_null(strstr(jobs[0].error, "Signature"));
    ck_assert_int_lt(jobs[0].latency_ms, 2000);
    assert_skipped(&jobs[1]);
}
END_TEST

START_TEST(silent_peer_times_out)
{
    /* the kernel completes the handshake from the backlog; nobody ever answers */
    int port, fd = tz_listener(&port);
    tz_http_job_t jobs[] = {job(port, "/s/200", 1)};
    tz_http_batch_opts_t o = opts(1, 1);
    o.total_timeout_ms = 300;
    tz_http_batch(tz_tp, jobs, 1, &o);
    close(fd);
    ck_assert_int_eq(jobs[0].status, 0);
    ck_assert_ptr_nonnull(strcasestr(jobs[0].error, "timed out"));
    ck_assert_int_ge(jobs[0].latency_ms, 250);
    ck_assert_int_lt(jobs[0].latency_ms, 5000);
}
END_TEST

/* The guard refuses before connecting: the listener's backlog stays empty. */
START_TEST(private_address_refused_without_connecting)
{
    int port, fd = tz_listener(&port);
    struct pollfd pfd = {fd, POLLIN, 0};
    tz_http_job_t jobs[] = {job(port, "/s/200", 1), job(port, "/s/200", 2), job(port, "/s/200", 3),
                            job(port, "/s/200?later", 1)};
    jobs[1].url = apr_psprintf(tz_tp, "http://localhost:%d/s/200", port);
    jobs[2].url = apr_psprintf(tz_tp, "http://[::1]:%d/s/200", port);
    tz_http_batch_opts_t o = opts(3, 0);
    tz_http_batch(tz_tp, jobs, 4, &o);
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(jobs[i].status, 0);
        ck_assert_msg(jobs[i].error && strcmp(jobs[i].error, TZ_HTTP_ADDRESS_REFUSED) == 0,
                      "%s: %s", jobs[i].url, jobs[i].error ? jobs[i].error : "no error");
    }
    assert_skipped(&jobs[3]);
    ck_assert_int_eq(poll(&pfd, 1, 100), 0);
    close(fd);
}
END_TEST

START_TEST(concurrency_bound)
{
    hsrv_t *s = hsrv_start();
    tz_http_job_t jobs[] = {job(s->port, "/s/200/150?a", 1), job(s->port, "/s/200/150?b", 2),
                            job(s->port, "/s/200/150?c", 3)};
    tz_http_batch_opts_t o = opts(1, 1);
    tz_http_batch(tz_tp, jobs, 3, &o);
    hsrv_stop(s);
    for (int i = 0; i < 3; i++)
        assert_delivered(&jobs[i], 200);
    ck_assert_int_eq(s->nreq, 3);
    ck_assert_int_eq(s->max_inflight, 1);
}
END_TEST

/* 40 jobs in 10 chains through 3 transfers at a time: every job once,
 * each chain in its order, never more than 3 in the server at once. */
START_TEST(many_chains_few_slots)
{
    hsrv_t *s = hsrv_start();
    tz_http_job_t jobs[40];
    for (int i = 0; i < 40; i++)
        jobs[i] = job(s->port, apr_psprintf(tz_tp, "/s/200/%d?job=%d", (i * 7) % 20, i), 100 - i % 10);
    tz_http_batch_opts_t o = opts(3, 1);
    tz_http_batch(tz_tp, jobs, 40, &o);
    hsrv_stop(s);
    ck_assert_int_eq(s->nreq, 40);
    ck_assert_int_le(s->max_inflight, 3);
    for (int i = 0; i < 40; i++) {
        assert_delivered(&jobs[i], 200);
        if (i >= 10)
            ck_assert_int_lt(arrived(s, strchr(strchr(jobs[i - 10].url, '/') + 2, '/')),
                             arrived(s, strchr(strchr(jobs[i].url, '/') + 2, '/')));
    }
}
END_TEST

START_TEST(unbuildable_jobs_fail_unsent)
{
    hsrv_t *s = hsrv_start();
    tz_http_job_t jobs[] = {job(s->port, "/s/200?smuggle", 1), job(s->port, "/s/200?after", 1),
                            job(s->port, "/s/200?nourl", 2), job(s->port, "/s/200?fine", 3)};
    APR_ARRAY_PUSH(jobs[0].headers, const char *) = "X-A: 1\r\nHost: evil";
    jobs[2].url = NULL;
    jobs[3].headers = NULL; /* no headers at all is fine */
    jobs[3].body = NULL;
    tz_http_batch_opts_t o = opts(1, 1);
    tz_http_batch(tz_tp, jobs, 4, &o);
    hsrv_stop(s);
    ck_assert_str_eq(jobs[0].error, "the request could not be built");
    assert_skipped(&jobs[1]);
    ck_assert_str_eq(jobs[2].error, "the request could not be built");
    assert_delivered(&jobs[3], 200);
    ck_assert_int_eq(s->nreq, 1);
    ck_assert_ptr_nonnull(strstr(s->req[0], "\r\nContent-Length: 0\r\n"));
    tz_http_batch(tz_tp, NULL, 0, &o); /* nothing to do */
    tz_http_batch(tz_tp, jobs + 3, 1, NULL); /* defaults; the port is closed now */
    ck_assert_ptr_nonnull(jobs[3].error);
}
END_TEST

static void curl_setup(void)
{
    ck_assert_int_eq(tz_http_client_init(), 0);
}

static Suite *http_batch_suite(void)
{
    Suite *s = suite_create("http_batch");
    TCase *tc = tz_tcase("batch");
    tcase_add_unchecked_fixture(tc, curl_setup, NULL);
    tcase_add_test(tc, chains_in_parallel_each_in_order);
    tcase_add_test(tc, failure_skips_the_rest_of_its_chain);
    tcase_add_test(tc, redirect_is_a_failure_and_not_followed);
    tcase_add_test(tc, answer_body_capped);
    tcase_add_test(tc, connect_refused);
    tcase_add_test(tc, silent_peer_times_out);
    tcase_add_test(tc, private_address_refused_without_connecting);
    tcase_add_test(tc, concurrency_bound);
    tcase_add_test(tc, many_chains_few_slots);
    tcase_add_test(tc, unbuildable_jobs_fail_unsent);
    suite_add_tcase(s, tc);
    return s;
}

TZ_TEST_MAIN(http_batch_suite)
