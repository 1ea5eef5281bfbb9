/* A cache of public creator profiles (GET /creators/{id}) shared by every
 * child process, kept in one of httpd's socache providers -- shmcb, as
 * for SSLSessionCache -- so the hottest read needs no database round trip.
 *
 *   TipzedCreatorCache shmcb:/run/tipzed/creators(1048576) 2s
 *
 * Every write that changes what a profile shows removes its entry at once,
 * in every child: profile edits, follows and unfollows, credits and refunds
 * of payments.  A read that fetched the old row just before a write and
 * stores it just after cannot leave it cached: each key has a generation
 * that writes bump before removing the entry, and a miss stores only under
 * the generation it read before its database read (tz_cachegen.c, which
 * needs nothing of the provider but get, put and remove, so shmcb and
 * redis alike).  The TTL (default 30 s) only bounds a change made outside
 * the API (SQL by hand).  Keys hold
 * the virtual host, so hosts with different databases never share entries;
 * misses and errors fall through to the database.  Off unless configured. */
#include "mod_tipzed_cache.h"
#include "tz_parse.h"
#include "tz_cachegen.h"
#include "ap_socache.h"
#include "ap_provider.h"
#include "apr_global_mutex.h"
#include "util_mutex.h"
#include "apr_hash.h"
#include "apr_atomic.h"
#include <unistd.h>

#define TZ_CACHE_MUTEX "tipzed-cache"
#define TZ_CACHE_MAX_OBJECT 8192

static const ap_socache_provider_t *tz_cache_prov;
static ap_socache_instance_t *tz_cache_inst;
static apr_global_mutex_t *tz_cache_mutex;
static apr_interval_time_t tz_cache_ttl;

const char *tz_cache_directive(cmd_parms *cmd, void *d, const char *spec, const char *ttl)
{
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY), *colon, *name;
    const char *dir = cmd->directive->directive;
    int64_t secs = 30;
    if (err)
        return err;
    tz_cache_prov = NULL;
    if (strcasecmp(spec, "none") == 0)
        return ttl ? apr_psprintf(cmd->pool, "%s none takes no TTL", dir) : NULL;
    if (ttl && (err = tz_parse_duration(ttl, &secs)))
        return apr_psprintf(cmd->pool, "%s: TTL '%s': %s", dir, ttl, err);
    colon = ap_strchr_c(spec, ':');
    name = colon ? apr_pstrmemdup(cmd->pool, spec, (apr_size_t)(colon - spec)) : spec;
    tz_cache_prov = ap_lookup_provider(AP_SOCACHE_PROVIDER_GROUP, name,
                                       AP_SOCACHE_PROVIDER_VERSION);
    if (!tz_cache_prov)
        return apr_psprintf(cmd->pool, "%s: unknown cache type '%s' (is mod_socache_%s loaded?)",
                            dir, name, name);
    err = tz_cache_prov->create(&tz_cache_inst, colon ? colon + 1 : NULL, cmd->temp_pool,
                                cmd->pool);
    if (err) {
        tz_cache_prov = NULL;
        return apr_psprintf(cmd->pool, "%s: %s", dir, err);
    }
    tz_cache_ttl = apr_time_from_sec(secs);
    return NULL;
}

int tz_cache_pre_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp)
{
    tz_cache_prov = NULL; /* a restart without the directive turns it off */
    tz_cache_mutex = NULL;
    return ap_mutex_register(pconf, TZ_CACHE_MUTEX, NULL, APR_LOCK_DEFAULT, 0) == APR_SUCCESS
               ? OK : HTTP_INTERNAL_SERVER_ERROR;
}

static apr_status_t destroy_cache(void *s)
{
    if (tz_cache_prov)
        tz_cache_prov->destroy(tz_cache_inst, s);
    return APR_SUCCESS;
}

apr_status_t tz_cache_post_config(apr_pool_t *p, server_rec *s)
{
    struct ap_socache_hints hints = {48, 256, 60};
    apr_status_t rv;
    if (!tz_cache_prov)
        return APR_SUCCESS;
    if (tz_cache_prov->flags & AP_SOCACHE_FLAG_NOTMPSAFE) {
        rv = ap_global_mutex_create(&tz_cache_mutex, NULL, TZ_CACHE_MUTEX, NULL, s, p, 0);
        if (rv != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, APLOGNO(10592)
                         "tipzed: cannot create the creator cache mutex");
            return rv;
        }
    }
    if ((rv = tz_cache_prov->init(tz_cache_inst, "tipzed-creators", &hints, s, p)) != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, APLOGNO(10593)
                     "tipzed: cannot initialise the creator cache");
        return rv;
    }
    apr_pool_cleanup_register(p, s, destroy_cache, apr_pool_cleanup_null);
    return APR_SUCCESS;
}

void tz_cache_child_init(apr_pool_t *p, server_rec *s)
{
    if (tz_cache_mutex)
        apr_global_mutex_child_init(&tz_cache_mutex, apr_global_mutex_lockfile(tz_cache_mutex), p);
}

static int lock(void)
{
    return !tz_cache_mutex || apr_global_mutex_lock(tz_cache_mutex) == APR_SUCCESS;
}

static void unlock(void)
{
    if (tz_cache_mutex)
        apr_global_mutex_unlock(tz_cache_mutex);
}

/* "<h><kind>host:port/currency/creator", where <h> is one byte of a hash
 * of the rest: shmcb picks an entry's subcache by the key's first byte, so
 * keys that all begin alike would share one subcache and evict each other.
 * Kind "" is a profile, "g" its generation. */
