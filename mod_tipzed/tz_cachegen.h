/* Per-key generations for a shared cache whose fills race with writes
 * (mod_tipzed_cache.c; the rule is here so that it is unit-tested).
 *
 * A reader that misses reads the key's generation before it reads the
 * database; it may store what it read only while that generation is still
 * current.  A writer, after its commit, bumps the generation (writes a
 * fresh token) and then removes the entry.  Whichever order the two meet
 * in, a value read before the write cannot outlive the write's
 * invalidation: see tz_gen_put.  The store may be any key-value cache with
 * get, put and remove (an httpd socache: shmcb in one host, redis in a
 * cluster); no operation needs to be atomic with another. */
#ifndef TZ_CACHEGEN_H
#define TZ_CACHEGEN_H
#include <stdint.h>

#define TZ_GEN_LEN 16

typedef struct {
    void *ctx;
    /* 0 and *len set when key holds a value of at most *len bytes */
    int (*get)(void *ctx, const unsigned char *key, unsigned klen, unsigned char *buf,
               unsigned *len);
    void (*put)(void *ctx, const unsigned char *key, unsigned klen, const unsigned char *val,
                unsigned len);
    void (*del)(void *ctx, const unsigned char *key, unsigned klen);
} tz_gen_store_t;

/* A generation as read: a token, or none (never bumped, or expired). */
typedef struct {
    int present;
    unsigned char token[TZ_GEN_LEN];
} tz_gen_t;

typedef struct {
    const unsigned char *gen, *entry; /* the generation's key and the entry's */
    unsigned glen, elen;
} tz_gen_keys_t;

/* A token no other bump makes: time, process, and a per-process count. */
void tz_gen_token(unsigned char out[TZ_GEN_LEN], int64_t now_us, uint32_t pid, uint32_t seq);
void tz_gen_read(const tz_gen_store_t *s, const tz_gen_keys_t *k, tz_gen_t *g);
/* Stores val under the entry's key if seen (read before the database
 * read) is still the generation, and keeps it only if it still is after
 * the store.  1 when the value stayed, 0 when it was refused or removed. */
int tz_gen_put(const tz_gen_store_t *s, const tz_gen_keys_t *k, const tz_gen_t *seen,
               const unsigned char *val, unsigned len);
/* After a write's commit: bumps the generation to token, then removes
 * the entry. */
void tz_gen_forget(const tz_gen_store_t *s, const tz_gen_keys_t *k,
                   const unsigned char token[TZ_GEN_LEN]);

#endif
