/* Two-factor rules: TOTP (RFC 6238 over RFC 4226's HOTP: HMAC-SHA1, 30 s
 * steps, 6 digits, one step either side), base32 secrets (RFC 4648, what
 * authenticator apps read), the otpauth:// enrolment URI, and recovery
 * codes.  No httpd types; HMAC through tz_crypto.c. */
#ifndef TZ_TOTP_H
#define TZ_TOTP_H
#include <stddef.h>
#include <apr_pools.h>

#define TZ_TOTP_SECRET_BYTES 20 /* 160 bits, RFC 4226's recommended length */
#define TZ_TOTP_PERIOD 30
#define TZ_TOTP_DIGITS 6
#define TZ_TOTP_WINDOW 1        /* steps accepted either side of now (clock drift) */
#define TZ_RECOVERY_CODES 10
#define TZ_RECOVERY_LEN 10      /* characters of a normalised code (50 bits) */
#define TZ_TOTP_ISSUER "Tipzed" /* the name authenticator apps show */

/* What a user's sealed secret is bound to (AES-GCM authenticated data):
 * "totp:<user id>", so it opens for that user's row only and never as
 * another kind of sealed value of the same user. */
char *tz_totp_context(apr_pool_t *p, const char *user_id);

/* base32 (RFC 4648 alphabet, upper case, no padding) of n bytes, from p. */
char *tz_base32_encode(apr_pool_t *p, const unsigned char *buf, size_t n);

/* Decodes base32 in either case, spaces and '=' padding ignored; *out from
 * p.  -1 on any other character, a dangling bit group or an empty result. */
int tz_base32_decode(apr_pool_t *p, const char *s, unsigned char **out, size_t *outlen);

/* HOTP value of counter (RFC 4226 dynamic truncation) with digits 6..8, as
 * a NUL-terminated decimal string of exactly `digits` characters.  0 on
 * success. */
int tz_hotp(const unsigned char *key, size_t keylen, unsigned long long counter, int digits,
            char out[9]);

/* The TOTP step of a Unix time. */
long long tz_totp_step(long long now);

/* 1 when code (exactly TZ_TOTP_DIGITS ASCII digits) is the TOTP of key at
 * now's step or within TZ_TOTP_WINDOW steps of it: *step is the matching
 * step (the caller refuses a step already used: replay).  0 when not, -1
 * on an error of the HMAC.  Every candidate is compared in constant time. */
int tz_totp_match(const unsigned char *key, size_t keylen, const char *code, long long now,
                  long long *step);

/* A fresh random secret as base32 (TZ_TOTP_SECRET_BYTES bytes); NULL on
 * CSPRNG failure. */
char *tz_totp_secret_new(apr_pool_t *p);

/* otpauth://totp/<issuer>:<account>?secret=..&issuer=..&algorithm=SHA1&
 * digits=6&period=30, the label and issuer percent-encoded. */
char *tz_totp_uri(apr_pool_t *p, const char *issuer, const char *account, const char *secret);

/* A fresh recovery code "xxxxx-xxxxx" (base32 alphabet, lower case); NULL on
 * CSPRNG failure. */
char *tz_recovery_code_new(apr_pool_t *p);

/* The canonical form of a code as typed (case, dashes and spaces ignored):
 * TZ_RECOVERY_LEN lower-case characters, or NULL when it cannot be a code.
 * The stored hash is SHA-256 of this form. */
char *tz_recovery_code_normalize(apr_pool_t *p, const char *s);

/* TZ_RECOVERY_CODES fresh codes into codes[], and *hashes: the SHA-256
 * hashes (hex) of their canonical forms as a PostgreSQL array literal,
 * what is stored.  0, or -1 on CSPRNG failure. */
int tz_recovery_codes_new(apr_pool_t *p, const char *codes[TZ_RECOVERY_CODES],
                          const char **hashes);

#endif
