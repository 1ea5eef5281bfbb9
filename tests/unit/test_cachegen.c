/* The creator cache's generations (tz_cachegen.c): a profile read from the
 * database before a write cannot stay cached after the write's
 * invalidation, in every interleaving of the reader's and the writer's
 * steps, on a store with no atomicity between operations. */
#include "tz_test.h"
#include "tz_cachegen.h"
#include <string.h>

#define SLOTS 4
#define MAXV 32

/* A key-value store of a few slots, which calls a hook before each of
 * the reader's operations: there the test runs the writer's steps. */
typedef struct {
    struct { unsigned char k[MAXV], v[MAXV]; unsigned kl, vl; int used; } slot[SLOTS];
    int writer; /* operations by the writer do not call the hook */
    void (*hook)(void);
} fake_t;

static fake_t fk;

static int find(const unsigned char *key, unsigned klen)
{
    for (int i = 0; i < SLOTS; i++)
        if (fk.slot[i].used && fk.slot[i].kl == klen && memcmp(fk.slot[i].k, key, klen) == 0)
            return i;
    return -1;
}

static void before(void)
{
    if (!fk.writer && fk.hook)
        fk.hook();
}

static int f_get(void *ctx, const unsigned char *key, unsigned klen, unsigned char *buf,
                 unsigned *len)
{
    int i;
    (void)ctx;
    before();
    if ((i = find(key, klen)) < 0 || fk.slot[i].vl > *len)
        return -1;
    memcpy(buf, fk.slot[i].v, fk.slot[i].vl);
    *len = fk.slot[i].vl;
    return 0;
}

static void f_put(void *ctx, const unsigned char *key, unsigned klen, const unsigned char *val,
                  unsigned len)
{
    int i = find(key, klen);
    (void)ctx;
    before();
    for (int j = 0; i < 0 && j < SLOTS; j++)
        if (!fk.slot[j].used)
            i = j;
    ck_assert_int_ge(i, 0);
    memcpy(fk.slot[i].k, key, klen);
    memcpy(fk.slot[i].v, val, len);
    fk.slot[i].kl = klen;
    fk.slot[i].vl = len;
    fk.slot[i].used = 1;
}

static void f_del(void *ctx, const unsigned char *key, unsigned klen)
{
    int i = find(key, klen);
    (void)ctx;
    before();
    if (i >= 0)
        fk.slot[i].used = 0;
}

static const tz_gen_store_t store = {NULL, f_get, f_put, f_del};
static const tz_gen_keys_t keys = {(const unsigned char *)"g/c1", (const unsigned char *)"e/c1", 4, 4};

/* The database's row and the writer's schedule: at the reader's point
 * commit_at it commits, at bump_at it bumps, at del_at it removes. */
static const char *db;
static int point, commit_at, bump_at, del_at;
static uint32_t seq;

static void writer_steps(void)
{
    unsigned char token[TZ_GEN_LEN];
    fk.writer = 1;
    if (point == commit_at)
        db = "new";
    if (point == bump_at) {
        tz_gen_token(token, 1000, 42, ++seq);
        store.put(store.ctx, keys.gen, keys.glen, token, TZ_GEN_LEN);
    }
    if (point == del_at)
        store.del(store.ctx, keys.entry, keys.elen);
    fk.writer = 0;
    point++;
}

/* The reader: a miss reads the generation, then the database, then puts. */
static void reader(void)
{
    tz_gen_t g;
    const char *read;
    tz_gen_read(&store, &keys, &g);
    writer_steps(); /* the database read is a point of its own */
    read = db;
    tz_gen_put(&store, &keys, &g, (const unsigned char *)read, (unsigned)strlen(read));
}

static const char *entry(void)
{
    static char out[MAXV + 1];
    int i = find(keys.entry, keys.elen);
    if (i < 0)
        return NULL;
    memcpy(out, fk.slot[i].v, fk.slot[i].vl);
    out[fk.slot[i].vl] = '\0';
    return out;
}

