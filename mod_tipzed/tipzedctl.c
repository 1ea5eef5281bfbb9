/* tipzedctl: schema migrations, admin accounts, the reconciliation report
 * and the ledger's hash chain, from the command line.  Uses the same core library as the module
 * (password hashing, SHA-256) and libpq directly.
 *
 *   tipzedctl [-d CONNINFO] migrate [--check] [--runtime-role ROLE] [SQL_DIR]
 *   tipzedctl [-d CONNINFO] status [SQL_DIR]
 *   tipzedctl [-d CONNINFO] create-admin --email EMAIL [--name NAME] [--key-file FILE]
 *                                                              (password on stdin)
 *   tipzedctl [-d CONNINFO] admin-totp --email EMAIL --key-file FILE
 *   tipzedctl [-d CONNINFO] reconcile
 *   tipzedctl [-d CONNINFO] verify-chain
 *   tipzedctl [-d CONNINFO] reseal --key-file FILE
 *   tipzedctl [-d CONNINFO] settlement import [--days N] [--fee TERMS] PROVIDER FILE
 *   tipzedctl [-d CONNINFO] settlement report
 *
 * CONNINFO defaults to $TIPZED_DB, then "dbname=tipzed".  SQL_DIR (default
 * TZ_SQL_DIR, where make install puts the SQL) holds schema/NNN_name.sql, schema steps applied once in order, and
 * functions/NN_name.sql, function files re-applied whenever their SHA-256
 * changes (docs/database.md). */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libpq-fe.h>
#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>
#include <apr_tables.h>
#include "tz_crypto.h"
#include "tz_password.h"
#include "tz_json.h"
#include "tz_parse.h"
#include "tz_settle.h"
#include "tz_totp.h"

/* The advisory lock every migrate holds for its transaction (the same key
 * earlier releases took, so an old and a new tipzedctl exclude each other). */
#define TZ_MIGRATE_LOCK "7351001"

typedef struct {
    const char *name; /* file name, e.g. 009_api_names.sql */
    int version;      /* schema steps: the number */
    const char *sql;
    const char *sha;  /* SHA-256 of the file, hex */
    int pending;
} tz_file_t;

typedef struct {
    const char *dir;
    apr_array_header_t *steps, *funcs; /* tz_file_t, by name */
    const char *digest;                /* of the function files */
    const char *db_digest;             /* recorded in the database, or NULL */
    const char *runtime_role;          /* recorded in the database, or NULL */
    apr_array_header_t *drift;         /* const char *: tz_* functions not as in the files */
    int db_version;                    /* highest step recorded */
    int n_pending;
} tz_plan_t;

#include "tz_version.h" /* TZ_MODULE_VERSION, generated from debian/changelog */

#ifndef TZ_SQL_DIR
#define TZ_SQL_DIR "/usr/local/share/tipzed/sql" /* where make install puts it */
#endif

static int usage_to(FILE *out, int rc)
{
    fputs("usage: tipzedctl [-d CONNINFO] migrate [--check] [--runtime-role ROLE] [SQL_DIR]\n"
          "       tipzedctl [-d CONNINFO] status [SQL_DIR]\n"
          "       tipzedctl [-d CONNINFO] create-admin --email EMAIL [--name NAME] [--key-file FILE]"
          " < password\n"
          "       tipzedctl [-d CONNINFO] admin-totp --email EMAIL --key-file FILE\n"
          "       tipzedctl [-d CONNINFO] reconcile\n"
          "       tipzedctl [-d CONNINFO] verify-chain\n"
          "       tipzedctl [-d CONNINFO] reseal --key-file FILE\n"
          "       tipzedctl [-d CONNINFO] settlement import [--days N] [--fee TERMS] PROVIDER FILE\n"
          "       tipzedctl [-d CONNINFO] settlement report\n"
          "CONNINFO (libpq) defaults to $TIPZED_DB, then \"dbname=tipzed\"; SQL_DIR to "
          TZ_SQL_DIR ".\ntipzedctl --version prints the version.  See tipzedctl(1).\n", out);
    return rc;
}

static int usage(void)
{
    return usage_to(stderr, 2);
}

static int exec_ok(PGconn *db, const char *sql)
{
    PGresult *res = PQexec(db, sql);
    ExecStatusType st = PQresultStatus(res);
    int ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
    if (!ok)
        fprintf(stderr, "tipzedctl: %s", PQerrorMessage(db));
    PQclear(res);
    return ok;
}

/* Runs a parameterised statement; the result when it succeeded, else NULL
 * after printing the error. */
static PGresult *query(PGconn *db, const char *sql, int n, const char *const *params)
{
    PGresult *res = PQexecParams(db, sql, n, NULL, params, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(res);
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
        return res;
    fprintf(stderr, "tipzedctl: %s", PQerrorMessage(db));
    PQclear(res);
    return NULL;
}

static int run_params(PGconn *db, const char *sql, int n, const char *const *params)
{
    PGresult *res = query(db, sql, n, params);
    PQclear(res);
    return res != NULL;
}

static char *read_file(apr_pool_t *p, const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    long n;
    char *buf;
    if (!f || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        if (f)
            fclose(f);
        return NULL;
    }
    buf = apr_palloc(p, (apr_size_t)n + 1);
    if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
        fclose(f);
        return NULL;
    }
    fclose(f);
    buf[n] = '\0';
    *len = (size_t)n;
    return buf;
}

