/* Fixed-window failure counters in a flat array (shared memory across
 * processes: no pointers inside).  Open addressing over a 64-bit FNV-1a
 * hash; expired slots are reused; when a probe run is full the slot whose
 * window ends first is evicted, so the table never grows. */
#include <string.h>
#include "tz_ratelimit.h"

#define TZ_RL_PROBE 16

typedef struct {
    uint64_t hash;      /* 0 = empty */
    int64_t window_end;
    uint32_t count;
} tz_rl_slot_t;

struct tz_rl_table {
    uint32_t nslots;
    tz_rl_slot_t slots[];
};

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h ? h : 1;
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

/* Eviction preference: an empty slot, then an expired one, then the live
 * slot whose window ends first. */
static int rank(const tz_rl_slot_t *s, int64_t now)
{
    return s->hash == 0 ? 0 : s->window_end <= now ? 1 : 2;
}

/* The slot holding key, or NULL; with create, a free/expired/evicted one. */
static tz_rl_slot_t *find(tz_rl_table_t *t, uint64_t h, int64_t now, int create)
{
    tz_rl_slot_t *victim = NULL;
    for (uint32_t i = 0; i < TZ_RL_PROBE && i < t->nslots; i++) {
        tz_rl_slot_t *s = &t->slots[(h + i) % t->nslots];
        if (s->hash == h)
            return s;
        if (create && (!victim || rank(s, now) < rank(victim, now) ||
                       (rank(s, now) == 2 && rank(victim, now) == 2 &&
                        s->window_end < victim->window_end)))
            victim = s;
    }
    if (victim) {
        victim->hash = h;
        victim->count = 0;
        victim->window_end = 0;
    }
    return victim;
}

int64_t tz_rl_blocked(tz_rl_table_t *t, const char *key, int64_t now, unsigned limit,
                      int64_t window)
{
    tz_rl_slot_t *s = find(t, fnv1a(key), now, 0);
    (void)window;
    if (!s || s->window_end <= now || s->count < limit)
        return 0;
    return s->window_end - now;
}

void tz_rl_fail(tz_rl_table_t *t, const char *key, int64_t now, int64_t window)
{
    tz_rl_slot_t *s = find(t, fnv1a(key), now, 1);
    if (!s)
        return;
    if (s->window_end <= now) {
        s->count = 0;
        s->window_end = now + window;
    }
    s->count++;
}

void tz_rl_reset(tz_rl_table_t *t, const char *key)
{
    tz_rl_slot_t *s = find(t, fnv1a(key), 0, 0);
    if (s)
        s->count = 0;
}
