/* The outbox's dispatcher (docs/webhooks.md), run by a watchdog of its own
 * on every node: events are fanned out into deliveries and mail
 * (tz_api_outbox_fanout), then deliveries are claimed endpoint by endpoint
 * under a lease (tz_api_outbox_claim: FOR UPDATE SKIP LOCKED, so nodes
 * sharing the database never send one attempt twice), sent with libcurl's
 * multi interface -- one endpoint's events one after another and in order,
 * endpoints side by side up to TipzedWebhookConcurrency -- and their
 * outcomes reported in one transaction (tz_api_outbox_report).  Mail has
 * a watchdog of its own (mod_tipzed_mail.c): a receipt's PDF and an SMTP
 * server's pace never hold webhooks back. */
#include "mod_tipzed_outbox.h"
#include "mod_tipzed_billing.h"
#include "mod_tipzed_db.h"
#include "mod_tipzed_watchdog.h"
#include "tz_http_client.h"
#include "tz_outbox.h"
#include "tz_sig.h"

#define TZ_FANOUT_BATCH 500
#define TZ_ROUND_ENDPOINTS "32"
#define TZ_ROUND_PER_ENDPOINT 20
/* A tick goes on while there is work, this long at most, so that the
 * watchdog's next tick and a graceful stop are never held up for long. */
#define TZ_TICK_BUDGET apr_time_from_sec(5)
#define TZ_PRUNE_EVERY apr_time_from_sec(600)
#define TZ_PRUNE_BATCH 5000

uint32_t tz_outbox_jitter(void)
{
    uint32_t r = 0;
    tz_random_bytes((unsigned char *)&r, sizeof r);
    return r;
}

/* Fans out every event waiting (batch by batch). */
static void fanout(apr_pool_t *p, server_rec *s)
{
    const char *args[1] = {apr_itoa(p, TZ_FANOUT_BATCH)}, *n = NULL;
    for (int i = 0; i < 20; i++)
        if (tz_db_server_value(p, s, TZ_Q_OUTBOX_FANOUT, args, &n) != OK || !n ||
            atoi(n) < TZ_FANOUT_BATCH)
            return;
}

/* Removes finished deliveries, mail and events older than
 * TipzedOutboxRetention, a batch at a time, once in TZ_PRUNE_EVERY per
 * child (the watchdog's thread is the only caller: no lock). */
static void prune(apr_pool_t *p, server_rec *s, const tz_cfg_t *c)
{
    static apr_time_t next;
    apr_time_t now = apr_time_now(), end = now + apr_time_from_sec(2);
    const char *args[2] = {apr_ltoa(p, (long)c->outbox_retention), apr_itoa(p, TZ_PRUNE_BATCH)};
    const char *n = NULL;
    long total = 0;
    if (!c->outbox_retention || now < next)
        return;
    next = now + TZ_PRUNE_EVERY;
    while (tz_db_server_value(p, s, TZ_Q_OUTBOX_PRUNE, args, &n) == OK && n && atol(n) > 0 &&
           (total += atol(n)) && apr_time_now() < end && !tz_watchdog_closing())
        ;
    if (total)
        ap_log_error(APLOG_MARK, APLOG_INFO, 0, s, APLOGNO(10684)
                     "tipzed: removed %ld finished outbox row(s) older than "
                     "TipzedOutboxRetention", total);
}

/* One delivery of a claimed endpoint as an HTTP job: the event as
 * stored, signed with the endpoint's secret at this attempt's time. */
static void delivery_job(apr_pool_t *p, const tz_cfg_t *c, json_t *d, const char *secret,
                         int chain, tz_http_job_t *job)
{
    const char *body = tz_json_str(d, "body");
    memset(job, 0, sizeof *job);
    job->body = body;
    job->bodylen = strlen(body);
    job->chain = chain;
    job->headers = apr_array_make(p, 7, sizeof(const char *));
    APR_ARRAY_PUSH(job->headers, const char *) = "Content-Type: application/json";
    APR_ARRAY_PUSH(job->headers, const char *) =
        apr_pstrcat(p, "X-Tipzed-Event-Id: ", tz_json_str(d, "event_id"), NULL);
    APR_ARRAY_PUSH(job->headers, const char *) =
        apr_pstrcat(p, "X-Tipzed-Event-Type: ", tz_json_str(d, "type"), NULL);
    APR_ARRAY_PUSH(job->headers, const char *) =
        apr_pstrcat(p, "X-Tipzed-Delivery-Id: ", tz_json_str(d, "id"), NULL);
    APR_ARRAY_PUSH(job->headers, const char *) = apr_psprintf(
        p, "X-Tipzed-Attempt: %" APR_INT64_T_FMT, (apr_int64_t)tz_json_int(d, "attempts", 0) + 1);
    APR_ARRAY_PUSH(job->headers, const char *) = apr_pstrcat(
        p, "X-Tipzed-Signature: ",
        tz_sig_sign_tv1(p, secret, strlen(secret), body, job->bodylen,
                        (long long)apr_time_sec(apr_time_now())), NULL);
}

json_int_t tz_outbox_retry_delay(const tz_cfg_t *c, json_t *item)
{
    int failed = (int)tz_json_int(item, "attempts", 0) + 1;
    return (json_int_t)tz_backoff_delay(failed, c->webhook_retry_max, tz_outbox_jitter());
}

