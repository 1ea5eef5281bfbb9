/* Strict parsers for directive values and query strings.  No httpd types.
 * Each returns NULL on success or a static message saying what is wrong. */
#ifndef TZ_PARSE_H
#define TZ_PARSE_H
#include <stdint.h>
#include <stddef.h>

/* Decimal int64, optional leading '-', no spaces, no '+', no leading zeros
 * other than "0", no overflow. */
const char *tz_parse_int64(const char *s, int64_t *out);

/* "90", "90s", "15m", "2h", "30d" -> seconds (> 0). */
const char *tz_parse_duration(const char *s, int64_t *secs);

/* "65536", "64K", "1M" -> bytes (> 0, <= 1 GiB). */
const char *tz_parse_size(const char *s, int64_t *bytes);

/* "15", "15%", "2.5%", "2.55" -> basis points 0..10000 (at most two decimals). */
const char *tz_parse_percent(const char *s, int32_t *bps);

/* Positive amount of minor units, <= 2^53. */
const char *tz_parse_amount(const char *s, int64_t *out);

/* Three upper-case ASCII letters (ISO 4217 shape). */
const char *tz_parse_currency(const char *s);

/* "On"/"Off" (any case) -> 1/0. */
const char *tz_parse_flag(const char *s, int *out);

/* An origin "scheme://host[:port]" with scheme http or https and no path. */
const char *tz_parse_origin(const char *s);

/* An absolute URL "http(s)://host[:port][/path]" (a lower-case host name,
 * IPv4 or bracketed IPv6; printable ASCII without quotes, angle brackets,
 * backslashes or a #fragment), with "?query" only when allow_query. */
const char *tz_parse_url(const char *s, int allow_query);

/* Canonical UUID 8-4-4-4-12 hex (either case): 1 if s is one. */
int tz_is_uuid(const char *s);

/* Printable ASCII 0x21..0x7e, length 1..255: 1 if s is a valid idempotency key. */
int tz_is_idempotency_key(const char *s);

/* Query-string pagination: limit 1..100 (default 20), offset >= 0 (default 0).
 * NULL inputs take the defaults.  On error *field names the bad parameter. */
const char *tz_parse_page(const char *limit, const char *offset, int64_t *lim,
                          int64_t *off, const char **field);

/* Cursor kinds: what an item's id looks like in a list. */
typedef enum { TZ_CURSOR_UUID, TZ_CURSOR_INT } tz_cursor_e;

/* A list request: ?limit&offset&starting_after&format. */
typedef struct {
    int64_t limit, offset;
    const char *after; /* the id of the previous page's last item, or NULL */
    int csv;           /* format=csv: the whole list, streamed */
} tz_list_args_t;

/* Parses a list's query parameters: limit and offset as tz_parse_page;
 * starting_after an id of the given kind (a UUID, or a positive integer of
 * at most 18 digits), never together with offset (a page is found either
 * by its position or by the item before it); format json (the default) or
 * csv.  NULL when valid, else the reason with *field naming the
 * parameter. */
const char *tz_parse_list(const char *limit, const char *offset, const char *after,
                          const char *format, tz_cursor_e kind, tz_list_args_t *out,
                          const char **field);

#endif
