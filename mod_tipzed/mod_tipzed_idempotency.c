/* X-Idempotency-Key for money-moving POSTs.  A key is claimed before the
 * work; the SQL function that moves the money stores the successful answer
 * under it in the same transaction, so once the money moved the key can
 * only replay that answer (with Idempotent-Replayed: true), whatever
 * happens to the connection or the child before it is sent.  Failed
 * attempts release the key, so a corrected retry with the same key is
 * processed. */
#include "mod_tipzed_idempotency.h"
#include "mod_tipzed_db.h"
#include "mod_tipzed_http.h"
#include "tz_idem.h"
#include "tz_parse.h"

/* Sends a stored answer as the first request's answer was sent: through
 * the same fix (e.g. masking), when the route has one. */
static int replay(tz_req_t *q, json_t *res, tz_idem_fix_fn fix)
{
    const char *text = tz_json_str(res, "response"), *err;
    int status = (int)tz_json_int(res, "status", 200);
    json_t *answer = fix && text ? tz_json_parse(q->r->pool, text, strlen(text), &err) : NULL;
    apr_table_setn(q->r->headers_out, "Idempotent-Replayed", "true");
    if (!answer)
        return tz_send_json_text(q->r, status, text ? text : "{}");
    fix(q, answer);
    return tz_send_json(q->r, status, answer);
}

int tz_idem_begin(tz_req_t *q, const char *route, tz_idem_key_t *k, tz_idem_fix_fn fix)
{
    request_rec *r = q->r;
    const char *key = apr_table_get(r->headers_in, "X-Idempotency-Key"), *args[3];
    json_t *res;
    int rc;
    if (!key)
        key = apr_table_get(r->headers_in, "Idempotency-Key");
    if (!key || !tz_is_idempotency_key(key))
        return tz_send_problem(r, HTTP_BAD_REQUEST, "idempotency_key_required",
                               "send X-Idempotency-Key: 1..255 printable ASCII characters"), DONE;
    k->key = key;
    args[0] = q->user.id;
    args[1] = key;
    args[2] = tz_idem_fingerprint(r->pool, r->method, route, q->body);
    if ((rc = tz_db_json(r, TZ_Q_IDEM_BEGIN, args, &res)) != OK || !res)
        return tz_send_db_unavailable(r), DONE;
    const char *state = tz_json_str(res, "state");
    if (strcmp(state, "new") == 0)
        return OK;
    if (strcmp(state, "mismatch") == 0)
        return tz_send_problem(r, HTTP_UNPROCESSABLE_ENTITY, "idempotency_key_reused",
                               "this key was used for a different request"), DONE;
    if (strcmp(state, "in_flight") == 0)
        return tz_send_problem(r, HTTP_CONFLICT, "idempotency_key_in_use",
                               "a request with this key is still being processed"), DONE;
    replay(q, res, fix);
    return DONE;
}

void tz_idem_release(tz_req_t *q, tz_idem_key_t *k)
{
    const char *args[2] = {q->user.id, k->key}, *ignored;
    tz_db_value(q->r, TZ_Q_IDEM_ABORT, args, &ignored);
}
