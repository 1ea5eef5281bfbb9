/* CSV exports (RFC 4180: fields separated by commas, lines ended by CRLF,
 * a field quoted with its quotes doubled when it holds a comma, a quote,
 * CR or LF).  A string that a spreadsheet would run as a formula (first
 * character = + - @ TAB or CR) is written with a leading apostrophe, so an
 * export opened in a spreadsheet never evaluates what a user typed;
 * numbers are never touched (a negative amount stays -500). */
#ifndef TZ_CSV_H
#define TZ_CSV_H
#include <stddef.h>
#include <apr_pools.h>
#include <apr_tables.h>
#include <jansson.h>

/* s as one CSV field (quoted when needed, formula-guarded). */
char *tz_csv_field(apr_pool_t *p, const char *s);

/* The header line of cols, ending in CRLF. */
char *tz_csv_header(apr_pool_t *p, const char *const *cols, size_t n);

/* One line from obj: for each column its value, ending in CRLF.  Strings
 * as they are (guarded), integers in decimal, reals with 17 significant
 * digits, true/false, absent or null empty, objects and arrays as compact
 * JSON.  A column "a.b" reads key b of the object under key a. */
char *tz_csv_row(apr_pool_t *p, json_t *obj, const char *const *cols, size_t n);

/* The keys of obj in its order (const char *), for a caller that names no
 * columns: an export's columns are then its JSON lines' fields. */
apr_array_header_t *tz_csv_columns(apr_pool_t *p, json_t *obj);

#endif
