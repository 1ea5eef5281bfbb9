/* Mail over SMTP against a minimal server thread on a local socket: the
 * envelope, the headers, an RFC 2047 subject, the quoted-printable body,
 * a base64 attachment, login, the server's refusals, a silent server, and
 * the messages refused before any connection. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* strcasestr, MSG_NOSIGNAL, memmem */
#endif
#include "tz_test.h"
#include "tz_test_net.h"
#include "tz_http_client.h"
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <pthread.h>
#include <apr_base64.h>

#define PASSWORD "s3cret-Pa55word"

/* The server: what it was told, and how it answers. */
typedef struct {
    int fd, port;
    int offer_auth;              /* EHLO lists AUTH PLAIN */
    const char *auth_reply;      /* "235 ..." or "535 ..." */
    const char *rcpt_reply;      /* "250 ..." or "550 ..." */
    char ehlo[1024], auth[1024], mail_from[1024], rcpt[1024];
    char data[200000];           /* the message, dot-unstuffed, CRLF kept */
    int sessions;
    pthread_t thread;
} smtp_srv_t;

typedef struct {
    int c;
    char buf[300000];
    size_t have;
} conn_t;

static void say(conn_t *k, const char *line)
{
    send(k->c, line, strlen(line), MSG_NOSIGNAL);
}

/* The next line without its CRLF into out; 0 at EOF or after 5 s of silence. */
static int get_line(conn_t *k, char *out, size_t cap)
{
    char *eol;
    ssize_t n;
    while (!(eol = memmem(k->buf, k->have, "\r\n", 2))) {
        if (k->have >= sizeof k->buf ||
            (n = tz_recv_within(k->c, k->buf + k->have, sizeof k->buf - k->have, 5000)) <= 0)
            return 0;
        k->have += (size_t)n;
    }
    size_t len = (size_t)(eol - k->buf);
    snprintf(out, cap, "%.*s", (int)len, k->buf);
    memmove(k->buf, eol + 2, k->have - len - 2);
    k->have -= len + 2;
    return 1;
}

/* DATA's lines up to the lone ".", unstuffed ("..x" was ".x"). */
static void get_data(smtp_srv_t *s, conn_t *k)
{
    static char line[100000];
    size_t o = 0;
    while (get_line(k, line, sizeof line) && strcmp(line, ".") != 0) {
        const char *l = line[0] == '.' ? line + 1 : line;
        o += (size_t)snprintf(s->data + o, sizeof s->data - o, "%s\r\n", l);
    }
}

/* One command and its answer: 0 after QUIT or at EOF. */
static int command(smtp_srv_t *s, conn_t *k)
{
    char line[1024];
    if (!get_line(k, line, sizeof line))
        return 0;
    if (strncasecmp(line, "EHLO", 4) == 0 || strncasecmp(line, "HELO", 4) == 0) {
        snprintf(s->ehlo, sizeof s->ehlo, "%s", line);
        say(k, s->offer_auth ? "250-test.local\r\n250-AUTH PLAIN\r\n250 8BITMIME\r\n"
                             : "250-test.local\r\n250 8BITMIME\r\n");
    } else if (strncasecmp(line, "AUTH PLAIN", 10) == 0) {
        if (strlen(line) > 11)
            snprintf(s->auth, sizeof s->auth, "%s", line + 11);
        else if (say(k, "334 \r\n"), get_line(k, line, sizeof line))
            snprintf(s->auth, sizeof s->auth, "%s", line);
        say(k, s->auth_reply);
    } else if (strncasecmp(line, "MAIL FROM:", 10) == 0) {
        snprintf(s->mail_from, sizeof s->mail_from, "%s", line + 10);
        say(k, "250 OK\r\n");
    } else if (strncasecmp(line, "RCPT TO:", 8) == 0) {
        snprintf(s->rcpt, sizeof s->rcpt, "%s", line + 8);
        say(k, s->rcpt_reply);
    } else if (strcasecmp(line, "DATA") == 0) {
        say(k, "354 go ahead\r\n");
        get_data(s, k);
        say(k, "250 OK queued\r\n");
    } else if (strcasecmp(line, "QUIT") == 0) {
        say(k, "221 bye\r\n");
        return 0;
    } else {
        say(k, "250 OK\r\n");
    }
    return 1;
}

