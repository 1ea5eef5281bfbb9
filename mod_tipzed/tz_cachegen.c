#include "tz_cachegen.h"
#include <string.h>

void tz_gen_token(unsigned char out[TZ_GEN_LEN], int64_t now_us, uint32_t pid, uint32_t seq)
{
    uint64_t t = (uint64_t)now_us;
    for (int i = 0; i < 8; i++)
        out[i] = (unsigned char)(t >> (8 * i));
    for (int i = 0; i < 4; i++) {
        out[8 + i] = (unsigned char)(pid >> (8 * i));
        out[12 + i] = (unsigned char)(seq >> (8 * i));
    }
}

void tz_gen_read(const tz_gen_store_t *s, const tz_gen_keys_t *k, tz_gen_t *g)
{
    unsigned len = TZ_GEN_LEN;
    memset(g, 0, sizeof *g);
    g->present = s->get(s->ctx, k->gen, k->glen, g->token, &len) == 0 && len == TZ_GEN_LEN;
    if (!g->present)
        memset(g->token, 0, sizeof g->token);
}

static int current(const tz_gen_store_t *s, const tz_gen_keys_t *k, const tz_gen_t *seen)
{
    tz_gen_t now;
    tz_gen_read(s, k, &now);
    return now.present == seen->present && memcmp(now.token, seen->token, TZ_GEN_LEN) == 0;
}

/* Why both checks: the first refuses a value once a writer has bumped;
 * a writer that bumps between the first check and the store is caught by
 * the second (the reader removes what it stored), and one that bumps after
 * the second check removes the entry itself, its removal coming after its
 * bump and so after this store. */
int tz_gen_put(const tz_gen_store_t *s, const tz_gen_keys_t *k, const tz_gen_t *seen,
               const unsigned char *val, unsigned len)
{
    if (!current(s, k, seen))
        return 0;
    s->put(s->ctx, k->entry, k->elen, val, len);
    if (current(s, k, seen))
        return 1;
    s->del(s->ctx, k->entry, k->elen);
    return 0;
}

void tz_gen_forget(const tz_gen_store_t *s, const tz_gen_keys_t *k,
                   const unsigned char token[TZ_GEN_LEN])
{
    s->put(s->ctx, k->gen, k->glen, token, TZ_GEN_LEN);
    s->del(s->ctx, k->entry, k->elen);
}
