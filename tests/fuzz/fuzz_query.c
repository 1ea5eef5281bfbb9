/* Query strings: tz_query_check / tz_query_get (tz_query.h) and the
 * pagination parsers tz_parse_page and tz_parse_list on what they return.  The input is the
 * raw query string (what follows '?'). */
#include "fuzz_common.h"
#include "tz_query.h"
#include "tz_parse.h"

static const char *const names[] = {"limit", "offset", "status", "currency", "creator_id",
                                    "from", "to", "q", "starting_after", "format"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = tz_fuzz_pool();
    char *args = apr_pstrmemdup(p, (const char *)data, size);
    const char *bad = tz_query_check(args), *v[sizeof names / sizeof names[0]];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const char *err = tz_query_get(p, args, names[i], &v[i]);
        /* One verdict for the whole string, whichever name is asked for. */
        TZ_FUZZ_ASSERT((err == NULL) == (bad == NULL));
        if (err)
            TZ_FUZZ_ASSERT(v[i] == NULL);
        else if (v[i])
            TZ_FUZZ_ASSERT(tz_utf8_valid(v[i], strlen(v[i])));
    }
    if (!bad) {
        int64_t lim = -1, off = -1;
        const char *field = NULL, *why = tz_parse_page(v[0], v[1], &lim, &off, &field);
        if (why)
            TZ_FUZZ_ASSERT(field && (strcmp(field, "limit") == 0 || strcmp(field, "offset") == 0));
        else
            TZ_FUZZ_ASSERT(lim >= 1 && lim <= 100 && off >= 0);
        for (int kind = TZ_CURSOR_UUID; kind <= TZ_CURSOR_INT; kind++) {
            tz_list_args_t a;
            field = NULL;
            why = tz_parse_list(v[0], v[1], v[8], v[9], (tz_cursor_e)kind, &a, &field);
            if (why)
                TZ_FUZZ_ASSERT(field != NULL);
            else
                TZ_FUZZ_ASSERT(a.limit >= 1 && a.limit <= 100 && a.offset >= 0 &&
                               a.after == v[8] && !(v[8] && v[1]) &&
                               a.csv == (v[9] && strcmp(v[9], "csv") == 0));
        }
    }
    apr_pool_destroy(p);
    return 0;
}