static void *smtp_main(void *arg)
{
    smtp_srv_t *s = arg;
    conn_t *k = malloc(sizeof *k);
    struct pollfd pfd = {s->fd, POLLIN, 0};
    k->have = 0;
    if (poll(&pfd, 1, 5000) == 1 && (k->c = accept(s->fd, NULL, NULL)) >= 0) {
        s->sessions++;
        say(k, "220 test.local ESMTP\r\n");
        while (command(s, k))
            ;
        close(k->c);
    }
    free(k);
    return NULL;
}

static smtp_srv_t *smtp_start(void)
{
    smtp_srv_t *s = apr_pcalloc(tz_tp, sizeof *s);
    s->fd = tz_listener(&s->port);
    s->auth_reply = "235 welcome\r\n";
    s->rcpt_reply = "250 OK\r\n";
    return s;
}

static void smtp_run(smtp_srv_t *s)
{
    ck_assert_int_eq(pthread_create(&s->thread, NULL, smtp_main, s), 0);
}

static void smtp_stop(smtp_srv_t *s)
{
    pthread_join(s->thread, NULL);
    close(s->fd);
}

static tz_smtp_cfg_t cfg_for(smtp_srv_t *s, const char *userinfo)
{
    tz_smtp_cfg_t c = {apr_psprintf(tz_tp, "smtp://%s127.0.0.1:%d", userinfo, s->port),
                       "Tipzed <no-reply@tipzed.test>", 5000};
    return c;
}

/* ---- reading the message back ---- */

/* The header section (up to the first empty line) of a message or part. */
static char *head_of(const char *msg)
{
    const char *end = strstr(msg, "\r\n\r\n");
    ck_assert_ptr_nonnull(end);
    return apr_pstrcat(tz_tp, "\r\n", apr_pstrmemdup(tz_tp, msg, (apr_size_t)(end - msg)), "\r\n", NULL);
}

/* How often "Name:" starts a line of head (case-insensitive). */
static int header_count(const char *head, const char *name)
{
    int n = 0;
    const char *needle = apr_pstrcat(tz_tp, "\r\n", name, ":", NULL);
    for (const char *h = head; (h = strcasestr(h, needle)); h++)
        n++;
    return n;
}

/* The value of a header, folded lines joined as they are ("\r\n " kept). */
static char *header(const char *head, const char *name)
{
    const char *h = strcasestr(head, apr_pstrcat(tz_tp, "\r\n", name, ": ", NULL)), *e;
    ck_assert_msg(h != NULL, "no %s header", name);
    h += strlen(name) + 4;
    for (e = h; !(e[0] == '\r' && e[1] == '\n' && e[2] != ' ' && e[2] != '\t'); e++)
        ;
    return apr_pstrmemdup(tz_tp, h, (apr_size_t)(e - h));
}

static char *qp_decode(const char *s)
{
    char *out = apr_palloc(tz_tp, strlen(s) + 1), *o = out;
    unsigned int x;
    while (*s) {
        if (s[0] == '=' && s[1] == '\r' && s[2] == '\n')
            s += 3;
        else if (s[0] == '=' && sscanf(s + 1, "%2X", &x) == 1)
            *o++ = (char)x, s += 3;
        else
            *o++ = *s++;
    }
    *o = '\0';
    return out;
}

/* Every line of s at most 76 characters long. */
static int lines_short(const char *s)
{
    for (const char *l = s, *e; *l; l = e + 2) {
        if (!(e = strstr(l, "\r\n")))
            return strlen(l) <= 76;
        if (e - l > 76)
            return 0;
    }
    return 1;
}

