/* Query-string parsing (see tz_query.h). */
#include <string.h>
#include "tz_query.h"
#include "apr_strings.h"

#define MSG_ESCAPE "has an invalid percent escape"
#define MSG_NUL "contains an encoded NUL (%00)"
#define MSG_UTF8 "is not valid UTF-8"
#define MSG_LONG "is too long"

int tz_utf8_valid(const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        size_t len;
        unsigned lo = 0x80, hi = 0xbf; /* range of the second byte */
        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf)
            len = 2;
        else if (c >= 0xe0 && c <= 0xef) {
            len = 3;
            if (c == 0xe0)
                lo = 0xa0;        /* overlong */
            else if (c == 0xed)
                hi = 0x9f;        /* surrogates */
        } else if (c >= 0xf0 && c <= 0xf4) {
            len = 4;
            if (c == 0xf0)
                lo = 0x90;        /* overlong */
            else if (c == 0xf4)
                hi = 0x8f;        /* above U+10FFFF */
        } else
            return 0;
        if (n - i < len || s[i + 1] < lo || s[i + 1] > hi)
            return 0;
        for (size_t k = 2; k < len; k++)
            if (s[i + k] < 0x80 || s[i + k] > 0xbf)
                return 0;
        i += len;
    }
    return 1;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decodes s[0..n) into out (room for n bytes; not NUL-terminated) and
 * sets *outlen.  NULL or an error message. */
static const char *decode(const char *s, size_t n, char *out, size_t *outlen)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '+')
            c = ' ';
        else if (c == '%') {
            int h, l;
            if (n - i < 3 || (h = hexval(s[i + 1])) < 0 || (l = hexval(s[i + 2])) < 0)
                return MSG_ESCAPE;
            c = (char)(h << 4 | l);
            if (c == '\0')
                return MSG_NUL;
            i += 2;
        }
        out[o++] = c;
    }
    if (!tz_utf8_valid(out, o))
        return MSG_UTF8;
    *outlen = o;
    return NULL;
}

/* Walks every pair; when name is not NULL, stores the first match's value
 * (from p) in *value.  NULL or an error message. */
static const char *walk(apr_pool_t *p, const char *args, const char *name, const char **value)
{
    char buf[TZ_QUERY_MAX];
    size_t total;
    if (!args)
        return NULL;
    if ((total = strnlen(args, TZ_QUERY_MAX + 1)) > TZ_QUERY_MAX)
        return MSG_LONG;
    const char *s = args, *end = args + total;
    while (s < end) {
        const char *amp = memchr(s, '&', (size_t)(end - s));
        size_t len = amp ? (size_t)(amp - s) : (size_t)(end - s);
        const char *eq = memchr(s, '=', len);
        size_t klen = eq ? (size_t)(eq - s) : len, vlen = eq ? len - klen - 1 : 0;
        size_t kout, vout;
        const char *err;
        if (len) {
            if ((err = decode(s, klen, buf, &kout)) != NULL)
                return err;
            int match = name && !*value && kout == strlen(name) && memcmp(buf, name, kout) == 0;
            if ((err = decode(eq ? eq + 1 : "", vlen, buf, &vout)) != NULL)
                return err;
            if (match)
                *value = apr_pstrmemdup(p, buf, vout);
        }
        s += len + (amp ? 1 : 0);
    }
    return NULL;
}

const char *tz_query_check(const char *args)
{
    return walk(NULL, args, NULL, NULL);
}

const char *tz_query_get(apr_pool_t *p, const char *args, const char *name,
                         const char **value)
{
    const char *err;
    *value = NULL;
    if ((err = walk(p, args, name, value)) != NULL)
        *value = NULL;
    return err;
}