static const unsigned char *key_of(apr_pool_t *p, server_rec *s, const char *kind,
                                   const char *creator, unsigned *len)
{
    tz_cfg_t *c = ap_get_module_config(s->module_config, &tipzed_module);
    char *k = apr_psprintf(p, "_%s%s:%u/%s/%s", kind, s->server_hostname, s->port,
                           c->default_currency, creator);
    apr_ssize_t n = (apr_ssize_t)strlen(k + 1);
    k[0] = (char)(apr_hashfunc_default(k + 1, &n) & 0xff);
    *len = (unsigned)n + 1;
    return (const unsigned char *)k;
}

/* The provider as tz_cachegen.c's store, for one server and pool. */
typedef struct {
    server_rec *s;
    apr_pool_t *p;
} store_ctx_t;

static int st_get(void *ctx, const unsigned char *key, unsigned klen, unsigned char *buf,
                  unsigned *len)
{
    store_ctx_t *c = ctx;
    return tz_cache_prov->retrieve(tz_cache_inst, c->s, key, klen, buf, len, c->p) == APR_SUCCESS
               ? 0 : -1;
}

static void st_put(void *ctx, const unsigned char *key, unsigned klen, const unsigned char *val,
                   unsigned len)
{
    store_ctx_t *c = ctx;
    tz_cache_prov->store(tz_cache_inst, c->s, key, klen, apr_time_now() + tz_cache_ttl,
                         (unsigned char *)val, len, c->p);
}

static void st_del(void *ctx, const unsigned char *key, unsigned klen)
{
    store_ctx_t *c = ctx;
    tz_cache_prov->remove(tz_cache_inst, c->s, key, klen, c->p);
}

static void keys_of(apr_pool_t *p, server_rec *s, const char *creator, tz_gen_keys_t *k)
{
    k->entry = key_of(p, s, "", creator, &k->elen);
    k->gen = key_of(p, s, "g", creator, &k->glen);
}

#define STORE(ctx) {ctx, st_get, st_put, st_del}
#define GEN_NOTE "tipzed-cache-gen"

/* A miss's generation, read before the database read, kept with the
 * request for tz_cache_put (which keeps its signature). */
typedef struct {
    const char *creator;
    tz_gen_t gen;
} seen_t;

/* The keys and the buffer are made before taking the lock, which every
 * child's readers share: it covers the provider calls only.  A miss reads
 * the generation (still before the caller's database read). */
const char *tz_cache_get(tz_req_t *q, const char *creator)
{
    unsigned char *buf;
    unsigned int len = TZ_CACHE_MAX_OBJECT;
    tz_gen_keys_t k;
    store_ctx_t ctx = {q->r->server, q->r->pool};
    const tz_gen_store_t st = STORE(&ctx);
    seen_t *seen;
    int rv;
    if (!tz_cache_prov)
        return NULL;
    k.entry = key_of(q->r->pool, q->r->server, "", creator, &k.elen);
    buf = apr_palloc(q->r->pool, TZ_CACHE_MAX_OBJECT + 1);
    if (!lock())
        return NULL;
    rv = st_get(&ctx, k.entry, k.elen, buf, &len);
    unlock();
    if (rv == 0) {
        buf[len] = '\0';
        return (const char *)buf;
    }
    seen = apr_pcalloc(q->r->pool, sizeof *seen);
    seen->creator = apr_pstrdup(q->r->pool, creator);
    k.gen = key_of(q->r->pool, q->r->server, "g", creator, &k.glen);
    if (!lock())
        return NULL;
    tz_gen_read(&st, &k, &seen->gen);
    unlock();
    apr_pool_userdata_setn(seen, GEN_NOTE, NULL, q->r->pool);
    return NULL;
}

/* Stores only under the generation the miss read (none read: not at all). */
int tz_cache_put(tz_req_t *q, const char *creator, const char *json)
{
    unsigned int len = (unsigned)strlen(json);
    tz_gen_keys_t k;
    store_ctx_t ctx = {q->r->server, q->r->pool};
    const tz_gen_store_t st = STORE(&ctx);
    void *v = NULL;
    seen_t *seen;
    if (!tz_cache_prov)
        return 0;
    apr_pool_userdata_get(&v, GEN_NOTE, q->r->pool);
    seen = v;
    if (!seen || strcmp(seen->creator, creator) != 0 || len > TZ_CACHE_MAX_OBJECT)
        return 1;
    keys_of(q->r->pool, q->r->server, creator, &k);
    if (!lock())
        return 1;
    tz_gen_put(&st, &k, &seen->gen, (const unsigned char *)json, len);
    unlock();
    return 1;
}

void tz_cache_forget_payment(tz_req_t *q, json_t *res)
{
    json_t *v;
    size_t i;
    tz_cache_forget(q, tz_json_str(res, "creator_id"));
    json_array_foreach(json_object_get(res, "creator_ids"), i, v)
        tz_cache_forget(q, json_string_value(v));
    json_array_foreach(json_object_get(res, "splits"), i, v)
        tz_cache_forget(q, tz_json_str(v, "creator_id"));
}

void tz_cache_forget(tz_req_t *q, const char *creator)
{
    tz_cache_forget_server(q->r->pool, q->r->server, creator);
}

/* Bumps the generation (a token no other bump makes), then removes. */
void tz_cache_forget_server(apr_pool_t *p, server_rec *s, const char *creator)
{
    static apr_uint32_t seq;
    unsigned char token[TZ_GEN_LEN];
    tz_gen_keys_t k;
    store_ctx_t ctx = {s, p};
    const tz_gen_store_t st = STORE(&ctx);
    if (!tz_cache_prov || !creator)
        return;
    keys_of(p, s, creator, &k);
    tz_gen_token(token, apr_time_now(), (uint32_t)getpid(), apr_atomic_inc32(&seq));
    if (!lock())
        return;
    tz_gen_forget(&st, &k, token);
    unlock();
}
