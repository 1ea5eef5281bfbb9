/* Prometheus metrics (docs/metrics.md): counters in anonymous shared
 * memory that every child updates with atomics, GET /metrics, and the
 * points of the module that count. */
#ifndef MOD_TIPZED_METRICS_H
#define MOD_TIPZED_METRICS_H
#include "mod_tipzed.h"

/* What the database layer counts (mod_tipzed_db.c). */
typedef enum {
    TZ_MDB_ACQUIRE_REQUEST_OK,   /* the request's pooled connection was had */
    TZ_MDB_ACQUIRE_REQUEST_FAIL, /* ... was not: mod_dbd had none to give */
    TZ_MDB_ACQUIRE_BG_OK,        /* a connection outside requests (the watchdog's) */
    TZ_MDB_ACQUIRE_BG_FAIL,
    TZ_MDB_QUERY,                /* a statement run */
    TZ_MDB_ERROR,                /* a statement that failed for good (503 to the caller) */
    TZ_MDB_RECONNECT,            /* a session re-established, statements prepared again */
    TZ_MDB_CONFLICT_RETRY,       /* a call run again after a deadlock or serialization failure */
    TZ_MDB__COUNT
} tz_mdb_e;

/* post_config: the shared counters, kept across restarts (retained data). */
apr_status_t tz_metrics_post_config(apr_pool_t *pconf, server_rec *s);
/* child_init: the per-child cache of the database's figures. */
void tz_metrics_child_init(apr_pool_t *p, server_rec *s);
/* log_transaction: counts a request the dispatcher marked. */
int tz_metrics_log(request_rec *r);
/* The dispatcher's mark: the route table's row, or -1 for no route. */
void tz_metrics_mark(request_rec *r, int route);
/* A provider webhook whose signature was refused; provider NULL: the
 * generic address, when it cannot say which provider was meant. */
void tz_metrics_webhook_rejected(const char *provider);
/* A provider event (webhook or status poll) the database recorded, and
 * its outcome; "credited" also counts a credit. */
void tz_metrics_event(const char *provider, const char *outcome);
void tz_metrics_db(tz_mdb_e what);
/* A payment refused by a velocity limit of kind (tz_vel_kind_e). */
void tz_metrics_velocity(int kind);
/* The request took its pooled connection (counted once per request, given
 * back with the request's pool); a connection taken outside requests:
 * +1, and -1 once closed. */
void tz_metrics_db_held(request_rec *r);
void tz_metrics_db_background(int delta);

#endif
