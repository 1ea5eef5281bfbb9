/* mod_tipzed: the module record and its hooks.  The work is elsewhere:
 * configuration in mod_tipzed_config.c, routing in mod_tipzed_routes.c,
 * database access in mod_tipzed_db.c, one file per API resource. */
#define TZ_MODULE_RECORD /* AP_DECLARE_MODULE below names the module for logging */
#include "mod_tipzed.h"
#include "mod_tipzed_cache.h"
#include "mod_tipzed_config.h"
#include "mod_tipzed_db.h"
#include "mod_tipzed_http.h"
#include "mod_tipzed_metrics.h"
#include "mod_tipzed_providers.h"
#include "mod_tipzed_ratelimit.h"
#include "mod_tipzed_routes.h"
#include "mod_tipzed_watchdog.h"
#include "mod_tipzed_schema.h"
#include "http_core.h"
#include "tz_crypto.h"
#include "tz_http_client.h"
#include "tz_password.h"
#include <unistd.h>

/* The default TipzedInvoiceFont comes from a package that may be missing:
 * the API serves without it (a PDF answers 503 pdf_unavailable), so this
 * only warns, at startup, where the operator looks (a font named in the
 * configuration is checked when the directive is read). */
static void warn_font(apr_pool_t *ptemp, server_rec *v, const tz_cfg_t *c)
{
    apr_finfo_t fi;
    if (apr_stat(&fi, c->invoice_font, APR_FINFO_TYPE, ptemp) != APR_SUCCESS ||
        fi.filetype != APR_REG)
        ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_WARNING, 0, NULL, APLOGNO(10790)
                     "tipzed: TipzedInvoiceFont %s is not readable: invoice PDFs answer 503 "
                     "pdf_unavailable until it is (install fonts-dejavu-core or name a font)%s",
                     c->invoice_font, v->is_virtual ? " (a virtual host)" : "");
}

/* Defaults and cross-directive checks of every server using the API, in
 * the check_config hook so that `apachectl configtest` refuses what could
 * only fail later, as a start would. */
static int tz_check_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp, server_rec *s)
{
    const char *err;
    for (server_rec *v = s; v; v = v->next) {
        tz_cfg_t *c = ap_get_module_config(v->module_config, &tipzed_module);
        /* A server without any key directive does not use the API: it
         * answers 503 not_configured instead of refusing to start. */
        if (!c->jwt_key && !c->enc_keys)
            continue;
        if ((err = tz_cfg_finalize(pconf, c))) {
            /* at startup this goes to stderr, so configtest shows it */
            ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_CRIT, 0, NULL, APLOGNO(10502)
                         "tipzed: %s (%s)", err, v->is_virtual
                             ? apr_psprintf(ptemp, "virtual host %s, %s:%d", v->server_hostname
                                            ? v->server_hostname : "(unnamed)", v->defn_name,
                                            v->defn_line_number)
                             : "main server");
            return HTTP_INTERNAL_SERVER_ERROR;
        }
        c->active = 1;
        warn_font(ptemp, v, c);
    }
    return OK;
}

/* One line per server using the API when Apache starts: what an operator
 * checks first. */
static void startup_notice(apr_pool_t *p, server_rec *v, const tz_cfg_t *c)
{
    const char *on = NULL;
    for (int i = 0; i < TZ_PROV__COUNT; i++)
        if (c->providers[i].enabled)
            on = on ? apr_pstrcat(p, on, ", ", tz_providers[i]->name, NULL) : tz_providers[i]->name;
    ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, v, APLOGNO(10504)
                 "tipzed %s: serving %s (%s:%d): providers %s; sandbox %s; needs schema %"
                 APR_INT64_T_FMT " (tipzedctl migrate)", TZ_MODULE_VERSION,
                 v->server_hostname ? v->server_hostname : "(unnamed)", v->defn_name ? v->defn_name
                 : "main config", v->defn_line_number, on ? on : "none",
                 !c->providers[TZ_PROV_SANDBOX].enabled ? "off"
                 : c->sandbox_mixed == 1 ? "on (mixed)" : "on", tz_schema_expected_version());
}

