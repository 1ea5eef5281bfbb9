/* Validation rules of the API's input fields: addresses, bank accounts,
 * URLs, timestamps, media types, currencies.  Pure functions, no httpd
 * types; each answers 1 (valid) or 0, or parses into an out value. */
#ifndef TZ_VALIDATE_H
#define TZ_VALIDATE_H
#include <stddef.h>
#include <stdint.h>
#include <apr_pools.h>

/* A deliberately plain address check: one '@' with something before it, a
 * dot in the domain (not first, not last), no spaces or control
 * characters.  Deliverability is the mailer's business. */
int tz_email_ok(const char *email);

/* Account numbers and IBANs: letters, digits, spaces and dashes, at least
 * one letter or digit. */
int tz_bank_account_ok(const char *account);

/* An avatar link: https:// with a host, no white space, quotes or angle
 * brackets (it ends up in HTML attributes of clients). */
int tz_avatar_url_ok(const char *url);

/* RFC 3339 date-time: "YYYY-MM-DDTHH:MM:SS", optional fraction, then "Z"
 * or "+HH:MM"/"-HH:MM" ('T' and 'Z' in either case), a real calendar date
 * from year 1970 on; a leap second (:60) reads as :59.  With allow_date, a
 * bare "YYYY-MM-DD" means its midnight UTC.  0 with *secs set to Unix
 * seconds, -1 when malformed. */
int tz_parse_timestamp(const char *s, int allow_date, int64_t *secs);

/* Unix seconds as "YYYY-MM-DDTHH:MM:SSZ" (secs >= 0). */
char *tz_format_timestamp(apr_pool_t *p, int64_t secs);

/* A billing interval: week, month, quarter, or (with allow_year) year. */
int tz_interval_ok(const char *s, int allow_year);

/* A Content-Type header naming application/json, with parameters allowed
 * but a charset only if it is UTF-8. */
int tz_is_json_content_type(const char *content_type);

/* 1 when cur is one of the n codes of list (TipzedCurrencies). */
int tz_currency_accepted(const char *const *list, size_t n, const char *cur);

/* A referral code as a user typed it: TZ_REFERRAL_CODE_LEN characters of
 * the codes' alphabet (letters and digits without the look-alikes 0, O, 1
 * and I), in either case.  The code in upper case (from p), or NULL when
 * it cannot be one. */
#define TZ_REFERRAL_CODE_LEN 8
char *tz_referral_code_normalize(apr_pool_t *p, const char *code);

#endif
