/* /creators: public profiles, the creator's own profile (with the bank
 * account, encrypted at rest and decrypted only for its owner), follows. */
#include "mod_tipzed_handlers.h"
#include "mod_tipzed_cache.h"
#include "mod_tipzed_db.h"
#include "mod_tipzed_http.h"
#include "tz_schema.h"
#include "tz_validate.h"

/* The hottest read: from the shared cache when configured, else from
 * PostgreSQL (and then cached).  The SQL function answers the final JSON
 * text, which is sent (and cached) as it is: parsing and printing it again
 * here cost a miss a noticeable share of its time for no change. */
int tz_h_creator_get(tz_req_t *q)
{
    const char *out = tz_cache_get(q, q->id), *args[2] = {q->id, q->cfg->default_currency};
    if (out) {
        apr_table_setn(q->r->headers_out, "X-Tipzed-Cache", "hit");
        return tz_send_json_text(q->r, HTTP_OK, out);
    }
    if (tz_db_value(q->r, TZ_Q_CREATOR_PUBLIC, args, &out) != OK)
        return tz_send_db_unavailable(q->r);
    if (!out)
        return tz_send_problem(q->r, HTTP_NOT_FOUND, "not_found", "no such creator");
    if (tz_cache_put(q, q->id, out))
        apr_table_setn(q->r->headers_out, "X-Tipzed-Cache", "miss");
    return tz_send_json_text(q->r, HTTP_OK, out);
}

/* Replaces "bank_account_enc" with the decrypted "bank_account". */
static int reveal_bank_account(tz_req_t *q, json_t *me)
{
    const char *sealed = json_string_value(json_object_get(me, "bank_account_enc"));
    char *plain = NULL;
    apr_size_t len;
    json_t *value = json_null();
    if (sealed) {
        tz_cfg_t *c = q->cfg;
        if (tz_aead_open(q->r->pool, (const tz_aead_key_t *)c->enc_keys->elts,
                         (size_t)c->enc_keys->nelts, q->user.id, sealed, &plain, &len) != 0) {
            ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, q->r, APLOGNO(10530)
                          "tipzed: the bank account of creator %s cannot be decrypted"
                          " (unknown key id or tampered data)", q->user.id);
            return -1;
        }
        value = json_string(plain);
    }
    json_object_del(me, "bank_account_enc");
    json_object_set_new(me, "bank_account", value);
    return 0;
}

static int send_me(tz_req_t *q, json_t *me)
{
    if (!me)
        return tz_send_problem(q->r, HTTP_NOT_FOUND, "not_found", "no creator profile");
    if (reveal_bank_account(q, me) != 0)
        return tz_send_problem(q->r, HTTP_INTERNAL_SERVER_ERROR, "internal",
                               "the stored bank account cannot be read");
    return tz_send_json(q->r, HTTP_OK, me);
}

int tz_h_creator_me(tz_req_t *q)
{
    json_t *me;
    const char *args[2] = {q->user.id, q->cfg->default_currency};
    int rc = tz_db_json(q->r, TZ_Q_CREATOR_ME, args, &me);
    if (rc != OK)
        return tz_send_db_unavailable(q->r);
    return send_me(q, me);
}

int tz_h_creator_update(tz_req_t *q)
{
    request_rec *r = q->r;
    const char *bank, *avatar, *args[7];
    json_t *me;
    int rc;
    if (tz_validate_or_422(q, &tz_schema_profile))
        return OK;
    avatar = tz_json_str(q->body, "avatar_url");
    if (avatar && *avatar && !tz_avatar_url_ok(avatar))
        return tz_send_field_problem(r, HTTP_UNPROCESSABLE_ENTITY, "validation_failed",
                                     "avatar_url", "must be an https URL");
    bank = tz_json_str(q->body, "bank_account");
    if (bank && !tz_bank_account_ok(bank))
        return tz_send_field_problem(r, HTTP_UNPROCESSABLE_ENTITY, "validation_failed",
                                     "bank_account", "may hold only letters, digits, spaces and dashes");
    args[0] = q->user.id;
    args[1] = tz_json_str(q->body, "full_name");
    args[2] = tz_json_str(q->body, "bio");
    args[3] = avatar;
    /* bound to its owner: moved to another creator's row it opens no more */
    args[4] = bank ? tz_aead_seal(r->pool, (const tz_aead_key_t *)q->cfg->enc_keys->elts,
                                  q->user.id, bank, strlen(bank)) : NULL;
    args[5] = tz_json_str(q->body, "account_name");
    args[6] = q->cfg->default_currency;
    if (bank && !args[4])
        return tz_send_problem(r, HTTP_INTERNAL_SERVER_ERROR, "internal", "cannot encrypt");
    if ((rc = tz_db_json(r, TZ_Q_CREATOR_UPDATE, args, &me)) != OK)
        return tz_send_db_unavailable(r);
    tz_cache_forget(q, q->user.id);
    return send_me(q, me);
}

static int follow(tz_req_t *q, const char *on)
{
    json_t *out;
    const char *args[3] = {q->user.id, q->id, on};
    int rc = tz_db_json(q->r, TZ_Q_FOLLOW, args, &out);
    if (rc != OK)
        return tz_send_db_unavailable(q->r);
    if (!out || json_object_get(out, "error"))
        return tz_send_problem(q->r, HTTP_NOT_FOUND, "not_found", "no such creator");
    tz_cache_forget(q, q->id);
    return tz_send_json(q->r, HTTP_OK, out);
}

int tz_h_follow(tz_req_t *q)
{
    return follow(q, "true");
}

int tz_h_unfollow(tz_req_t *q)
{
    return follow(q, "false");
}
