/* /webhook-endpoints and /webhook-deliveries: where a creator (their own
 * events) or an admin (every event) has events sent, each endpoint's
 * delivery log, and resending (docs/webhooks.md).  The signing secret is
 * made here, shown once in the creation's answer, and stored sealed with
 * TipzedEncryptionKeyFile's current key, bound to the endpoint's id. */
#include "mod_tipzed_handlers.h"
#include "mod_tipzed_billing.h"
#include "mod_tipzed_accounts.h"
#include "mod_tipzed_db.h"
#include "mod_tipzed_http.h"
#include "mod_tipzed_list.h"
#include "tz_outbox.h"
#include "tz_parse.h"
#include "tz_schema.h"

/* "events": 1..50 strings of 1..64 characters; the database names the
 * first unknown one. */
static int events_ok(tz_req_t *q, json_t *events, const char **out)
{
    size_t i;
    json_t *e;
    *out = NULL;
    if (!events)
        return OK;
    if (!json_is_array(events) || json_array_size(events) < 1 || json_array_size(events) > 50)
        return tz_send_invalid(q->r, "events", "must be an array of 1 to 50 event types"), DONE;
    json_array_foreach(events, i, e)
        if (!json_is_string(e) || json_string_length(e) < 1 || json_string_length(e) > 64)
            return tz_send_invalid(q->r, "events", "each entry must be an event type, e.g. "
                                                   "\"payment.succeeded\", \"payout.*\" or \"*\""),
                   DONE;
    *out = tz_json_dump(q->r->pool, events);
    return OK;
}

static int url_ok(tz_req_t *q, const char *url)
{
    const char *why = url ? tz_webhook_url_check(q->r->pool, url, q->cfg->webhook_private) : NULL;
    return why ? (tz_send_invalid(q->r, "url", why), DONE) : OK;
}

/* The database's refusal: 404, or 422 naming the field. */
static int refused(tz_req_t *q, json_t *res)
{
    const char *e = tz_json_str(res, "error");
    if (strcmp(e, "email_unverified") == 0)
        return tz_send_email_unverified(q->r);
    if (strcmp(e, "events") == 0)
        return tz_send_invalid(q->r, "events", tz_json_str(res, "message"));
    if (strcmp(e, "too_many") == 0)
        return tz_send_problem(q->r, HTTP_CONFLICT, "too_many_endpoints",
                               "an account may have 16 webhook endpoints; delete one first");
    return tz_send_problem(q->r, HTTP_NOT_FOUND, "not_found", "no such webhook endpoint");
}

/* POST /webhook-endpoints {url, events, description?} -> 201 with the
 * secret, which is never shown again. */
int tz_h_endpoint_create(tz_req_t *q)
{
    request_rec *r = q->r;
    const tz_aead_key_t *key = (const tz_aead_key_t *)q->cfg->enc_keys->elts;
    const char *args[7], *secret, *events;
    json_t *res;
    if (tz_validate_or_422(q, &tz_schema_endpoint) ||
        url_ok(q, tz_json_str(q->body, "url")) != OK ||
        events_ok(q, json_object_get(q->body, "events"), &events) != OK)
        return OK;
    args[0] = tz_uuid4(r->pool);
    secret = tz_random_hex(r->pool, 32);
    if (!args[0] || !secret)
        return tz_send_problem(r, HTTP_SERVICE_UNAVAILABLE, "unavailable",
                               "no randomness for the secret now; try again");
    secret = apr_pstrcat(r->pool, "whsec_", secret, NULL);
    args[1] = q->user.id;
    args[2] = q->user.role;
    args[3] = tz_json_str(q->body, "url");
    args[4] = tz_json_str(q->body, "description");
    args[5] = events;
    args[6] = tz_aead_seal(r->pool, key, args[0], secret, strlen(secret));
    if (tz_db_json(r, TZ_Q_ENDPOINT_CREATE, args, &res) != OK || !res)
        return tz_send_db_unavailable(r);
    if (tz_json_str(res, "error"))
        return refused(q, res);
    json_object_set_new(res, "secret", json_string(secret));
    /* no URL in the audit log: one may carry a receiver's token */
    tz_audit(q, q->user.id, "webhook_endpoint.create", "webhook_endpoint", args[0], NULL);
    return tz_send_json(r, HTTP_CREATED, res);
}