static int file_cmp(const void *a, const void *b)
{
    return strcmp(((const tz_file_t *)a)->name, ((const tz_file_t *)b)->name);
}

/* NNN_name.sql with `digits` leading digits (0: one or more). */
static int sql_name(const char *s, int digits)
{
    size_t len = strlen(s), d = strspn(s, "0123456789");
    if (d == 0 || (digits && d != (size_t)digits) || s[d] != '_' || len < d + 6)
        return 0;
    return strcmp(s + len - 4, ".sql") == 0 &&
           strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_.") == len;
}

/* The files of dir/sub, sorted by name (byte order), read and hashed. */
static int list_files(apr_pool_t *p, const char *dir, const char *sub, int digits,
                      apr_array_header_t **out)
{
    const char *path = apr_pstrcat(p, dir, "/", sub, NULL);
    DIR *d = opendir(path);
    struct dirent *e;
    *out = apr_array_make(p, 32, sizeof(tz_file_t));
    if (!d) {
        fprintf(stderr, "tipzedctl: cannot open %s: %s\n", path, strerror(errno));
        return -1;
    }
    while ((e = readdir(d))) {
        tz_file_t *f;
        size_t len;
        if (!sql_name(e->d_name, digits))
            continue;
        f = apr_array_push(*out);
        f->name = apr_pstrdup(p, e->d_name);
        f->version = atoi(f->name);
        f->pending = 0;
        if (!(f->sql = read_file(p, apr_pstrcat(p, path, "/", f->name, NULL), &len)) ||
            !(f->sha = tz_sha256_hex(p, f->sql, len))) {
            fprintf(stderr, "tipzedctl: cannot read %s/%s\n", path, f->name);
            closedir(d);
            return -1;
        }
    }
    closedir(d);
    qsort((*out)->elts, (size_t)(*out)->nelts, sizeof(tz_file_t), file_cmp);
    return 0;
}

/* The digest the module is built with (apxs/module.mk): SHA-256 of the
 * lines "<sha256 of file>  <file name>\n" of the function files in name
 * order, which is what `sha256sum *.sql | sha256sum` prints. */
static const char *functions_digest(apr_pool_t *p, const apr_array_header_t *funcs)
{
    const char *text = "";
    for (int i = 0; i < funcs->nelts; i++) {
        const tz_file_t *f = &APR_ARRAY_IDX(funcs, i, tz_file_t);
        text = apr_pstrcat(p, text, f->sha, "  ", f->name, "\n", NULL);
    }
    return tz_sha256_hex(p, text, strlen(text));
}

static int load_files(apr_pool_t *p, const char *dir, tz_plan_t *plan)
{
    memset(plan, 0, sizeof *plan);
    plan->dir = dir;
    if (list_files(p, dir, "schema", 3, &plan->steps) != 0 ||
        list_files(p, dir, "functions", 0, &plan->funcs) != 0)
        return -1;
    for (int i = 1; i < plan->steps->nelts; i++)
        if (APR_ARRAY_IDX(plan->steps, i, tz_file_t).version ==
            APR_ARRAY_IDX(plan->steps, i - 1, tz_file_t).version) {
            fprintf(stderr, "tipzedctl: two schema steps numbered %d\n",
                    APR_ARRAY_IDX(plan->steps, i, tz_file_t).version);
            return -1;
        }
    plan->digest = functions_digest(p, plan->funcs);
    return plan->digest ? 0 : -1;
}

static const char *one_value(apr_pool_t *p, PGconn *db, const char *sql)
{
    PGresult *res = query(db, sql, 0, NULL);
    const char *v = NULL;
    if (res && PQntuples(res) > 0 && !PQgetisnull(res, 0, 0))
        v = apr_pstrdup(p, PQgetvalue(res, 0, 0));
    PQclear(res);
    return v;
}

/* Whether `sql` (one parameter: the name or version) finds a row that
 * says the file is applied as it is. */
static int recorded(PGconn *db, const char *sql, const char *key, const char *sha)
{
    const char *params[2] = {key, sha};
    PGresult *res = query(db, sql, sha ? 2 : 1, params);
    int yes = res && PQntuples(res) > 0;
    PQclear(res);
    return yes;
}

/* The database's tz_* functions whose body is not the text of any function
 * file: changed by hand, or left over from a release that defined them. */
static int load_drift(apr_pool_t *p, PGconn *db, tz_plan_t *plan)
{
    const char *text = "";
    const char *params[1];
    PGresult *res;
    for (int i = 0; i < plan->funcs->nelts; i++)
        text = apr_pstrcat(p, text, APR_ARRAY_IDX(plan->funcs, i, tz_file_t).sql, NULL);
    params[0] = text;
    res = query(db, "SELECT p.oid::regprocedure::text FROM pg_proc p"
                    " WHERE p.pronamespace = 'public'::regnamespace AND p.proname LIKE 'tz\\_%'"
                    " AND strpos($1, p.prosrc) = 0 ORDER BY 1", 1, params);
    plan->drift = apr_array_make(p, 4, sizeof(const char *));
    if (!res)
        return -1;
    for (int i = 0; i < PQntuples(res); i++)
        APR_ARRAY_PUSH(plan->drift, const char *) = apr_pstrdup(p, PQgetvalue(res, i, 0));
    PQclear(res);
    return 0;
}