void tz_outbox_report(apr_pool_t *p, server_rec *s, const tz_cfg_t *c, tz_query_e q,
                      const char *token, json_t *results)
{
    const char *args[4] = {token, tz_json_dump(p, results), apr_itoa(p, c->webhook_retries),
                           tz_billing_sandbox(c)}, *n = NULL;
    tz_db_server_value(p, s, q, args, &n);
}

void tz_outbox_rounds(apr_pool_t *p, server_rec *s, const tz_cfg_t *c, tz_round_fn *round_fn)
{
    apr_time_t end = apr_time_now() + TZ_TICK_BUDGET;
    int busy;
    do {
        apr_pool_t *round;
        if (apr_pool_create(&round, p) != APR_SUCCESS)
            return;
        busy = round_fn(round, s, c);
        apr_pool_destroy(round);
    } while (busy && apr_time_now() < end && !tz_watchdog_closing());
}

/* An attempt's outcome as tz_api_outbox_report takes it. */
static json_t *outcome(const tz_cfg_t *c, json_t *d, int status, long latency,
                       const char *error)
{
    return json_pack("{s:s, s:i, s:I, s:s?, s:I}", "id", tz_json_str(d, "id"), "status", status,
                     "latency_ms", (json_int_t)latency, "error", error, "delay",
                     tz_outbox_retry_delay(c, d));
}

/* The jobs of one claimed endpoint, or its outcomes at once when its
 * secret cannot be opened (a key removed from TipzedEncryptionKeyFile). */
static void endpoint_jobs(apr_pool_t *p, server_rec *s, const tz_cfg_t *c, json_t *ep, int chain,
                          apr_array_header_t *jobs, apr_array_header_t *meta, json_t *results)
{
    json_t *ds = json_object_get(ep, "deliveries"), *d;
    char *secret = NULL;
    size_t i, len;
    if (tz_aead_open(p, (const tz_aead_key_t *)c->enc_keys->elts, (size_t)c->enc_keys->nelts,
                     tz_json_str(ep, "endpoint_id"), tz_json_str(ep, "secret_enc"), &secret,
                     &len) != 0) {
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, s, APLOGNO(10681)
                     "tipzed: the signing secret of webhook endpoint %s does not open with "
                     "TipzedEncryptionKeyFile's keys; its events wait",
                     tz_json_str(ep, "endpoint_id"));
        json_array_foreach(ds, i, d)
            json_array_append_new(results, outcome(c, d, 0, 0, "the endpoint's secret cannot "
                                                               "be opened by this server"));
        return;
    }
    json_array_foreach(ds, i, d) {
        tz_http_job_t *job = apr_array_push(jobs);
        delivery_job(p, c, d, secret, chain, job);
        job->url = tz_json_str(ep, "url");
        APR_ARRAY_PUSH(meta, json_t *) = d;
    }
}

/* One round: claim, send, report.  The number of attempts made. */
static int deliver_round(apr_pool_t *p, server_rec *s, const tz_cfg_t *c)
{
    long lease = TZ_ROUND_PER_ENDPOINT * (long)c->webhook_timeout + 30;
    const char *args[5] = {tz_random_hex(p, 16), TZ_ROUND_ENDPOINTS,
                           apr_itoa(p, TZ_ROUND_PER_ENDPOINT), apr_ltoa(p, lease),
                           tz_billing_sandbox(c)};
    apr_array_header_t *jobs = apr_array_make(p, 64, sizeof(tz_http_job_t));
    apr_array_header_t *meta = apr_array_make(p, 64, sizeof(json_t *));
    json_t *claim, *ep, *results = json_array();
    tz_http_batch_opts_t opts = {3000, (long)c->webhook_timeout * 1000, 4096,
                                 c->webhook_concurrency, c->webhook_private,
                                 "Tipzed-Webhooks/" TZ_MODULE_VERSION};
    size_t i;
    tz_json_pool(p, results);
    if (!args[0] || tz_db_server_json(p, s, TZ_Q_OUTBOX_CLAIM, args, &claim) != OK || !claim ||
        json_array_size(claim) == 0)
        return 0;
    json_array_foreach(claim, i, ep)
        endpoint_jobs(p, s, c, ep, (int)i, jobs, meta, results);
    tz_http_batch(p, (tz_http_job_t *)jobs->elts, (size_t)jobs->nelts, &opts);
    for (int j = 0; j < jobs->nelts; j++) {
        tz_http_job_t *job = &APR_ARRAY_IDX(jobs, j, tz_http_job_t);
        if (!job->skipped)
            json_array_append_new(results, outcome(c, APR_ARRAY_IDX(meta, j, json_t *),
                                                   job->status, job->latency_ms, job->error));
    }
    tz_outbox_report(p, s, c, TZ_Q_OUTBOX_REPORT, args[0], results);
    return (int)json_array_size(results);
}

/* Fans out, then delivers. */
static int outbox_round(apr_pool_t *p, server_rec *s, const tz_cfg_t *c)
{
    fanout(p, s);
    return deliver_round(p, s, c);
}

void tz_outbox_run(apr_pool_t *p, server_rec *s, const tz_cfg_t *c)
{
    prune(p, s, c);
    tz_outbox_rounds(p, s, c, outbox_round);
}
