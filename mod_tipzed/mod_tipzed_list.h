/* Lists: how every list endpoint reads a page (limit and offset, or the
 * keyset cursor starting_after) and exports its whole filtered list as
 * CSV, streamed page by page.  A handler checks its own filters and names
 * its query; tz_list does the rest. */
#ifndef MOD_TIPZED_LIST_H
#define MOD_TIPZED_LIST_H
#include "mod_tipzed.h"
#include "tz_parse.h"
#include "tz_sql.h"

typedef struct {
    tz_query_e query;
    const char *name;        /* the export's file name: <name>-YYYYMMDD.csv */
    tz_cursor_e cursor;      /* what the items' ids look like */
    const char *const *cols; /* the export's columns; NULL: the first item's fields */
    size_t ncols;
    /* what a page needs before anyone sees it (allocating from p), or NULL */
    void (*fix)(tz_req_t *q, apr_pool_t *p, json_t *page);
    /* the 404's detail when the query answers NULL (the list's owner is not
     * the caller's), or NULL */
    const char *missing;
} tz_list_t;

/* Answers the list: args holds the query's nargs arguments, the last three
 * left for limit, offset and starting_after.  Always returns OK (the
 * answer, a problem, or a stream already went out). */
int tz_list(tz_req_t *q, const tz_list_t *l, const char **args, int nargs);

/* Rows an export reads per call of the list's query. */
#define TZ_EXPORT_PAGE 500

#endif