/* Marks what the database lacks as pending.  Reads only: the bookkeeping
 * tables may not exist yet (a new database, or one of an earlier release
 * that had no function files). */
static int load_state(apr_pool_t *p, PGconn *db, tz_plan_t *plan)
{
    int have_steps = one_value(p, db, "SELECT to_regclass('tz_schema_migrations')") != NULL;
    int have_funcs = one_value(p, db, "SELECT to_regclass('tz_function_files')") != NULL;
    int have_settings = one_value(p, db, "SELECT to_regclass('tz_settings')") != NULL;
    const char *v;
    plan->n_pending = 0;
    plan->db_version = 0;
    if (have_steps && (v = one_value(p, db, "SELECT max(version) FROM tz_schema_migrations")))
        plan->db_version = atoi(v);
    plan->db_digest = plan->runtime_role = NULL;
    if (have_settings) {
        plan->db_digest = one_value(p, db, "SELECT value FROM tz_settings"
                                           " WHERE key = 'functions_digest'");
        plan->runtime_role = one_value(p, db, "SELECT value FROM tz_settings"
                                              " WHERE key = 'runtime_role'");
    }
    for (int i = 0; i < plan->steps->nelts; i++) {
        tz_file_t *f = &APR_ARRAY_IDX(plan->steps, i, tz_file_t);
        f->pending = !have_steps ||
                     !recorded(db, "SELECT 1 FROM tz_schema_migrations WHERE version = $1::int",
                               apr_itoa(p, f->version), NULL);
        plan->n_pending += f->pending;
    }
    for (int i = 0; i < plan->funcs->nelts; i++) {
        tz_file_t *f = &APR_ARRAY_IDX(plan->funcs, i, tz_file_t);
        f->pending = !have_funcs ||
                     !recorded(db, "SELECT 1 FROM tz_function_files WHERE name = $1"
                                   " AND sha256 = $2", f->name, f->sha);
        plan->n_pending += f->pending;
    }
    if (!plan->db_digest || strcmp(plan->db_digest, plan->digest) != 0)
        plan->n_pending += plan->n_pending == 0; /* e.g. a function file was deleted */
    if (load_drift(p, db, plan) != 0)
        return -1;
    plan->n_pending += plan->drift->nelts;
    return 0;
}

static void print_pending(const tz_plan_t *plan)
{
    for (int i = 0; i < plan->steps->nelts; i++) {
        const tz_file_t *f = &APR_ARRAY_IDX(plan->steps, i, tz_file_t);
        if (f->pending)
            printf("pending: schema/%s\n", f->name);
    }
    for (int i = 0; i < plan->funcs->nelts; i++) {
        const tz_file_t *f = &APR_ARRAY_IDX(plan->funcs, i, tz_file_t);
        if (f->pending)
            printf("pending: functions/%s\n", f->name);
    }
    if (!plan->db_digest || strcmp(plan->db_digest, plan->digest) != 0)
        printf("pending: functions digest %.12s (database: %.12s)\n", plan->digest,
               plan->db_digest ? plan->db_digest : "none");
    for (int i = 0; i < plan->drift->nelts; i++)
        printf("pending: %s differs from every function file (changed by hand, or to be"
               " dropped by a schema step)\n", APR_ARRAY_IDX(plan->drift, i, const char *));
}

/* --check and status: what migrate would do; exit 1 when anything. */
static int report(apr_pool_t *p, PGconn *db, tz_plan_t *plan, int verbose)
{
    const tz_file_t *last = plan->steps->nelts
        ? &APR_ARRAY_IDX(plan->steps, plan->steps->nelts - 1, tz_file_t) : NULL;
    if (load_state(p, db, plan) != 0)
        return 2;
    if (verbose) {
        printf("schema version: %d (%s has %d)\n", plan->db_version, plan->dir,
               last ? last->version : 0);
        printf("functions digest: %s (%s has %s)\n", plan->db_digest ? plan->db_digest : "none",
               plan->dir, plan->digest);
        printf("runtime role: %s\n", plan->runtime_role ? plan->runtime_role : "none");
    }
    print_pending(plan);
    if (plan->n_pending) {
        printf("schema: behind %s; run tipzedctl migrate\n", plan->dir);
        return 1;
    }
    printf("schema: up to date\n");
    return 0;
}

static int apply_step(PGconn *db, const tz_plan_t *plan, tz_file_t *f, apr_pool_t *p)
{
    const char *params[2] = {apr_itoa(p, f->version), f->name};
    if (!exec_ok(db, f->sql)) {
        fprintf(stderr, "tipzedctl: %s/schema/%s failed\n", plan->dir, f->name);
        return -1;
    }
    printf("applied schema/%s\n", f->name);
    return run_params(db, "INSERT INTO tz_schema_migrations (version, name) VALUES ($1::int, $2)",
                      2, params) ? 0 : -1;
}

