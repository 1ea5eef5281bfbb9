/* Outbound HTTPS for provider calls: libcurl with connect and total
 * timeouts and TLS verification on.  The only file that includes curl. */
#ifndef TZ_HTTP_CLIENT_H
#define TZ_HTTP_CLIENT_H
#include <apr_pools.h>
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

#endif
