/* Fixed-window failure counters in a flat array.  The array lives in shared
 * memory that every child process maps at its own address, so it holds no
 * pointers: a slot is found by index from a 64-bit FNV-1a hash of the key.
 *
 * Open addressing with a bounded probe run: a key lives in one of the
 * TZ_RL_PROBE slots after its home slot.  Lookups scan the whole run (no
 * early stop at an empty slot), which lets a slot be emptied at any time
 * without tombstones.  A new key takes, in that run, an empty slot, else an
 * expired one, else the live one whose window ends soonest -- so the table
 * never grows and a flood of new keys evicts the oldest windows first. */
#include <string.h>
#include "tz_ratelimit.h"

#define TZ_RL_PROBE 32
#define TZ_RL_PREFIX 24 /* key bytes kept beside the hash to rule out collisions */

typedef struct {
    uint64_t hash;      /* 0 = empty */
    int64_t window_end; /* absolute seconds; the window is live while now < window_end */
    uint32_t count;
    uint32_t keylen;
    char prefix[TZ_RL_PREFIX];
} tz_rl_slot_t;

struct tz_rl_table {
    uint32_t nslots;
    uint32_t reserved;  /* keeps slots 8-byte aligned */
    tz_rl_slot_t slots[];
};

typedef struct {
    const char *key;
    size_t len;
    uint64_t hash;
} tz_rl_key_t;

static tz_rl_key_t rl_key(const char *key)
{
    tz_rl_key_t k = {key ? key : "", 0, 14695981039346656037ULL};
    for (const char *s = k.key; *s; s++, k.len++)
        k.hash = (k.hash ^ (unsigned char)*s) * 1099511628211ULL;
    if (k.hash == 0)
        k.hash = 1; /* 0 marks an empty slot */
    return k;
}

size_t tz_rl_size(unsigned nslots)
{
    return sizeof(tz_rl_table_t) + (size_t)nslots * sizeof(tz_rl_slot_t);
}

tz_rl_table_t *tz_rl_init(void *mem, unsigned nslots)
{
    tz_rl_table_t *t = mem;
    memset(mem, 0, tz_rl_size(nslots));
    t->nslots = nslots;
    return t;
}

static int slot_is(const tz_rl_slot_t *s, const tz_rl_key_t *k)
{
    size_t n = k->len < TZ_RL_PREFIX ? k->len : TZ_RL_PREFIX;
    return s->hash == k->hash && s->keylen == (uint32_t)k->len &&
           memcmp(s->prefix, k->key, n) == 0;
}

/* Eviction order: empty, then expired, then live (soonest end first). */
static int better_victim(const tz_rl_slot_t *s, const tz_rl_slot_t *v, int64_t now)
{
    int rs = s->hash == 0 ? 0 : s->window_end <= now ? 1 : 2;
    int rv = v->hash == 0 ? 0 : v->window_end <= now ? 1 : 2;
    return rs != rv ? rs < rv : (rs == 2 && s->window_end < v->window_end);
}

/* The slot holding k, or NULL.  With create, a missing key is given the best
 * victim slot of its probe run, emptied. */
static tz_rl_slot_t *find(tz_rl_table_t *t, const tz_rl_key_t *k, int64_t now, int create)
{
    tz_rl_slot_t *victim = NULL;
    uint32_t run = t->nslots < TZ_RL_PROBE ? t->nslots : TZ_RL_PROBE;
    for (uint32_t i = 0; i < run; i++) {
        tz_rl_slot_t *s = &t->slots[(k->hash + i) % t->nslots];
        if (slot_is(s, k))
            return s;
        if (create && (!victim || better_victim(s, victim, now)))
            victim = s;
    }
    if (victim) {
        memset(victim, 0, sizeof *victim);
        victim->hash = k->hash;
        victim->keylen = (uint32_t)k->len;
        memcpy(victim->prefix, k->key, k->len < TZ_RL_PREFIX ? k->len : TZ_RL_PREFIX);
    }
    return victim;
}

int64_t tz_rl_blocked(tz_rl_table_t *t, const char *key, int64_t now, unsigned limit,
                      int64_t window)
{
    tz_rl_key_t k = rl_key(key);
    tz_rl_slot_t *s = limit ? find(t, &k, now, 0) : NULL;
    int64_t left;
    if (!s || s->window_end <= now || s->count < limit)
        return 0;
    left = s->window_end - now;
    /* a clock stepped backwards must not stretch a block beyond one window */
    return (window > 0 && left > window) ? window : left;
}

void tz_rl_fail(tz_rl_table_t *t, const char *key, int64_t now, int64_t window)
{
    tz_rl_key_t k = rl_key(key);
    tz_rl_slot_t *s = find(t, &k, now, 1);
    if (!s)
        return;
    if (s->window_end <= now) {
        s->count = 0;
        s->window_end = now + (window > 0 ? window : 0);
    }
    if (s->count < UINT32_MAX)
        s->count++;
}

void tz_rl_reset(tz_rl_table_t *t, const char *key)
{
    tz_rl_key_t k = rl_key(key);
    tz_rl_slot_t *s = find(t, &k, 0, 0);
    if (s)
        memset(s, 0, sizeof *s); /* safe: lookups never stop at an empty slot */
}

int64_t tz_rl_attempt_limits(tz_rl_table_t *t, const tz_rl_limit_t *l, size_t n, int64_t now,
                             size_t *which)
{
    int64_t wait = 0;
    for (size_t i = 0; i < n; i++) {
        int64_t w = tz_rl_blocked(t, l[i].key, now, l[i].limit, l[i].window);
        if (w > wait && which)
            *which = i;
        wait = w > wait ? w : wait;
    }
    for (size_t i = 0; !wait && i < n; i++)
        tz_rl_fail(t, l[i].key, now, l[i].window);
    return wait;
}

size_t tz_rl_uniform(const char *const *keys, size_t n, unsigned limit, int64_t window,
                     tz_rl_limit_t *out)
{
    n = n < TZ_RL_MAXKEYS ? n : TZ_RL_MAXKEYS;
    for (size_t i = 0; i < n; i++)
        out[i] = (tz_rl_limit_t){keys[i], limit, window};
    return n;
}

int64_t tz_rl_attempt(tz_rl_table_t *t, const char *const *keys, size_t n, int64_t now,
                      unsigned limit, int64_t window)
{
    tz_rl_limit_t l[TZ_RL_MAXKEYS];
    return tz_rl_attempt_limits(t, l, tz_rl_uniform(keys, n, limit, window, l), now, NULL);
}

void tz_rl_undo(tz_rl_table_t *t, const char *key, int64_t now)
{
    tz_rl_key_t k = rl_key(key);
    tz_rl_slot_t *s = find(t, &k, now, 0);
    if (s && s->window_end > now && s->count > 0)
        s->count--;
}