static int apply_functions(PGconn *db, const tz_plan_t *plan, tz_file_t *f)
{
    const char *params[2] = {f->name, f->sha};
    if (!exec_ok(db, f->sql)) {
        fprintf(stderr, "tipzedctl: %s/functions/%s failed\n", plan->dir, f->name);
        return -1;
    }
    printf("applied functions/%s\n", f->name);
    return run_params(db, "INSERT INTO tz_function_files (name, sha256) VALUES ($1, $2)"
                          " ON CONFLICT (name) DO UPDATE SET sha256 = EXCLUDED.sha256,"
                          " applied_at = now()", 2, params) ? 0 : -1;
}

/* Schema steps first, then function files.  After any schema step every
 * function file is applied again: a step may have dropped what a function
 * or trigger depends on, or a function whose signature changes.  So are
 * they when a function in the database is not as its file says. */
static int apply_pending(apr_pool_t *p, PGconn *db, tz_plan_t *plan)
{
    int stepped = plan->drift->nelts > 0;
    for (int i = 0; i < plan->steps->nelts; i++) {
        tz_file_t *f = &APR_ARRAY_IDX(plan->steps, i, tz_file_t);
        if (f->pending && apply_step(db, plan, f, p) != 0)
            return -1;
        stepped |= f->pending;
    }
    for (int i = 0; i < plan->funcs->nelts; i++) {
        tz_file_t *f = &APR_ARRAY_IDX(plan->funcs, i, tz_file_t);
        if ((f->pending || stepped) && apply_functions(db, plan, f) != 0)
            return -1;
    }
    return 0;
}

static const char bookkeeping_sql[] =
    "SET LOCAL client_min_messages = warning;"
    "SELECT pg_advisory_xact_lock(" TZ_MIGRATE_LOCK ");"
    "CREATE TABLE IF NOT EXISTS tz_schema_migrations (version int PRIMARY KEY,"
    " name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now());"
    "CREATE TABLE IF NOT EXISTS tz_function_files (name text PRIMARY KEY,"
    " sha256 text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now());"
    "CREATE TABLE IF NOT EXISTS tz_settings (key text PRIMARY KEY, value text NOT NULL)";

/* Records the digest, forgets function files that are gone, and grants the
 * runtime role (new or remembered) its EXECUTE rights. */
static int finish(apr_pool_t *p, PGconn *db, tz_plan_t *plan, const char *role)
{
    const char *params[1] = {plan->digest};
    const char *names = "{";
    PGresult *res;
    for (int i = 0; i < plan->funcs->nelts; i++)
        names = apr_pstrcat(p, names, i ? "," : "", APR_ARRAY_IDX(plan->funcs, i, tz_file_t).name,
                            NULL);
    names = apr_pstrcat(p, names, "}", NULL);
    if (!run_params(db, "INSERT INTO tz_settings (key, value) VALUES ('functions_digest', $1)"
                        " ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value", 1, params))
        return -1;
    params[0] = names;
    if (!run_params(db, "DELETE FROM tz_function_files WHERE name <> ALL ($1::text[])", 1, params))
        return -1;
    if (load_drift(p, db, plan) != 0)
        return -1;
    for (int i = 0; i < plan->drift->nelts; i++)
        fprintf(stderr, "tipzedctl: warning: %s is defined in no function file; drop it in a"
                        " schema step\n", APR_ARRAY_IDX(plan->drift, i, const char *));
    params[0] = role;
    if (!(res = query(db, "SELECT tz_grant_runtime($1)", 1, params)))
        return -1;
    if (!PQgetisnull(res, 0, 0))
        printf("runtime role %s: EXECUTE on the tz_api_* functions only\n", PQgetvalue(res, 0, 0));
    PQclear(res);
    return 0;
}

/* Everything pending in ONE transaction under the advisory lock: all of it
 * is applied, or nothing. */
static int cmd_migrate(apr_pool_t *p, PGconn *db, tz_plan_t *plan, const char *role)
{
    if (!exec_ok(db, "BEGIN") || !exec_ok(db, bookkeeping_sql) ||
        load_state(p, db, plan) != 0 || apply_pending(p, db, plan) != 0 ||
        finish(p, db, plan, role) != 0 || !exec_ok(db, "COMMIT")) {
        PQclear(PQexec(db, "ROLLBACK"));
        fputs("tipzedctl: migration failed; nothing of it was applied\n", stderr);
        return 1;
    }
    printf("migrations: %d pending applied, schema up to date (version %d, functions %.12s)\n",
           plan->n_pending, APR_ARRAY_IDX(plan->steps, plan->steps->nelts - 1, tz_file_t).version,
           plan->digest);
    return 0;
}

static char *read_password(apr_pool_t *p)
{
    char buf[1024];
    size_t n;
    if (!fgets(buf, sizeof buf, stdin))
        return NULL;
    n = strcspn(buf, "\r\n");
    buf[n] = '\0';
    return apr_pstrdup(p, buf);
}

