/* The database schema the module was built for, and what it does when the
 * database's is older: the API answers 503 schema_behind until
 * `tipzedctl migrate` has been run (docs/database.md). */
#ifndef MOD_TIPZED_SCHEMA_H
#define MOD_TIPZED_SCHEMA_H

#include "mod_tipzed.h"

typedef enum {
    TZ_SCHEMA_UNCHECKED,   /* not read yet */
    TZ_SCHEMA_UNREACHABLE, /* tz_api_schema_state() could not be called */
    TZ_SCHEMA_CURRENT,     /* the version and function digest the module expects */
    TZ_SCHEMA_BEHIND,      /* an older version, or the same with other functions */
    TZ_SCHEMA_AHEAD        /* a newer version (migrated before this server was upgraded) */
} tz_schema_e;

typedef struct {
    tz_schema_e state;
    apr_int64_t version;   /* the database's, 0 when unknown */
    char digest[65];       /* the database's function digest, "" when unknown */
} tz_schema_info_t;

/* Per child process: the lock of the cached state. */
void tz_schema_child_init(apr_pool_t *p, server_rec *s);

/* OK when the route may run: the database's schema is not behind, or the
 * route needs no database (route is its handler: /health, /health/detailed
 * and /openapi.json are exempt).  Otherwise sends a 503 schema_behind
 * problem naming `tipzedctl migrate` and returns DONE.  The state is cached
 * per child and virtual host, read again every few seconds while behind
 * (so a server recovers after a migration without a restart) and every few
 * more while current; every change of state is logged once. */
int tz_schema_ready(request_rec *r, tz_handler_fn route);

/* Reads the database's state now (not cached).  Returns the database call's
 * status; info->state is TZ_SCHEMA_UNREACHABLE when it failed. */
int tz_schema_read(request_rec *r, tz_schema_info_t *info);

const char *tz_schema_state_name(tz_schema_e state);
apr_int64_t tz_schema_expected_version(void);
const char *tz_schema_expected_digest(void);

#endif
