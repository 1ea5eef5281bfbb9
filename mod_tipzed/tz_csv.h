/* CSV exports (RFC 4180: fields separated by commas, lines ended by CRLF,
 * a field quoted with its quotes doubled when it holds a comma, a quote,
 * CR or LF).  A string that a spreadsheet would run as a formula (first
 * character = + - @ TAB or CR) is written with a leading apostrophe, so an
 * export opened in a spreadsheet never evaluates what a user typed;
 * numbers are never touched (a negative amount stays -500). */
/* Reading (tz_csv_read): RFC 4180 as providers export it, see below. */
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

/* Longest file tz_csv_read takes, in bytes: a provider's monthly export
 * is a few megabytes; a bound keeps a wrong file from filling memory. */
#define TZ_CSV_MAX_BYTES (256u * 1024 * 1024)

/* Reads buf (len bytes) as RFC 4180 records: fields separated by commas,
 * records by CRLF or a lone LF, a field in double quotes may hold commas,
 * CR, LF and doubled quotes; a UTF-8 byte order mark at the start is
 * skipped; a last record without a line break counts; empty lines are
 * skipped (an exporter's trailing blank lines).  *records gets an array of
 * apr_array_header_t * (each an array of char *, NUL-terminated copies).
 * Returns NULL, or a static message with *line set to the physical line
 * (from 1) where the file is wrong: a NUL byte, a quote inside an unquoted
 * field, text after a closing quote, a quote never closed, or a file over
 * TZ_CSV_MAX_BYTES. */
const char *tz_csv_read(apr_pool_t *p, const char *buf, size_t len,
                        apr_array_header_t **records, int *line);

/* The index of the column named name in a header record, or -1. */
int tz_csv_column(const apr_array_header_t *header, const char *name);

/* A record's field at column i, or "" when the record is shorter or i < 0. */
const char *tz_csv_at(const apr_array_header_t *record, int i);

#endif