static int enrol_totp(apr_pool_t *p, PGconn *db, const char *email, const char *keyfile);

/* create-admin: with --key-file, the admin is enrolled in two-factor at
 * once (TipzedAdminTOTP On refuses an admin without it). */
static int cmd_create_admin(apr_pool_t *p, PGconn *db, const char *email, const char *name,
                            const char *keyfile)
{
    char *pw = read_password(p), *hash;
    size_t len = pw ? strlen(pw) : 0;
    if (len < 10 || len > 128) {
        fputs("tipzedctl: the password (first line of stdin) must be 10..128 characters\n", stderr);
        return 1;
    }
    if (!(hash = tz_password_hash(p, pw))) {
        fputs("tipzedctl: cannot hash the password\n", stderr);
        return 1;
    }
    const char *params[3] = {email, name, hash};
    PGresult *res = query(db, "SELECT tz_api_register($1, $2, 'admin', $3, NULL)::json->>'error'",
                          3, params);
    int rc = 1;
    if (res && !PQgetisnull(res, 0, 0))
        fprintf(stderr, "tipzedctl: cannot create %s: %s\n", email, PQgetvalue(res, 0, 0));
    else if (res) {
        printf("admin %s created\n", email);
        rc = 0;
    }
    PQclear(res);
    if (rc == 0 && keyfile)
        return enrol_totp(p, db, email, keyfile);
    if (rc == 0)
        fprintf(stderr, "tipzedctl: %s has no two-factor yet: while TipzedAdminTOTP is On it "
                        "cannot log in before `tipzedctl admin-totp --email %s --key-file FILE`\n",
                email, email);
    return rc;
}

/* Prints each mismatch as "check<TAB>id<TAB>detail"; exits 1 when any. */
/* Prints the open items ("open<TAB>kind<TAB>id<TAB>age<TAB>detail"): what
 * the ledger agrees with but a person must still decide.  They do not make
 * the report fail. */
static int print_open_items(PGconn *db)
{
    PGresult *res = query(db, "SELECT to_regprocedure('tz_open_items()') IS NOT NULL", 0, NULL);
    int failed = !res, n = res && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    if (!n)
        return failed ? -1 : 0; /* a database not migrated yet has no open items to tell */
    if (!(res = query(db, "SELECT kind, id, age_seconds, detail FROM tz_open_items()", 0, NULL)))
        return -1;
    n = PQntuples(res);
    for (int i = 0; i < n; i++)
        printf("open\t%s\t%s\t%ss\t%s\n", PQgetvalue(res, i, 0), PQgetvalue(res, i, 1),
               PQgetvalue(res, i, 2), PQgetvalue(res, i, 3));
    PQclear(res);
    return n;
}

/* Prints each row (check_name, id, detail) of a report function as
 * "check<TAB>id<TAB>detail"; the count, or -1 on a database error. */
static int print_findings(PGconn *db, const char *function)
{
    char sql[128];
    snprintf(sql, sizeof(sql), "SELECT check_name, id, detail FROM %s() ORDER BY check_name, id",
             function);
    PGresult *res = query(db, sql, 0, NULL);
    int n = res ? PQntuples(res) : -1;
    for (int i = 0; i < n; i++)
        printf("%s\t%s\t%s\n", PQgetvalue(res, i, 0), PQgetvalue(res, i, 1),
               PQgetvalue(res, i, 2));
    PQclear(res);
    return n;
}

/* Prints each mismatch as "check<TAB>id<TAB>detail", then the open items;
 * exits 1 when there is any mismatch. */
static int cmd_reconcile(PGconn *db)
{
    int n = print_findings(db, "tz_reconcile"), open;
    if (n < 0)
        return 2;
    if ((open = print_open_items(db)) < 0)
        return 2;
    if (n)
        printf("reconciliation: %d mismatch(es), %d open item(s)\n", n, open);
    else
        printf("reconciliation: ok, %d open item(s)\n", open);
    return n ? 1 : 0;
}

/* The broken links verify-chain lists before its summary: a chain broken
 * near its start (say, a damaged bulk load) breaks at every entry after. */
#define TZ_CHAIN_LIST_MAX "20"

/* verify-chain: every entry's hash recomputed from what is stored of it,
 * in chain order, by tz_verify_chain() (sql/functions/32_chain.sql) in the
 * same statement as the counts, so all see one snapshot.  Prints the first
 * broken links as "broken<TAB>entry id<TAB>reference<TAB>what differs",
 * then names the first; exits 1 when there is any. */