/* GET /webhook-endpoints: the caller's (an admin: every endpoint). */
int tz_h_endpoints_list(tz_req_t *q)
{
    static const tz_list_t list = {TZ_Q_ENDPOINTS_LIST, "webhook-endpoints", TZ_CURSOR_UUID, NULL,
                                   0, NULL, NULL};
    const char *args[5] = {q->user.id, q->user.role, NULL, NULL, NULL};
    return tz_list(q, &list, args, 5);
}

int tz_h_endpoint_get(tz_req_t *q)
{
    const char *args[3] = {q->id, q->user.id, q->user.role};
    json_t *res = NULL;
    if (tz_is_uuid(q->id) && tz_db_json(q->r, TZ_Q_ENDPOINT_GET, args, &res) != OK)
        return tz_send_db_unavailable(q->r);
    if (!res)
        return tz_send_problem(q->r, HTTP_NOT_FOUND, "not_found", "no such webhook endpoint");
    return tz_send_json(q->r, HTTP_OK, res);
}

/* "url, enabled=false": what a change touched, for the audit log (no
 * URL: one may carry a receiver's token). */
static const char *changed_fields(apr_pool_t *p, json_t *body)
{
    const char *out = NULL, *k;
    json_t *v;
    json_object_foreach(body, k, v) {
        const char *f = json_is_boolean(v) ? apr_pstrcat(p, k, json_is_true(v) ? "=true" : "=false",
                                                          NULL) : k;
        out = out ? apr_pstrcat(p, out, ", ", f, NULL) : f;
    }
    return out;
}

/* PATCH /webhook-endpoints/{id} {url?, events?, description?, enabled?} */
int tz_h_endpoint_update(tz_req_t *q)
{
    request_rec *r = q->r;
    json_t *enabled = json_object_get(q->body, "enabled"), *res;
    const char *args[7] = {q->id, q->user.id, q->user.role, tz_json_str(q->body, "url"),
                           tz_json_str(q->body, "description"), NULL,
                           enabled ? (json_is_true(enabled) ? "true" : "false") : NULL};
    if (tz_validate_or_422(q, &tz_schema_endpoint_patch))
        return OK;
    if (json_object_size(q->body) == 0)
        return tz_send_invalid(r, "body", "must name at least one of url, events, description, "
                                          "enabled");
    if (url_ok(q, args[3]) != OK || events_ok(q, json_object_get(q->body, "events"), &args[5]))
        return OK;
    if (!tz_is_uuid(q->id))
        return tz_send_problem(r, HTTP_NOT_FOUND, "not_found", "no such webhook endpoint");
    if (tz_db_json(r, TZ_Q_ENDPOINT_UPDATE, args, &res) != OK || !res)
        return tz_send_db_unavailable(r);
    if (tz_json_str(res, "error"))
        return refused(q, res);
    tz_audit(q, q->user.id, "webhook_endpoint.update", "webhook_endpoint", q->id,
             changed_fields(r->pool, q->body));
    return tz_send_json(r, HTTP_OK, res);
}

/* DELETE /webhook-endpoints/{id} -> 204; its deliveries and log go too. */
int tz_h_endpoint_delete(tz_req_t *q)
{
    const char *args[3] = {q->id, q->user.id, q->user.role};
    json_t *res = NULL;
    if (tz_is_uuid(q->id) && tz_db_json(q->r, TZ_Q_ENDPOINT_DELETE, args, &res) != OK)
        return tz_send_db_unavailable(q->r);
    if (!res || !json_is_true(json_object_get(res, "deleted")))
        return tz_send_problem(q->r, HTTP_NOT_FOUND, "not_found", "no such webhook endpoint");
    tz_audit(q, q->user.id, "webhook_endpoint.delete", "webhook_endpoint", q->id, NULL);
    return tz_send_no_content(q->r);
}