/* Encoded words (folded or not) decoded and joined. */
static char *words_decode(const char *v)
{
    char *out = "";
    const char *w = v;
    while ((w = strstr(w, "=?UTF-8?B?"))) {
        const char *e = strstr(w + 10, "?=");
        ck_assert_ptr_nonnull(e);
        char *b64 = apr_pstrmemdup(tz_tp, w + 10, (apr_size_t)(e - w - 10));
        char *plain = apr_palloc(tz_tp, (apr_size_t)apr_base64_decode_len(b64) + 1);
        plain[apr_base64_decode(plain, b64)] = '\0';
        ck_assert_int_le(e + 2 - w, 75); /* RFC 2047's longest word */
        out = apr_pstrcat(tz_tp, out, plain, NULL);
        w = e + 2;
    }
    return out;
}

/* A MIME part of msg: the one whose headers contain marker; *body is its
 * content up to the next boundary line. */
static char *part_with(const char *msg, const char *marker, char **body)
{
    const char *m = strstr(msg, marker), *start, *end;
    ck_assert_msg(m != NULL, "no part with %s", marker);
    for (start = m; start > msg && strncmp(start, "\r\n--", 4) != 0; start--)
        ;
    start = strstr(start + 2, "\r\n") + 2;
    end = strstr(start, "\r\n\r\n") + 4;
    *body = apr_pstrmemdup(tz_tp, end, (apr_size_t)(strstr(end, "\r\n--") - end));
    return head_of(start);
}

/* ---- the tests ---- */

static const char *crlf(const char *s)
{
    char *out = "";
    for (const char *l = s, *e;; l = e + 1) {
        if (!(e = strchr(l, '\n')))
            return apr_pstrcat(tz_tp, out, l, NULL);
        out = apr_pstrcat(tz_tp, out, apr_pstrmemdup(tz_tp, l, (apr_size_t)(e - l)), "\r\n", NULL);
    }
}

static void assert_common_headers(const char *head)
{
    static const char *once[] = {"Date", "From", "To", "Subject", "Message-ID", "MIME-Version"};
    for (size_t i = 0; i < sizeof once / sizeof once[0]; i++)
        ck_assert_msg(header_count(head, once[i]) == 1, "%s: %d times", once[i],
                      header_count(head, once[i]));
    const char *date = header(head, "Date"), *id = header(head, "Message-ID");
    ck_assert_uint_eq(strlen(date), 31); /* "Sat, 08 Jan 2000 18:31:41 +0000" */
    ck_assert_str_eq(date + 26, "+0000");
    ck_assert_int_eq(date[3], ',');
    ck_assert_int_eq(id[0], '<');
    ck_assert_uint_eq(strlen(id), 1 + 32 + strlen("@tipzed.test>"));
    ck_assert_str_eq(id + 33, "@tipzed.test>");
    ck_assert_str_eq(header(head, "MIME-Version"), "1.0");
}

START_TEST(plain_message)
{
    smtp_srv_t *s = smtp_start();
    char longline[121];
    memset(longline, 'w', 120);
    longline[120] = '\0';
    const char *text = apr_pstrcat(tz_tp, "Hello Ana,\n\nThanks for your tip of ZMW 12.50 \xe2\x80\x94 tr\xc3\xa8s bien.\n"
                                   ".\n..two dots\n", longline, "\nx=y trailing space \nend", NULL);
    tz_mail_t m = {"fan@example.com", "Your tip to Ana Phiri", text, NULL, NULL, NULL, 0};
    tz_smtp_cfg_t cfg = cfg_for(s, "");
    const char *err = "unset";
    smtp_run(s);
    ck_assert_int_eq(tz_smtp_send(tz_tp, &cfg, &m, &err), 0);
    smtp_stop(s);
    ck_assert_ptr_null(err);
    ck_assert_str_eq(s->mail_from, "<no-reply@tipzed.test>");
    ck_assert_str_eq(s->rcpt, "<fan@example.com>");
    const char *head = head_of(s->data), *body = strstr(s->data, "\r\n\r\n") + 4;
    assert_common_headers(head);
    ck_assert_str_eq(header(head, "From"), "Tipzed <no-reply@tipzed.test>");
    ck_assert_str_eq(header(head, "To"), "fan@example.com");
    ck_assert_str_eq(header(head, "Subject"), "Your tip to Ana Phiri");
    ck_assert_str_eq(header(head, "Content-Type"), "text/plain; charset=UTF-8");
    ck_assert_str_eq(header(head, "Content-Transfer-Encoding"), "quoted-printable");
    ck_assert_int_eq(header_count(head, "Content-Type"), 1);
    ck_assert(lines_short(body));
    ck_assert_ptr_nonnull(strstr(body, "tr=C3=A8s"));
    ck_assert_ptr_nonnull(strstr(body, "x=3Dy trailing space=20\r\n"));
    ck_assert_str_eq(qp_decode(body), apr_pstrcat(tz_tp, crlf(text), "\r\n", NULL));
}
END_TEST