static int cmd_verify_chain(PGconn *db)
{
    PGresult *res = query(db, "SELECT c.n, v.entry_id, v.reference, v.problem, count(v.k) OVER ()"
                              " FROM (SELECT count(*) AS n FROM journal_entries) c"
                              " LEFT JOIN tz_verify_chain() WITH ORDINALITY"
                              "  v(entry_id, reference, problem, k) ON true"
                              " ORDER BY v.k LIMIT " TZ_CHAIN_LIST_MAX, 0, NULL);
    int n;
    const char *broken;
    if (!res)
        return 2;
    n = PQntuples(res);
    if (n == 1 && PQgetisnull(res, 0, 3)) {
        printf("chain: ok, %s entries\n", PQgetvalue(res, 0, 0));
        PQclear(res);
        return 0;
    }
    broken = PQgetvalue(res, 0, 4);
    for (int i = 0; i < n; i++)
        printf("broken\t%s\t%s\t%s\n", PQgetvalue(res, i, 1), PQgetvalue(res, i, 2),
               PQgetvalue(res, i, 3));
    if (atoi(broken) > n)
        printf("... %d more broken link(s)\n", atoi(broken) - n);
    printf("chain: broken at entry %s (%s): %s; %s broken link(s) in %s entries\n",
           PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2), PQgetvalue(res, 0, 3), broken,
           PQgetvalue(res, 0, 0));
    PQclear(res);
    return 1;
}

/* migrate [--check] [--runtime-role ROLE] [SQL_DIR], and status [SQL_DIR]. */
static int cmd_schema(apr_pool_t *p, PGconn *db, int argc, char **argv)
{
    const char *dir = TZ_SQL_DIR, *role = NULL;
    int check = strcmp(argv[0], "status") == 0, verbose = check;
    tz_plan_t plan;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--check") == 0 && !verbose)
            check = 1;
        else if (strcmp(argv[i], "--runtime-role") == 0 && i + 1 < argc && !verbose)
            role = argv[++i];
        else if (argv[i][0] != '-' && i == argc - 1)
            dir = argv[i];
        else
            return usage();
    }
    if (load_files(p, dir, &plan) != 0)
        return 2;
    if (plan.steps->nelts == 0) {
        fprintf(stderr, "tipzedctl: %s/schema has no NNN_name.sql steps\n", dir);
        return 2;
    }
    return check ? report(p, db, &plan, verbose) : cmd_migrate(p, db, &plan, role);
}

/* The keys of an encryption key file (TipzedEncryptionKeyFile's format:
 * 64 hex characters a line, '#' comments, the current key first). */
static apr_array_header_t *read_keys(apr_pool_t *p, const char *path)
{
    size_t len;
    char *text = read_file(p, path, &len), *line, *state;
    apr_array_header_t *keys = apr_array_make(p, 2, sizeof(tz_aead_key_t));
    const char *why;
    if (!text) {
        fprintf(stderr, "tipzedctl: cannot read %s\n", path);
        return NULL;
    }
    for (line = apr_strtok(text, "\n", &state); line; line = apr_strtok(NULL, "\n", &state)) {
        if (!*line || *line == '#')
            continue;
        if ((why = tz_aead_key_from_hex(line, apr_array_push(keys)))) {
            fprintf(stderr, "tipzedctl: %s: %s\n", path, why);
            return NULL;
        }
    }
    if (!keys->nelts)
        fprintf(stderr, "tipzedctl: %s holds no key\n", path);
    return keys->nelts ? keys : NULL;
}

/* Prints the enrolment: the secret (base32, for typing into an app), its
 * otpauth:// URI (for a QR code) and the recovery codes, each code once. */
static int enrol_print(apr_pool_t *p, PGconn *db, const char *id, const char *email,
                       const tz_aead_key_t *key)
{
    char *secret = tz_totp_secret_new(p), *sealed;
    const char *c[TZ_RECOVERY_CODES], *codes = "", *hashes;
    sealed = secret ? tz_aead_seal(p, key, tz_totp_context(p, id), secret,
                                   strlen(secret)) : NULL;
    if (!sealed || tz_recovery_codes_new(p, c, &hashes) != 0)
        return 1;
    for (int i = 0; i < TZ_RECOVERY_CODES; i++)
        codes = apr_pstrcat(p, codes, i ? " " : "", c[i], NULL);
    const char *params[3] = {id, sealed, hashes};
    if (!run_params(db, "SELECT tz_totp_enrol($1::uuid, $2, $3::text[])", 3, params))
        return 1;
    printf("totp_secret: %s\notpauth_uri: %s\nrecovery_codes: %s\n", secret,
           tz_totp_uri(p, TZ_TOTP_ISSUER, email, secret), codes);
    return 0;
}

/* admin-totp --email EMAIL --key-file FILE: (re)enrols an admin in
 * two-factor: a new secret (sealed with the file's current key, as the
 * module's TipzedEncryptionKeyFile) and new recovery codes replace the
 * old ones. */
static int enrol_totp(apr_pool_t *p, PGconn *db, const char *email, const char *keyfile)
{
    apr_array_header_t *keys = read_keys(p, keyfile);
    const char *params[1] = {email};
    PGresult *res;
    int rc = 1;
    if (!keys)
        return 2;
    res = query(db, "SELECT id::text, email FROM users WHERE lower(email) = lower($1)"
                    " AND role = 'admin'", 1, params);
    if (res && PQntuples(res) == 1)
        rc = enrol_print(p, db, PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1),
                         (const tz_aead_key_t *)keys->elts);
    else if (res)
        fprintf(stderr, "tipzedctl: no admin %s\n", email);
    PQclear(res);
    return rc;
}