static int tz_post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                          server_rec *s)
{
    int watchdog = ap_state_query(AP_SQ_MAIN_STATE) != AP_SQ_MS_CREATE_PRE_CONFIG;
    if (tz_crypto_init() != 0) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, APLOGNO(10501)
                     "tipzed: cannot initialise OpenSSL algorithms");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    json_object_seed(0);
    if (tz_http_client_init() != 0) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, APLOGNO(10503) "tipzed: cannot initialise libcurl");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    for (server_rec *v = s; v; v = v->next) {
        tz_cfg_t *c = ap_get_module_config(v->module_config, &tipzed_module);
        if (!c->active)
            continue;
        if (watchdog)
            startup_notice(ptemp, v, c);
        tz_db_register(pconf, v);
        if (watchdog) /* one expiry runner, for the first server using the API */
            tz_watchdog_register(pconf, v);
        watchdog = 0;
    }
    return tz_rl_post_config(pconf, s) == APR_SUCCESS && tz_cache_post_config(pconf, s) == APR_SUCCESS
               && tz_metrics_post_config(pconf, s) == APR_SUCCESS
               ? OK : HTTP_INTERNAL_SERVER_ERROR;
}

static void tz_child_init(apr_pool_t *p, server_rec *s)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    tz_rl_child_init(p, s);
    tz_cache_child_init(p, s);
    tz_oauth_child_init(p, s);
    tz_schema_child_init(p, s);
    tz_metrics_child_init(p, s);
    tz_db_child_init(p, s);
    tz_watchdog_child_init(p, s); /* after the database's: its pre-cleanup runs first */
    tz_password_set_concurrency(tz_hash_concurrency ? tz_hash_concurrency
                                                    : (unsigned)(cpus > 0 ? cpus : 1));
}

static int tz_handler(request_rec *r)
{
    const char *base, *path = r->uri;
    apr_size_t blen;
    if (!r->handler || strcmp(r->handler, "tipzed") != 0)
        return DECLINED;
    base = tz_api_base(r);
    blen = strlen(base);
    if (blen && strncmp(path, base, blen) == 0)
        path += blen;
    return tz_dispatch(r, path);
}

/* An API request names no file.  Left to the core, each one would walk
 * DocumentRoot down the URI: a stat and an .htaccess probe at every level
 * (here four failed opens and two failed stats a request) and a merge of
 * <Directory> sections that cannot apply.  Like mod_proxy, the module
 * claims its requests before that walk: the location walk runs before
 * translate_name, so SetHandler tipzed from a <Location> is known there;
 * map_to_storage then answers for the core (TRACE is left to the core). */
static int tz_translate(request_rec *r)
{
    const core_dir_config *core = ap_get_core_module_config(r->per_dir_config);
    const char *err = NULL, *h;
    if (core && core->expr_handler) {
        h = ap_expr_str_exec(r, core->expr_handler, &err);
        if (!err && h && strcmp(h, "tipzed") == 0)
            apr_table_setn(r->notes, "tipzed-no-file", "1");
    }
    return DECLINED;
}

static int tz_map_to_storage(request_rec *r)
{
    return r->method_number != M_TRACE && apr_table_get(r->notes, "tipzed-no-file") ? OK : DECLINED;
}

static void tz_register_hooks(apr_pool_t *p)
{
    static const char *const before_dbd[] = {"mod_dbd.c", NULL};
    ap_hook_pre_config(tz_rl_pre_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_pre_config(tz_cache_pre_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_check_config(tz_check_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_post_config(tz_post_config, NULL, before_dbd, APR_HOOK_MIDDLE);
    ap_hook_child_init(tz_child_init, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_translate_name(tz_translate, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_map_to_storage(tz_map_to_storage, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_handler(tz_handler, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_log_transaction(tz_metrics_log, NULL, NULL, APR_HOOK_MIDDLE);
}

AP_DECLARE_MODULE(tipzed) = {
    STANDARD20_MODULE_STUFF,
    NULL,
    NULL,
    tz_cfg_create,
    tz_cfg_merge,
    tz_cmds,
    tz_register_hooks,
#if defined(AP_MODULE_FLAG_ALWAYS_MERGE)
    AP_MODULE_FLAG_NONE
#endif
};
