/* Outbound traffic through libcurl: HTTPS calls to providers, batches of
 * webhook deliveries, and mail over SMTP.  Connect and total timeouts and
 * TLS verification on everywhere.  The only file that includes curl. */
#ifndef TZ_HTTP_CLIENT_H
#define TZ_HTTP_CLIENT_H
#include <stddef.h>
#include <apr_pools.h>
#include <apr_tables.h>
#include "tz_provider.h"

typedef struct {
    long connect_timeout_ms;     /* default 3000 */
    long total_timeout_ms;       /* default 10000 */
} tz_http_opts_t;

typedef struct {
    int status;                  /* HTTP status, 0 when no answer */
    char *body;                  /* NUL-terminated, from the pool; capped at 1 MiB */
    size_t bodylen;
    const char *error;           /* transport error text (no secrets), or NULL */
    int timed_out;               /* 1 when the failure was a connect or total timeout */
} tz_http_resp_t;

/* Once per process, before threads (curl_global_init). */
int tz_http_client_init(void);

/* Performs req.  Returns 0 when an HTTP answer arrived (any status), -1 on
 * transport failure or timeout (resp->error says which). */
int tz_http_perform(apr_pool_t *p, const tz_out_req_t *req, const tz_http_opts_t *opts,
                    tz_http_resp_t *resp);

/* ---- webhook deliveries: many POSTs at once ---- */

/* The error text of a delivery refused by the address guard. */
#define TZ_HTTP_ADDRESS_REFUSED "address refused: private, loopback or link-local"

typedef struct {
    /* in */
    const char *url;
    const char *body; size_t bodylen;       /* POSTed */
    apr_array_header_t *headers;            /* const char * "Name: value" */
    int chain;                              /* jobs with equal chain are sent one after another in array order */
    /* out */
    int status;                             /* HTTP status, 0 when none */
    long latency_ms;                        /* time of this attempt */
    const char *error;                      /* transport error / refusal text (no secrets, no headers), or NULL */
    char *resp_body; size_t resp_len;       /* answer body, capped at body_cap bytes (excess dropped, not an error) */
    int skipped;                            /* 1: not sent because an earlier job of its chain failed */
} tz_http_job_t;

typedef struct {
    long connect_timeout_ms, total_timeout_ms;
    size_t body_cap;          /* e.g. 4096 */
    int concurrency;          /* at most this many transfers at once (chains run in parallel) */
    int allow_private;        /* 0: connecting to an address tz_addr_forbidden refuses fails with error "address refused: private, loopback or link-local" */
    const char *user_agent;
} tz_http_batch_opts_t;

/* Sends every job, chains concurrently up to opts->concurrency, each chain's jobs in order; a job "fails" when
 * there is no answer or the status is not 2xx, and the rest of its chain is then skipped (so one endpoint's
 * events are never delivered out of order).  Redirects are never followed (a 3xx is a failure), only http/https,
 * TLS verified.  The address guard is CURLOPT_OPENSOCKETFUNCTION (checks the address actually connected to,
 * so DNS rebinding cannot get around it).  Everything curl allocates is freed before return; memory from p.
 *
 * Zero options take defaults: timeouts 3000 and 10000 ms, body_cap 4096 (at most 1 MiB), concurrency 4,
 * user agent "mod_tipzed".  total_timeout_ms bounds each job, not the batch.  Environment proxies are not used
 * (the guard must see the endpoint's own address).  A job's headers should name its Content-Type
 * (libcurl's default for a POST is application/x-www-form-urlencoded); a header line with CR or LF, or a
 * NULL url, fails the job unsent with "the request could not be built".  After the call, resp_body is
 * never NULL (NUL-terminated); a failed job has status 0 and error set, or a non-2xx status and no error;
 * a skipped job has neither.  An answer longer than body_cap is cut off there and the connection closed,
 * so an endless answer does not hold the batch until its timeout. */
void tz_http_batch(apr_pool_t *p, tz_http_job_t *jobs, size_t n, const tz_http_batch_opts_t *opts);

/* ---- mail ---- */

typedef struct {
    const char *url;        /* smtp://host[:port] or smtps://...; user:password may be in the URL's userinfo */
    const char *from;       /* "Name <addr@x>" or "addr@x" */
    long timeout_ms;
} tz_smtp_cfg_t;

typedef struct {
    const char *to;         /* one address */
    const char *subject;    /* UTF-8; encoded per RFC 2047 (=?UTF-8?B?...?=) when not plain ASCII; CR/LF refused */
    const char *text;       /* UTF-8 body, text/plain; charset=UTF-8 */
    const char *attach_name, *attach_type; const void *attach; size_t attach_len; /* optional attachment */
} tz_mail_t;

/* Sends one message: STARTTLS when the server offers it (CURLUSESSL_TRY), headers From, To, Subject, Date,
 * Message-ID, MIME-Version; multipart/mixed with the attachment (base64) when there is one.  Returns 0, or -1
 * with *error set (no password in it).
 *
 * The envelope's MAIL FROM is the bare address of `from`.  `to` may also be "Name <addr@x>".  A `to` or
 * `from` with CR or LF, or not looking like one address (non-ASCII addresses included: SMTPUTF8 is not
 * used), a subject with CR or LF, or an attachment name or type with control characters or quotes is
 * refused before any connection.  Without an attachment the message is a single text/plain part; the
 * text is sent quoted-printable, its line ends as CRLF.  The attachment is there when attach is not NULL
 * (name default "attachment", type default "application/octet-stream").  TLS certificates are verified
 * (smtps:// and STARTTLS alike).  The EHLO name is the URL's path ("smtp://mx:587/tipzed.example"), else
 * libcurl's default.  timeout_ms bounds the whole conversation (0: 30 s).  Message-ID's domain is the
 * sender's. */
int tz_smtp_send(apr_pool_t *p, const tz_smtp_cfg_t *cfg, const tz_mail_t *m, const char **error);

#endif
