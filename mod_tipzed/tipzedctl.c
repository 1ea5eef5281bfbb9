/* tipzedctl: schema migrations, admin accounts, and the reconciliation
 * report, from the command line.  Uses the same core library as the module
 * (password hashing) and libpq directly.
 *
 *   tipzedctl [-d CONNINFO] migrate [SQL_DIR]
 *   tipzedctl [-d CONNINFO] create-admin --email EMAIL [--name NAME]  (password on stdin)
 *   tipzedctl [-d CONNINFO] reconcile
 *
 * CONNINFO defaults to $TIPZED_DB, then "dbname=tipzed". */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libpq-fe.h>
#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>
#include "tz_password.h"

static int usage(void)
{
    fputs("usage: tipzedctl [-d CONNINFO] migrate [SQL_DIR]\n"
          "       tipzedctl [-d CONNINFO] create-admin --email EMAIL [--name NAME] < password\n"
          "       tipzedctl [-d CONNINFO] reconcile\n", stderr);
    return 2;
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

static char *read_file(apr_pool_t *p, const char *path)
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
    return buf;
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Migration files are NNN_name.sql; the number is the version. */
static int list_migrations(apr_pool_t *p, const char *dir, char ***names, int *n)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int cap = 64;
    if (!d) {
        fprintf(stderr, "tipzedctl: cannot open %s: %s\n", dir, strerror(errno));
        return -1;
    }
    *names = apr_palloc(p, sizeof(char *) * (apr_size_t)cap);
    *n = 0;
    while ((e = readdir(d)) && *n < cap) {
        size_t len = strlen(e->d_name);
        if (len > 8 && e->d_name[3] == '_' && strcmp(e->d_name + len - 4, ".sql") == 0 &&
            strspn(e->d_name, "0123456789") == 3 &&
            strspn(e->d_name, "abcdefghijklmnopqrstuvwxyz0123456789_.") == len)
            (*names)[(*n)++] = apr_pstrdup(p, e->d_name);
    }
    closedir(d);
    qsort(*names, (size_t)*n, sizeof(char *), name_cmp);
    return 0;
}

static int applied(PGconn *db, int version)
{
    char v[16];
    const char *params[1] = {v};
    snprintf(v, sizeof v, "%d", version);
    PGresult *res = PQexecParams(db, "SELECT 1 FROM tz_schema_migrations WHERE version = $1::int",
                                 1, NULL, params, NULL, NULL, 0);
    int yes = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) > 0;
    PQclear(res);
    return yes;
}

/* Each pending file runs in its own transaction with its version row, under
 * an advisory lock so two concurrent runs cannot both apply it. */
static int cmd_migrate(apr_pool_t *p, PGconn *db, const char *dir)
{
    char **names;
    int n, done = 0;
    if (!exec_ok(db, "SET client_min_messages = warning;"
                     "CREATE TABLE IF NOT EXISTS tz_schema_migrations (version int PRIMARY KEY,"
                     " name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now());"
                     "SELECT pg_advisory_lock(7351001)") ||
        list_migrations(p, dir, &names, &n) != 0)
        return 1;
    for (int i = 0; i < n; i++) {
        int version = atoi(names[i]);
        if (applied(db, version))
            continue;
        char *sql = read_file(p, apr_pstrcat(p, dir, "/", names[i], NULL));
        if (!sql) {
            fprintf(stderr, "tipzedctl: cannot read %s/%s\n", dir, names[i]);
            return 1;
        }
        char *tx = apr_psprintf(p, "BEGIN;\n%s\n;INSERT INTO tz_schema_migrations (version, name)"
                                   " VALUES (%d, '%s');COMMIT;", sql, version, names[i]);
        if (!exec_ok(db, tx)) {
            exec_ok(db, "ROLLBACK");
            fprintf(stderr, "tipzedctl: migration %s failed; nothing of it was applied\n",
                    names[i]);
            return 1;
        }
        printf("applied %s\n", names[i]);
        done++;
    }
    printf("migrations: %d applied, schema up to date\n", done);
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

static int cmd_create_admin(apr_pool_t *p, PGconn *db, const char *email, const char *name)
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
    PGresult *res = PQexecParams(db, "SELECT tz_register($1, $2, 'admin', $3)::json->>'error'",
                                 3, NULL, params, NULL, NULL, 0);
    int rc = 1;
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        fprintf(stderr, "tipzedctl: %s", PQerrorMessage(db));
    else if (!PQgetisnull(res, 0, 0))
        fprintf(stderr, "tipzedctl: cannot create %s: %s\n", email, PQgetvalue(res, 0, 0));
    else {
        printf("admin %s created\n", email);
        rc = 0;
    }
    PQclear(res);
    return rc;
}

/* Prints each mismatch as "check<TAB>id<TAB>detail"; exits 1 when any. */
static int cmd_reconcile(PGconn *db)
{
    PGresult *res = PQexec(db, "SELECT check_name, id, detail FROM tz_reconcile()"
                               " ORDER BY check_name, id");
    int n, rc;
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        fprintf(stderr, "tipzedctl: %s", PQerrorMessage(db));
        PQclear(res);
        return 2;
    }
    n = PQntuples(res);
    for (int i = 0; i < n; i++)
        printf("%s\t%s\t%s\n", PQgetvalue(res, i, 0), PQgetvalue(res, i, 1),
               PQgetvalue(res, i, 2));
    rc = n ? 1 : 0;
    if (n)
        printf("reconciliation: %d mismatch(es)\n", n);
    else
        puts("reconciliation: ok");
    PQclear(res);
    return rc;
}

static int run(apr_pool_t *p, PGconn *db, int argc, char **argv)
{
    const char *cmd = argv[0], *email = NULL, *name = "Administrator";
    if (strcmp(cmd, "migrate") == 0)
        return cmd_migrate(p, db, argc > 1 ? argv[1] : "sql");
    if (strcmp(cmd, "reconcile") == 0)
        return cmd_reconcile(db);
    if (strcmp(cmd, "create-admin") != 0)
        return usage();
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--email") == 0)
            email = argv[i + 1];
        else if (strcmp(argv[i], "--name") == 0)
            name = argv[i + 1];
        else
            return usage();
    }
    return email ? cmd_create_admin(p, db, email, name) : usage();
}

int main(int argc, char **argv)
{
    const char *conninfo = getenv("TIPZED_DB");
    apr_pool_t *p;
    int i = 1, rc;
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