static const char *const delivery_cols[] = {"id", "created_at", "endpoint_id", "event_id",
                                            "event_type", "status", "attempts", "last_status",
                                            "last_error", "delivered_at", "next_attempt_at"};

static int delivery_status_ok(tz_req_t *q, const char *s)
{
    if (s && strcmp(s, "pending") && strcmp(s, "succeeded") && strcmp(s, "failed"))
        return tz_send_invalid(q->r, "status", "must be pending, succeeded or failed"), DONE;
    return OK;
}

/* GET /webhook-endpoints/{id}/deliveries[?status=], each with its log. */
int tz_h_endpoint_deliveries(tz_req_t *q)
{
    static const tz_list_t list = {TZ_Q_ENDPOINT_DELIVERIES, "webhook-deliveries", TZ_CURSOR_UUID,
                                   delivery_cols, 11, NULL, "no such webhook endpoint"};
    const char *args[7] = {q->id, q->user.id, q->user.role, tz_query_arg(q->r, "status"),
                           NULL, NULL, NULL};
    if (delivery_status_ok(q, args[3]) != OK)
        return OK;
    if (!tz_is_uuid(q->id))
        return tz_send_problem(q->r, HTTP_NOT_FOUND, "not_found", "no such webhook endpoint");
    return tz_list(q, &list, args, 7);
}

/* GET /webhook-deliveries?status&event_type&endpoint_id: every delivery
 * of the caller's endpoints (an admin: of every endpoint). */
int tz_h_deliveries_list(tz_req_t *q)
{
    static const tz_list_t list = {TZ_Q_DELIVERIES_LIST, "webhook-deliveries", TZ_CURSOR_UUID,
                                   delivery_cols, 11, NULL, NULL};
    const char *args[8] = {q->user.id, q->user.role, tz_query_arg(q->r, "status"),
                           tz_query_arg(q->r, "event_type"), tz_query_arg(q->r, "endpoint_id"),
                           NULL, NULL, NULL};
    if (delivery_status_ok(q, args[2]) != OK)
        return OK;
    if (args[3] && (!*args[3] || strlen(args[3]) > 100 ||
                    strspn(args[3], "abcdefghijklmnopqrstuvwxyz_.") != strlen(args[3])))
        return tz_send_invalid(q->r, "event_type", "is not an event type");
    if (args[4] && !tz_is_uuid(args[4]))
        return tz_send_invalid(q->r, "endpoint_id", "must be a UUID");
    return tz_list(q, &list, args, 8);
}

/* POST /webhook-deliveries/{id}/resend: one more attempt, at once. */
int tz_h_delivery_resend(tz_req_t *q)
{
    const char *args[4] = {q->id, q->user.id, q->user.role, tz_billing_sandbox(q->cfg)};
    json_t *res;
    if (!tz_is_uuid(q->id))
        return tz_send_problem(q->r, HTTP_NOT_FOUND, "not_found", "no such delivery");
    if (tz_db_json(q->r, TZ_Q_DELIVERY_RESEND, args, &res) != OK || !res)
        return tz_send_db_unavailable(q->r);
    if (tz_json_str(res, "error") && strcmp(tz_json_str(res, "error"), "not_found") == 0)
        return tz_send_problem(q->r, HTTP_NOT_FOUND, "not_found", "no such delivery");
    if (tz_json_str(res, "error"))
        return tz_send_problem(q->r, HTTP_CONFLICT, "endpoint_disabled",
                               "the endpoint is disabled; enable it (PATCH enabled: true) first");
    tz_audit(q, q->user.id, "webhook_delivery.resend", "webhook_delivery", q->id, NULL);
    return tz_send_json(q->r, HTTP_ACCEPTED, res);
}