/* Where each kind of sealed value lives, as cmd_reseal lists them. */
static const char *reseal_sql(const char *table)
{
    if (strcmp(table, "payout") == 0)
        return "UPDATE payouts SET bank_account_enc = $1 WHERE id = $2::uuid"
               " AND bank_account_enc = $3";
    if (strcmp(table, "endpoint") == 0)
        return "UPDATE webhook_endpoints SET secret_enc = $1 WHERE id = $2::uuid"
               " AND secret_enc = $3";
    if (strcmp(table, "totp") == 0)
        return "UPDATE users SET totp_secret_enc = $1 WHERE id = $2::uuid"
               " AND totp_secret_enc = $3";
    return "UPDATE creator_profiles SET bank_account_enc = $1 WHERE user_id = $2::uuid"
           " AND bank_account_enc = $3";
}

/* One sealed value (a bank account, a webhook endpoint's signing secret)
 * sealed again, under the current key and bound to its owner; 1 when it
 * changed, 0 when it was current, -1 when it cannot be opened (tampered,
 * moved to another owner, or under a key not in the file). */
static int reseal_one(apr_pool_t *p, PGconn *db, const apr_array_header_t *keys, PGresult *res,
                      int row)
{
    const char *table = PQgetvalue(res, row, 0), *id = PQgetvalue(res, row, 1);
    const char *owner = PQgetvalue(res, row, 2), *sealed = PQgetvalue(res, row, 3);
    const tz_aead_key_t *current = (const tz_aead_key_t *)keys->elts;
    char *plain, *fresh;
    size_t len;
    if (strncmp(sealed, "v2.", 3) == 0 && strncmp(sealed + 3, current->id, TZ_KEY_ID_LEN) == 0)
        return 0;
    if (tz_aead_open(p, current, (size_t)keys->nelts, owner, sealed, &plain, &len) != 0) {
        fprintf(stderr, "tipzedctl: the sealed value of %s %s does not open for its owner\n",
                table, id);
        return -1;
    }
    if (!(fresh = tz_aead_seal(p, current, owner, plain, len)))
        return -1;
    const char *params[3] = {fresh, id, sealed};
    return run_params(db, reseal_sql(table), 3, params) ? 1 : -1;
}

/* reseal --key-file FILE: every sealed bank account and webhook signing
 * secret, in one transaction, sealed under the file's first key and bound
 * to its owner's id (an endpoint's secret: to the endpoint's).  Run it
 * after adding a key at the top of the file (rotation) and after upgrading
 * from a release whose values were not bound to their owner. */
static int cmd_reseal(apr_pool_t *p, PGconn *db, const char *keyfile)
{
    apr_array_header_t *keys = read_keys(p, keyfile);
    PGresult *res;
    int changed = 0, n, rc = 0;
    if (!keys || !exec_ok(db, "BEGIN"))
        return 2;
    res = query(db, "SELECT 'profile', user_id::text, user_id::text, bank_account_enc"
                    "  FROM creator_profiles WHERE bank_account_enc IS NOT NULL"
                    " UNION ALL SELECT 'payout', id::text, creator_id::text, bank_account_enc"
                    "  FROM payouts UNION ALL SELECT 'endpoint', id::text, id::text, secret_enc"
                    "  FROM webhook_endpoints UNION ALL SELECT 'totp', id::text, 'totp:' || id,"
                    "  totp_secret_enc FROM users WHERE totp_secret_enc IS NOT NULL"
                    " ORDER BY 1, 2", 0, NULL);
    n = res ? PQntuples(res) : 0;
    for (int i = 0; res && i < n && rc >= 0; i++)
        if ((rc = reseal_one(p, db, keys, res, i)) > 0)
            changed++;
    PQclear(res);
    if (!res || rc < 0 || !exec_ok(db, "COMMIT")) {
        exec_ok(db, "ROLLBACK");
        fputs("tipzedctl: nothing was resealed\n", stderr);
        return 1;
    }
    printf("resealed %d of %d sealed value(s): bank accounts, webhook and TOTP secrets\n",
           changed, n);
    return 0;
}

/* Prints each settlement finding as "check<TAB>id<TAB>detail" and a
 * summary; 1 when there is any, 2 on a database error. */
static int settlement_report(PGconn *db)
{
    int n = print_findings(db, "tz_reconcile_settlement");
    if (n < 0)
        return 2;
    printf(n ? "settlement: %d finding(s)\n" : "settlement: ok\n", n);
    return n ? 1 : 0;
}

/* The options of settlement import; NULL or what is wrong. */
typedef struct {
    const char *days, *provider, *file;
    tz_fee_rule_t rule;
    int has_rule;
} tz_import_args_t;

