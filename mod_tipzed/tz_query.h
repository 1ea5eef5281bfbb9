/* Query strings (application/x-www-form-urlencoded "k=v&k=v").  No httpd
 * types.  Stricter than httpd's ap_args_to_table: a query string with an
 * invalid percent escape, an encoded NUL (%00) or bytes that do not decode
 * to UTF-8, in any key or value, is refused as a whole rather than
 * truncated or passed on. */
#ifndef TZ_QUERY_H
#define TZ_QUERY_H
#include <stddef.h>
#include <apr_pools.h>

/* Longest query string considered (longer ones are refused). */
#define TZ_QUERY_MAX 8192

/* Checks every pair of args (NULL or "" is an empty, valid query string).
 * Returns NULL when valid, else a static message ("has an invalid percent
 * escape", "contains an encoded NUL (%00)", "is not valid UTF-8", "is too
 * long"). */
const char *tz_query_check(const char *args);

/* The decoded value of the first pair whose decoded key equals name ('+'
 * is a space, %XX a byte; a pair without '=' has the value "").  Empty
 * pairs ("a=1&&b=2") are skipped.  Returns NULL on success with *value
 * the value from p, or NULL when the name does not occur; on a malformed
 * query string (tz_query_check) returns its message and sets *value to
 * NULL. */
const char *tz_query_get(apr_pool_t *p, const char *args, const char *name,
                         const char **value);

/* 1 if s[0..n) is well-formed UTF-8 (no overlong forms, no surrogates, at
 * most U+10FFFF). */
int tz_utf8_valid(const char *s, size_t n);

#endif