START_TEST(utf8_subject_and_attachment)
{
    smtp_srv_t *s = smtp_start();
    unsigned char pdf[1000];
    for (size_t i = 0; i < sizeof pdf; i++)
        pdf[i] = (unsigned char)(i * 7 + (i >> 8));
    const char *subject = "Dein Trinkgeld f\xc3\xbcr Ana Phiri \xe2\x80\x94 vielen Dank und bis bald \xe2\x9c\x93 "
                          "\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac";
    const char *text = "Your receipt is attached.\nThank you!\n";
    tz_mail_t m = {"fan@example.com", subject, text, "receipt-2026-000123.pdf", "application/pdf",
                   pdf, sizeof pdf};
    tz_smtp_cfg_t cfg = cfg_for(s, "");
    const char *err = NULL;
    char *tbody, *fbody;
    smtp_run(s);
    ck_assert_int_eq(tz_smtp_send(tz_tp, &cfg, &m, &err), 0);
    smtp_stop(s);
    const char *head = head_of(s->data);
    assert_common_headers(head);
    const char *subj = header(head, "Subject");
    ck_assert_ptr_nonnull(strstr(subj, "?=\r\n =?UTF-8?B?")); /* long: folded into several words */
    ck_assert_str_eq(words_decode(subj), subject);
    ck_assert_ptr_nonnull(strstr(header(head, "Content-Type"), "multipart/mixed"));
    /* the text part */
    const char *th = part_with(s->data, "Content-Type: text/plain", &tbody);
    ck_assert_str_eq(header(th, "Content-Type"), "text/plain; charset=UTF-8");
    ck_assert_str_eq(header(th, "Content-Transfer-Encoding"), "quoted-printable");
    ck_assert_str_eq(qp_decode(tbody), crlf(text));
    /* the attachment */
    const char *fh = part_with(s->data, "Content-Type: application/pdf", &fbody);
    ck_assert_ptr_nonnull(strstr(header(fh, "Content-Disposition"), "filename=\"receipt-2026-000123.pdf\""));
    ck_assert_str_eq(header(fh, "Content-Transfer-Encoding"), "base64");
    ck_assert(lines_short(fbody));
    char *b64 = apr_palloc(tz_tp, strlen(fbody) + 1), *o = b64;
    for (const char *c = fbody; *c; c++)
        if (*c != '\r' && *c != '\n')
            *o++ = *c;
    *o = '\0';
    unsigned char *got = apr_palloc(tz_tp, (apr_size_t)apr_base64_decode_len(b64));
    ck_assert_int_eq(apr_base64_decode_binary(got, b64), (int)sizeof pdf);
    ck_assert_mem_eq(got, pdf, sizeof pdf);
}
END_TEST