static const char *import_args(apr_pool_t *p, int argc, char **argv, tz_import_args_t *a)
{
    int64_t days;
    const char *why;
    a->days = "7"; /* a week: providers settle cards in a few business days */
    a->has_rule = 0;
    int i = 2;
    for (; i + 1 < argc && argv[i][0] == '-'; i += 2) {
        if (strcmp(argv[i], "--days") == 0)
            a->days = argv[i + 1];
        else if (strcmp(argv[i], "--fee") == 0 && !(why = tz_fee_rule_parse(argv[i + 1], &a->rule)))
            a->has_rule = 1;
        else
            return strcmp(argv[i], "--fee") == 0 ? apr_pstrcat(p, "--fee ", why, NULL) : "";
    }
    if (tz_parse_int64(a->days, &days) || days < 0 || days > 3650)
        return "--days must be 0 to 3650";
    if (i + 2 != argc)
        return "";
    a->provider = argv[i];
    a->file = argv[i + 1];
    return tz_settle_format(a->provider) < 0
               ? "PROVIDER must be stripe, flutterwave or mobile_money" : NULL;
}

/* settlement import: the file read and checked whole by the core, then
 * stored and matched by one SQL call (sql/functions/82_settlement.sql);
 * prints the import's summary and the settlement report. */
static int settlement_import(apr_pool_t *p, PGconn *db, int argc, char **argv)
{
    tz_import_args_t a;
    const char *why = import_args(p, argc, argv, &a), *params[5];
    apr_array_header_t *lines;
    size_t len;
    char *text;
    if (why) {
        if (*why)
            fprintf(stderr, "tipzedctl: %s\n", why);
        return usage();
    }
    if (!(text = read_file(p, a.file, &len))) {
        fprintf(stderr, "tipzedctl: cannot read %s\n", a.file);
        return 2;
    }
    if ((why = tz_settle_read(p, tz_settle_format(a.provider), text, len,
                              a.has_rule ? &a.rule : NULL, &lines))) {
        fprintf(stderr, "tipzedctl: %s: %s; nothing was imported\n", a.file, why);
        return 2;
    }
    params[0] = a.provider;
    params[1] = a.file;
    params[2] = tz_sha256_hex(p, text, len);
    params[3] = a.days;
    params[4] = tz_json_dump(p, tz_settle_json(p, lines));
    PGresult *res = query(db, "SELECT tz_settlement_import($1, $2, $3, $4::int, $5::json)", 5,
                          params);
    if (!res)
        return 2;
    printf("%s\n", PQgetvalue(res, 0, 0));
    PQclear(res);
    return settlement_report(db);
}

static int run(apr_pool_t *p, PGconn *db, int argc, char **argv)
{
    const char *cmd = argv[0], *email = NULL, *name = "Administrator", *keyfile = NULL;
    if (strcmp(cmd, "migrate") == 0 || strcmp(cmd, "status") == 0)
        return cmd_schema(p, db, argc, argv);
    if (strcmp(cmd, "reconcile") == 0)
        return cmd_reconcile(db);
    if (strcmp(cmd, "verify-chain") == 0)
        return argc == 1 ? cmd_verify_chain(db) : usage();
    if (strcmp(cmd, "reseal") == 0)
        return argc == 3 && strcmp(argv[1], "--key-file") == 0 ? cmd_reseal(p, db, argv[2])
                                                               : usage();
    if (strcmp(cmd, "settlement") == 0 && argc == 2 && strcmp(argv[1], "report") == 0)
        return settlement_report(db);
    if (strcmp(cmd, "settlement") == 0 && argc > 1 && strcmp(argv[1], "import") == 0)
        return settlement_import(p, db, argc, argv);
    if (strcmp(cmd, "create-admin") != 0 && strcmp(cmd, "admin-totp") != 0)
        return usage();
    if (argc % 2 == 0)
        return usage();
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--email") == 0)
            email = argv[i + 1];
        else if (strcmp(argv[i], "--name") == 0 && cmd[0] == 'c')
            name = argv[i + 1];
        else if (strcmp(argv[i], "--key-file") == 0)
            keyfile = argv[i + 1];
        else
            return usage();
    }
    if (!email || (cmd[0] == 'a' && !keyfile))
        return usage();
    return cmd[0] == 'c' ? cmd_create_admin(p, db, email, name, keyfile)
                         : enrol_totp(p, db, email, keyfile);
}

int main(int argc, char **argv)
{
    const char *conninfo = getenv("TIPZED_DB");
    apr_pool_t *p;
    int i = 1, rc;
    if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0))
        return usage_to(stdout, 0); /* no database needed to read the usage */
    if (argc == 2 && strcmp(argv[1], "--version") == 0)
        return printf("tipzedctl %s\n", TZ_MODULE_VERSION) < 0; /* the module's version too */
    if (argc > 2 && strcmp(argv[1], "-d") == 0) {
        conninfo = argv[2];
        i = 3;
    }
    if (i >= argc)
        return usage();
    PGconn *db = PQconnectdb(conninfo ? conninfo : "dbname=tipzed");
    if (PQstatus(db) != CONNECTION_OK) {
        fprintf(stderr, "tipzedctl: cannot connect: %s", PQerrorMessage(db));
        PQfinish(db);
        return 2;
    }
    apr_initialize();
    apr_pool_create(&p, NULL);
    rc = run(p, db, argc - i, argv + i);
    apr_pool_destroy(p);
    apr_terminate();
    PQfinish(db);
    return rc;
}
