/* TOTP, base32 and recovery codes (see tz_totp.h). */
#include <stdio.h>
#include <string.h>
#include <ctype.h>
#include "tz_totp.h"
#include "tz_crypto.h"
#include "apr_strings.h"

static const char b32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

char *tz_base32_encode(apr_pool_t *p, const unsigned char *buf, size_t n)
{
    char *out = apr_palloc(p, (n * 8 + 4) / 5 + 1), *o = out;
    unsigned acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        acc = (acc << 8) | buf[i];
        bits += 8;
        while (bits >= 5) {
            *o++ = b32[(acc >> (bits - 5)) & 31];
            bits -= 5;
        }
    }
    if (bits > 0)
        *o++ = b32[(acc << (5 - bits)) & 31];
    *o = '\0';
    return out;
}

static int b32val(char c)
{
    const char *at;
    c = (char)toupper((unsigned char)c);
    return c && (at = strchr(b32, c)) ? (int)(at - b32) : -1;
}

int tz_base32_decode(apr_pool_t *p, const char *s, unsigned char **out, size_t *outlen)
{
    size_t len = strlen(s), n = 0;
    unsigned char *o = apr_palloc(p, len * 5 / 8 + 1);
    unsigned acc = 0;
    int bits = 0, v;
    for (; *s; s++) {
        if (*s == ' ' || *s == '=')
            continue;
        if ((v = b32val(*s)) < 0)
            return -1;
        acc = (acc << 5) | (unsigned)v;
        if ((bits += 5) >= 8) {
            o[n++] = (unsigned char)(acc >> (bits - 8));
            bits -= 8;
        }
    }
    /* leftover bits must be padding (fewer than 5, all zero) */
    if (n == 0 || bits >= 5 || (acc & ((1u << bits) - 1)) != 0)
        return -1;
    *out = o;
    *outlen = n;
    return 0;
}

int tz_hotp(const unsigned char *key, size_t keylen, unsigned long long counter, int digits,
            char out[9])
{
    static const unsigned long mod[] = {1000000ul, 10000000ul, 100000000ul};
    unsigned char msg[8], mac[TZ_SHA1_LEN];
    if (digits < 6 || digits > 8)
        return -1;
    for (int i = 7; i >= 0; i--, counter >>= 8)
        msg[i] = (unsigned char)(counter & 0xff);
    if (tz_hmac_sha1(key, keylen, msg, sizeof msg, mac) != 0)
        return -1;
    int off = mac[TZ_SHA1_LEN - 1] & 0x0f;
    unsigned long bin = ((unsigned long)(mac[off] & 0x7f) << 24) |
                        ((unsigned long)mac[off + 1] << 16) |
                        ((unsigned long)mac[off + 2] << 8) | mac[off + 3];
    bin %= mod[digits - 6];
    for (int i = digits - 1; i >= 0; i--, bin /= 10)
        out[i] = (char)('0' + bin % 10);
    out[digits] = '\0';
    return 0;
}

long long tz_totp_step(long long now)
{
    return now >= 0 ? now / TZ_TOTP_PERIOD : -1;
}

static int code_shape_ok(const char *code)
{
    for (int i = 0; i < TZ_TOTP_DIGITS; i++)
        if (code[i] < '0' || code[i] > '9')
            return 0;
    return code[TZ_TOTP_DIGITS] == '\0';
}

int tz_totp_match(const unsigned char *key, size_t keylen, const char *code, long long now,
                  long long *step)
{
    long long t = tz_totp_step(now);
    int found = 0;
    char want[9];
    if (!code || strnlen(code, TZ_TOTP_DIGITS + 1) != TZ_TOTP_DIGITS || !code_shape_ok(code) ||
        t < 0)
        return 0;
    /* every candidate is computed and compared: the time taken does not
     * say which step matched */
    for (long long s = t - TZ_TOTP_WINDOW; s <= t + TZ_TOTP_WINDOW; s++) {
        if (s < 0)
            continue;
        if (tz_hotp(key, keylen, (unsigned long long)s, TZ_TOTP_DIGITS, want) != 0)
            return -1;
        if (tz_ct_equal(want, TZ_TOTP_DIGITS, code, TZ_TOTP_DIGITS) && !found) {
            found = 1;
            *step = s;
        }
    }
    return found;
}

char *tz_totp_context(apr_pool_t *p, const char *user_id)
{
    return apr_pstrcat(p, "totp:", user_id, NULL);
}

char *tz_totp_secret_new(apr_pool_t *p)
{
    unsigned char k[TZ_TOTP_SECRET_BYTES];
    return tz_random_bytes(k, sizeof k) == 0 ? tz_base32_encode(p, k, sizeof k) : NULL;
}

/* RFC 3986 unreserved characters stay, everything else is %XX. */
static char *pct(apr_pool_t *p, const char *s)
{
    char *out = apr_palloc(p, strlen(s) * 3 + 1), *o = out;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~')
            *o++ = (char)c;
        else
            o += sprintf(o, "%%%02X", c);
    }
    *o = '\0';
    return out;
}

char *tz_totp_uri(apr_pool_t *p, const char *issuer, const char *account, const char *secret)
{
    const char *is = pct(p, issuer);
    return apr_psprintf(p, "otpauth://totp/%s:%s?secret=%s&issuer=%s&algorithm=SHA1&digits=%d"
                        "&period=%d", is, pct(p, account), secret, is, TZ_TOTP_DIGITS,
                        TZ_TOTP_PERIOD);
}

char *tz_recovery_code_new(apr_pool_t *p)
{
    unsigned char r[TZ_RECOVERY_LEN];
    char *out = apr_palloc(p, TZ_RECOVERY_LEN + 2);
    if (tz_random_bytes(r, sizeof r) != 0)
        return NULL;
    for (int i = 0, o = 0; i < TZ_RECOVERY_LEN; i++) {
        if (i == TZ_RECOVERY_LEN / 2)
            out[o++] = '-';
        out[o++] = (char)tolower((unsigned char)b32[r[i] & 31]); /* 256 % 32 == 0: no bias */
    }
    out[TZ_RECOVERY_LEN + 1] = '\0';
    return out;
}

char *tz_recovery_code_normalize(apr_pool_t *p, const char *s)
{
    char *out = apr_palloc(p, TZ_RECOVERY_LEN + 1);
    size_t n = 0;
    for (; *s; s++) {
        if (*s == '-' || *s == ' ')
            continue;
        if (n == TZ_RECOVERY_LEN || b32val(*s) < 0)
            return NULL;
        out[n++] = (char)tolower((unsigned char)*s);
    }
    out[n] = '\0';
    return n == TZ_RECOVERY_LEN ? out : NULL;
}

int tz_recovery_codes_new(apr_pool_t *p, const char *codes[TZ_RECOVERY_CODES],
                          const char **hashes)
{
    const char *list = "{";
    for (int i = 0; i < TZ_RECOVERY_CODES; i++) {
        char *c = tz_recovery_code_new(p), *norm = c ? tz_recovery_code_normalize(p, c) : NULL;
        char *h = norm ? tz_sha256_hex(p, norm, strlen(norm)) : NULL;
        if (!h)
            return -1;
        codes[i] = c;
        list = apr_pstrcat(p, list, i ? "," : "", h, NULL);
    }
    *hashes = apr_pstrcat(p, list, "}", NULL);
    return 0;
}