START_TEST(display_names_and_ehlo_name)
{
    smtp_srv_t *s = smtp_start();
    tz_mail_t m = {"  Zo\xc3\xab Banda   <zoe@example.com>", "Hi", "x", NULL, NULL, NULL, 0};
    tz_smtp_cfg_t cfg = cfg_for(s, "");
    const char *err = NULL;
    cfg.url = apr_pstrcat(tz_tp, cfg.url, "/tipzed.example", NULL);
    cfg.from = "\"Tipzed, Inc.\" <no-reply@tipzed.test>";
    smtp_run(s);
    ck_assert_int_eq(tz_smtp_send(tz_tp, &cfg, &m, &err), 0);
    smtp_stop(s);
    ck_assert_str_eq(s->ehlo, "EHLO tipzed.example");
    ck_assert_str_eq(s->rcpt, "<zoe@example.com>");
    ck_assert_str_eq(s->mail_from, "<no-reply@tipzed.test>");
    const char *head = head_of(s->data);
    ck_assert_str_eq(header(head, "From"), "\"Tipzed, Inc.\" <no-reply@tipzed.test>");
    const char *to = header(head, "To");
    ck_assert_str_eq(words_decode(to), "Zo\xc3\xab Banda");
    ck_assert_str_eq(strstr(to, "?= "), "?= <zoe@example.com>");
}
END_TEST

START_TEST(login_with_userinfo)
{
    smtp_srv_t *s = smtp_start();
    tz_mail_t m = {"fan@example.com", "Hi", "x", NULL, NULL, NULL, 0};
    tz_smtp_cfg_t cfg = cfg_for(s, "mailer:" PASSWORD "@");
    const char *err = NULL;
    s->offer_auth = 1;
    smtp_run(s);
    ck_assert_int_eq(tz_smtp_send(tz_tp, &cfg, &m, &err), 0);
    smtp_stop(s);
    char plain[256];
    int n = apr_base64_decode(plain, s->auth);
    ck_assert_int_eq(n, 1 + 6 + 1 + (int)strlen(PASSWORD));
    ck_assert_mem_eq(plain, "\0mailer\0" PASSWORD, (size_t)n);
}
END_TEST

/* The server says no: to the login (the password must not be in the
 * error), or to the recipient (no message goes). */
START_TEST(server_refusals)
{
    smtp_srv_t *s = smtp_start();
    tz_mail_t m = {"fan@example.com", "Hi", "x", NULL, NULL, NULL, 0};
    tz_smtp_cfg_t cfg = cfg_for(s, "mailer:" PASSWORD "@");
    const char *err = NULL;
    s->offer_auth = 1;
    s->auth_reply = "535 5.7.8 authentication failed\r\n";
    smtp_run(s);
    ck_assert_int_eq(tz_smtp_send(tz_tp, &cfg, &m, &err), -1);
    smtp_stop(s);
    ck_assert_ptr_nonnull(err);
    ck_assert_ptr_null(strstr(err, PASSWORD));
    ck_assert_str_eq(s->data, "");

    s = smtp_start();
    s->rcpt_reply = "550 5.1.1 no such user\r\n";
    cfg = cfg_for(s, "");
    smtp_run(s);
    ck_assert_int_eq(tz_smtp_send(tz_tp, &cfg, &m, &err), -1);
    smtp_stop(s);
    ck_assert_ptr_nonnull(strstr(err, "550"));
    ck_assert_str_eq(s->data, "");
}
END_TEST

START_TEST(silent_server_times_out)
{
    int port, fd = tz_listener(&port); /* accepted by the kernel, never greeted */
    tz_mail_t m = {"fan@example.com", "Hi", "x", NULL, NULL, NULL, 0};
    tz_smtp_cfg_t cfg = {apr_psprintf(tz_tp, "smtp://127.0.0.1:%d", port), "a@tipzed.test", 300};
    const char *err = NULL;
    ck_assert_int_eq(tz_smtp_send(tz_tp, &cfg, &m, &err), -1);
    close(fd);
    ck_assert_ptr_nonnull(strcasestr(err, "timed out"));
    port = 0;
    fd = tz_listener(&port);
    close(fd); /* and a closed port */
    cfg.url = apr_psprintf(tz_tp, "smtp://127.0.0.1:%d", port);
    ck_assert_int_eq(tz_smtp_send(tz_tp, &cfg, &m, &err), -1);
    ck_assert_ptr_nonnull(err);
}
END_TEST