static void reset(int bumped_before)
{
    unsigned char token[TZ_GEN_LEN];
    memset(&fk, 0, sizeof fk);
    db = "old";
    point = 0;
    if (bumped_before) { /* an earlier write left a generation */
        tz_gen_token(token, 5, 7, 9);
        store.put(store.ctx, keys.gen, keys.glen, token, TZ_GEN_LEN);
    }
    fk.hook = writer_steps;
}

START_TEST(no_interleaving_leaves_a_stale_entry)
{
    int runs = 0;
    for (int before_gen = 0; before_gen < 2; before_gen++)
        for (commit_at = 0; commit_at < 8; commit_at++)
            for (bump_at = commit_at; bump_at < 8; bump_at++)
                for (del_at = bump_at; del_at < 8; del_at++) {
                    reset(before_gen);
                    reader();
                    while (point < 8)
                        writer_steps();
                    ck_assert_str_eq(db, "new");
                    ck_assert_msg(!entry() || strcmp(entry(), "new") == 0,
                                  "commit %d, bump %d, remove %d: the entry is '%s'",
                                  commit_at, bump_at, del_at, entry());
                    runs++;
                }
    ck_assert_int_eq(runs, 2 * 120);
}
END_TEST

START_TEST(a_quiet_miss_is_stored)
{
    for (int before_gen = 0; before_gen < 2; before_gen++) {
        reset(before_gen);
        commit_at = bump_at = del_at = 100; /* no write */
        reader();
        ck_assert_str_eq(entry(), "old");
    }
}
END_TEST

START_TEST(a_put_after_a_bump_is_refused)
{
    tz_gen_t g;
    unsigned char token[TZ_GEN_LEN];
    reset(0);
    fk.hook = NULL;
    tz_gen_read(&store, &keys, &g);
    ck_assert(!g.present);
    tz_gen_token(token, 1, 2, 3);
    tz_gen_forget(&store, &keys, token);
    ck_assert_int_eq(tz_gen_put(&store, &keys, &g, (const unsigned char *)"old", 3), 0);
    ck_assert_ptr_null(entry());
    /* the next reader sees the new generation and may store */
    tz_gen_read(&store, &keys, &g);
    ck_assert(g.present && memcmp(g.token, token, TZ_GEN_LEN) == 0);
    ck_assert_int_eq(tz_gen_put(&store, &keys, &g, (const unsigned char *)"new", 3), 1);
    ck_assert_str_eq(entry(), "new");
    /* a generation that vanished (expired, evicted) refuses too */
    store.del(store.ctx, keys.gen, keys.glen);
    ck_assert_int_eq(tz_gen_put(&store, &keys, &g, (const unsigned char *)"x", 1), 0);
    ck_assert_str_eq(entry(), "new");
}
END_TEST

START_TEST(tokens_differ)
{
    unsigned char a[TZ_GEN_LEN], b[TZ_GEN_LEN], c[TZ_GEN_LEN];
    tz_gen_token(a, 1700000000000000, 100, 1);
    tz_gen_token(b, 1700000000000000, 100, 2);
    tz_gen_token(c, 1700000000000000, 101, 1);
    ck_assert(memcmp(a, b, TZ_GEN_LEN) != 0 && memcmp(a, c, TZ_GEN_LEN) != 0);
}
END_TEST

static Suite *cachegen_suite(void)
{
    Suite *s = suite_create("cachegen");
    TCase *tc = tz_tcase("generations");
    tcase_add_test(tc, no_interleaving_leaves_a_stale_entry);
    tcase_add_test(tc, a_quiet_miss_is_stored);
    tcase_add_test(tc, a_put_after_a_bump_is_refused);
    tcase_add_test(tc, tokens_differ);
    suite_add_tcase(s, tc);
    return s;
}

TZ_TEST_MAIN(cachegen_suite)
