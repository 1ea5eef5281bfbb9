/* Validation rules of the API's input fields (see tz_validate.h).  ASCII
 * only and locale independent: the same input is judged the same way on
 * every server. */
#include <string.h>
#include <strings.h>
#include "tz_validate.h"
#include "apr_strings.h"

#define TZ_DIGIT(c) ((c) >= '0' && (c) <= '9')
#define TZ_ALNUM(c) (TZ_DIGIT(c) || ((c) >= 'a' && (c) <= 'z') || ((c) >= 'A' && (c) <= 'Z'))

int tz_email_ok(const char *e)
{
    const char *at = e ? strchr(e, '@') : NULL, *last;
    if (!at || at == e || strchr(at + 1, '@') || at[1] == '.')
        return 0;
    for (const unsigned char *s = (const unsigned char *)e; *s; s++)
        if (*s <= ' ' || *s == 0x7f)
            return 0;
    last = strrchr(at + 1, '.');
    return last && last[1] != '\0';
}

int tz_bank_account_ok(const char *s)
{
    int alnum = 0;
    if (!s)
        return 0;
    for (; *s; s++) {
        if (TZ_ALNUM(*s))
            alnum = 1;
        else if (*s != ' ' && *s != '-')
            return 0;
    }
    return alnum;
}

int tz_avatar_url_ok(const char *s)
{
    if (!s || strncmp(s, "https://", 8) != 0 || !s[8] || s[8] == '/')
        return 0;
    for (const unsigned char *c = (const unsigned char *)s; *c; c++)
        if (*c <= ' ' || *c == 0x7f || *c == '"' || *c == '\'' || *c == '<' || *c == '>')
            return 0;
    return 1;
}

/* n digits at s as a number, or -1. */
static int digits(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!TZ_DIGIT(s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

static int leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Days from 1970-01-01 to y-m-d of the proleptic Gregorian calendar
 * (Howard Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* "YYYY-MM-DD" at s: days since the epoch, or -1. */
static int64_t parse_date(const char *s)
{
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int y = digits(s, 4), m = digits(s + 5, 2), d = digits(s + 8, 2);
    if (y < 1970 || s[4] != '-' || s[7] != '-' || m < 1 || m > 12 || d < 1)
        return -1;
    if (d > mdays[m - 1] + (m == 2 && leap(y)))
        return -1;
    return days_from_civil(y, m, d);
}

/* "HH:MM:SS[.frac]" then the offset; seconds of the day less the offset. */
static int parse_time(const char *s, int64_t *secs)
{
    int h = digits(s, 2), mi = digits(s + 3, 2), se = digits(s + 6, 2), oh, om;
    const char *c = s + 8;
    if (h < 0 || h > 23 || s[2] != ':' || mi < 0 || mi > 59 || s[5] != ':' || se < 0 || se > 60)
        return -1;
    if (*c == '.') {
        if (!TZ_DIGIT(c[1]))
            return -1;
        for (c++; TZ_DIGIT(*c); c++)
            ;
    }
    *secs = h * 3600 + mi * 60 + (se == 60 ? 59 : se);
    if ((*c == 'Z' || *c == 'z') && !c[1])
        return 0;
    if ((*c != '+' && *c != '-') || strlen(c) != 6 || c[3] != ':' ||
        (oh = digits(c + 1, 2)) < 0 || oh > 23 || (om = digits(c + 4, 2)) < 0 || om > 59)
        return -1;
    *secs -= (*c == '+' ? 1 : -1) * (oh * 3600 + om * 60);
    return 0;
}

int tz_parse_timestamp(const char *s, int allow_date, int64_t *secs)
{
    int64_t days, t;
    size_t n = s ? strlen(s) : 0;
    if (n < 10 || (days = parse_date(s)) < 0)
        return -1;
    if (n == 10) {
        if (!allow_date)
            return -1;
        *secs = days * 86400;
        return 0;
    }
    if ((s[10] != 'T' && s[10] != 't') || parse_time(s + 11, &t) != 0)
        return -1;
    *secs = days * 86400 + t;
    return *secs < 0 ? -1 : 0;
}

char *tz_format_timestamp(apr_pool_t *p, int64_t secs)
{
    /* civil_from_days, the inverse of days_from_civil */
    int64_t z = secs / 86400 + 719468, rem = secs % 86400;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097, doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
    int d = (int)(doy - (153 * mp + 2) / 5 + 1), m = (int)(mp < 10 ? mp + 3 : mp - 9);
    int64_t y = yoe + era * 400 + (m <= 2);
    return apr_psprintf(p, "%04d-%02d-%02dT%02d:%02d:%02dZ", (int)y, m, d, (int)(rem / 3600),
                        (int)(rem / 60 % 60), (int)(rem % 60));
}

/* The first occurrence of needle in s, ignoring ASCII case, or NULL. */
static const char *find_nocase(const char *s, const char *needle)
{
    size_t n = strlen(needle);
    for (; *s; s++)
        if (strncasecmp(s, needle, n) == 0)
            return s;
    return NULL;
}

int tz_is_json_content_type(const char *ct)
{
    const char *cs;
    if (!ct || strncasecmp(ct, "application/json", 16) != 0 ||
        (ct[16] && ct[16] != ';' && ct[16] != ' '))
        return 0;
    cs = find_nocase(ct, "charset=");
    return !cs || strncasecmp(cs + 8, "utf-8", 5) == 0 || strncasecmp(cs + 8, "\"utf-8\"", 7) == 0;
}

int tz_currency_accepted(const char *const *list, size_t n, const char *cur)
{
    for (size_t i = 0; cur && i < n; i++)
        if (strcmp(cur, list[i]) == 0)
            return 1;
    return 0;
}

char *tz_referral_code_normalize(apr_pool_t *p, const char *code)
{
    static const char alphabet[] = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    char *out;
    if (!code || strlen(code) != TZ_REFERRAL_CODE_LEN)
        return NULL;
    out = apr_pstrdup(p, code);
    for (char *c = out; *c; c++) {
        if (*c >= 'a' && *c <= 'z')
            *c = (char)(*c - 'a' + 'A');
        if (!strchr(alphabet, *c))
            return NULL;
    }
    return out;
}

int tz_interval_ok(const char *s, int allow_year)
{
    return s && (strcmp(s, "week") == 0 || strcmp(s, "month") == 0 ||
                 strcmp(s, "quarter") == 0 || (allow_year && strcmp(s, "year") == 0));
}