/* Refused before any connection: the listener's backlog stays empty. */
START_TEST(refused_before_connecting)
{
    static const struct { const char *to, *from, *subject, *name; const char *why; } t[] = {
        {"fan@example.com\r\nBcc: x@evil.test", NULL, "Hi", NULL, "the recipient is not a valid address"},
        {"fan@example.com\n", NULL, "Hi", NULL, "the recipient is not a valid address"},
        {"nobody", NULL, "Hi", NULL, "the recipient is not a valid address"},
        {"Fan <fan@example.com", NULL, "Hi", NULL, "the recipient is not a valid address"},
        {"Fan <fan@example.com> x", NULL, "Hi", NULL, "the recipient is not a valid address"},
        {"a@example.com, b@example.com", NULL, "Hi", NULL, "the recipient is not a valid address"},
        {"f\xc3\xa4n@example.com", NULL, "Hi", NULL, "the recipient is not a valid address"},
        {"Fan\" <fan@example.com>", NULL, "Hi", NULL, "the recipient is not a valid address"},
        {NULL, NULL, "Hi", NULL, "the recipient is not a valid address"},
        {"fan@example.com", "Tipzed <no-reply@tipzed.test>\r\nX: y", "Hi", NULL,
         "the sender is not a valid address"},
        {"fan@example.com", "Tipzed <bad>", "Hi", NULL, "the sender is not a valid address"},
        {"fan@example.com", "", "Hi", NULL, "the sender is not a valid address"},
        {"fan@example.com", NULL, "Hi\r\nBcc: x@evil.test", NULL, "the subject must be one line"},
        {"fan@example.com", NULL, "Hi\n", NULL, "the subject must be one line"},
        {"fan@example.com", NULL, NULL, NULL, "the subject must be one line"},
        {"fan@example.com", NULL, "Hi", "a\"b.pdf",
         "the attachment's name or type has control characters or quotes"},
        {"fan@example.com", NULL, "Hi", "a\r\nb.pdf",
         "the attachment's name or type has control characters or quotes"},
    };
    int port, fd = tz_listener(&port);
    struct pollfd pfd = {fd, POLLIN, 0};
    const char *err;
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        tz_smtp_cfg_t cfg = {apr_psprintf(tz_tp, "smtp://127.0.0.1:%d", port),
                             t[i].from ? t[i].from : "no-reply@tipzed.test", 1000};
        tz_mail_t m = {t[i].to, t[i].subject, "x", t[i].name, NULL, t[i].name ? "%PDF" : NULL, 4};
        err = NULL;
        ck_assert_msg(tz_smtp_send(tz_tp, &cfg, &m, &err) == -1, "case %zu sent", i);
        ck_assert_msg(err && strcmp(err, t[i].why) == 0, "case %zu: %s", i, err ? err : "no error");
    }
    tz_smtp_cfg_t cfg = {apr_psprintf(tz_tp, "http://127.0.0.1:%d", port), "a@tipzed.test", 1000};
    tz_mail_t m = {"fan@example.com", "Hi", "x", NULL, NULL, NULL, 0};
    ck_assert_int_eq(tz_smtp_send(tz_tp, &cfg, &m, &err), -1);
    ck_assert_str_eq(err, "the mail server's URL must be smtp:// or smtps://");
    cfg.url = NULL;
    ck_assert_int_eq(tz_smtp_send(tz_tp, &cfg, &m, &err), -1);
    ck_assert_int_eq(poll(&pfd, 1, 100), 0);
    close(fd);
}
END_TEST

static void curl_setup(void)
{
    ck_assert_int_eq(tz_http_client_init(), 0);
}

static Suite *smtp_suite(void)
{
    Suite *s = suite_create("smtp");
    TCase *tc = tz_tcase("smtp");
    tcase_add_unchecked_fixture(tc, curl_setup, NULL);
    tcase_add_test(tc, plain_message);
    tcase_add_test(tc, utf8_subject_and_attachment);
    tcase_add_test(tc, display_names_and_ehlo_name);
    tcase_add_test(tc, login_with_userinfo);
    tcase_add_test(tc, server_refusals);
    tcase_add_test(tc, silent_server_times_out);
    tcase_add_test(tc, refused_before_connecting);
    suite_add_tcase(s, tc);
    return s;
}

TZ_TEST_MAIN(smtp_suite)
