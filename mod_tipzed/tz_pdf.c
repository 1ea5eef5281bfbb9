/* Invoices and credit notes as PDF through libharu (see tz_pdf.h).  The
 * JSON is first read into printable strings (inv_t), then laid out on A4
 * pages; every libharu call is checked, and libharu's error handler only
 * records the first error, so a failure unwinds to one HPDF_Free. */
#include <string.h>
#include <strings.h>
#include <apr_file_io.h>
#include <apr_strings.h>
#include <apr_tables.h>
#include <hpdf.h>
#include "tz_parse.h"
#include "tz_pdf.h"
#include "tz_provider.h"
#include "tz_validate.h"

/* A4 portrait in points, and the frame every line stays inside. */
#define PAGE_W 595.276f
#define PAGE_H 841.89f
#define LEFT 50.0f
#define RIGHT (PAGE_W - 50.0f)
#define TOP (PAGE_H - 50.0f)
#define BOTTOM 72.0f  /* the lowest baseline of the content: the footer is below */
#define FOOTER_Y 40.0f
#define MID (LEFT + 260.0f) /* the second column of the parties */
#define PARTY_W (RIGHT - MID)  /* the width of either column */

/* The table's columns: the description's left edge and width, then the
 * right edges (and widths) of the quantity, the unit amount and the amount. */
#define DESC_W 225.0f
#define QTY_R 335.0f
#define QTY_W 55.0f
#define UNIT_R 440.0f
#define AMOUNT_R RIGHT
#define MONEY_W 95.0f
#define ROW_LINES 4   /* a description wraps to at most this many lines */
#define ROW_LEAD 11.5f

#define ELLIPSIS "\xE2\x80\xA6"

typedef struct {
    const char *description, *quantity, *unit, *amount; /* as printed */
} line_t;

/* The document, every field as printed. */
typedef struct {
    const char *title, *number, *id, *status, *seller, *seller_id, *buyer, *email;
    const char *issued, *paid, *payment_id, *credits, *hash;
    const char *subtotal, *tax_label, *tax, *total; /* tax_label NULL: no tax line */
    line_t *lines;
    size_t n_lines;
} inv_t;

/* ---- reading the JSON ---- */

typedef struct {
    apr_pool_t *p;
    const char *why; /* the first thing wrong, from the caller's pool */
    apr_pool_t *errp;
} rd_t;

static void fail(rd_t *r, const char *at, const char *key, const char *what)
{
    if (!r->why)
        r->why = apr_pstrcat(r->errp, at, key, " ", what, NULL);
}

/* s[0..n) for printing: control characters (the font has no glyph for
 * them, and a newline would not break the line) become spaces, and code
 * points beyond U+FFFF, which libharu's UTF-8 encoder cannot carry, U+FFFD. */
static const char *printable(apr_pool_t *p, const char *s, size_t n)
{
    char *o = apr_palloc(p, n + 1), *d = o; /* nothing grows */
    for (size_t i = 0; i < n; i++) {
        unsigned char b = (unsigned char)s[i];
        if (b >= 0xF0) {
            memcpy(d, "\xEF\xBF\xBD", 3), d += 3;
            i += 3;
        } else if (b < 0x20 || b == 0x7F) {
            *d++ = ' ';
        } else if (b == 0xC2 && i + 1 < n && (unsigned char)s[i + 1] < 0xA0) {
            *d++ = ' '; /* U+0080..U+009F, the C1 controls */
            i++;
        } else {
            *d++ = (char)b;
        }
    }
    *d = '\0';
    return o;
}

/* A non-empty string (or, with nullable, NULL for null or absent). */
static const char *str(rd_t *r, const json_t *o, const char *at, const char *key, int nullable)
{
    const json_t *v = json_object_get(o, key);
    if (json_is_string(v) && json_string_length(v) > 0)
        return printable(r->p, json_string_value(v), json_string_length(v));
    if (nullable && (!v || json_is_null(v)))
        return NULL;
    fail(r, at, key, nullable ? "must be a non-empty string or null" : "must be a non-empty string");
    return NULL;
}

static int64_t num(rd_t *r, const json_t *o, const char *at, const char *key)
{
    const json_t *v = json_object_get(o, key);
    if (!json_is_integer(v))
        fail(r, at, key, "must be an integer");
    return (int64_t)json_integer_value(v);
}

/* Minor units with two decimals and the currency: "-12.34 ZMW". */
static const char *money(rd_t *r, const json_t *o, const char *at, const char *key,
                         const char *currency)
{
    int64_t v = num(r, o, at, key);
    return apr_pstrcat(r->p, tz_minor_to_decimal(r->p, v), " ", currency, NULL);
}

/* An RFC 3339 timestamp to the minute, with its offset as given:
 * "2026-12-02T05:23:30Z" -> "2026-12-02 05:23 UTC". */
static const char *when(rd_t *r, const json_t *o, const char *key, int nullable)
{
    const char *s = str(r, o, "", key, nullable), *zone;
    int64_t secs;
    size_t n;
    if (!s)
        return NULL;
    if (tz_parse_timestamp(s, 0, &secs) != 0) {
        fail(r, "", key, "must be an RFC 3339 timestamp");
        return NULL;
    }
    n = strlen(s); /* ends in Z or in +HH:MM / -HH:MM */
    zone = s[n - 1] == 'Z' || s[n - 1] == 'z' || strcmp(s + n - 6, "+00:00") == 0
               ? "UTC" : s + n - 6;
    return apr_psprintf(r->p, "%.10s %.5s %s", s, s + 11, zone);
}

/* "VAT 16% (included)", "GST 12.5% (added)". */
static const char *tax_label(rd_t *r, const json_t *inv, const char *name)
{
    int64_t bps = num(r, inv, "", "tax_rate_bps");
    const json_t *incl = json_object_get(inv, "tax_inclusive");
    const char *pct;
    if (bps < 0 || bps > 10000)
        fail(r, "", "tax_rate_bps", "must be between 0 and 10000");
    if (!json_is_boolean(incl))
        fail(r, "", "tax_inclusive", "must be a boolean");
    pct = bps % 100 == 0 ? apr_psprintf(r->p, "%d", (int)(bps / 100))
        : bps % 10 == 0 ? apr_psprintf(r->p, "%d.%d", (int)(bps / 100), (int)(bps % 100 / 10))
                        : apr_psprintf(r->p, "%d.%02d", (int)(bps / 100), (int)(bps % 100));
    return apr_psprintf(r->p, "%s %s%% (%s)", name, pct, json_is_true(incl) ? "included" : "added");
}

static void read_lines(rd_t *r, const json_t *inv, const char *currency, inv_t *d)
{
    const json_t *lines = json_object_get(inv, "lines");
    if (!json_is_array(lines) || json_array_size(lines) == 0) {
        fail(r, "", "lines", "must be a non-empty array");
        return;
    }
    d->n_lines = json_array_size(lines);
    d->lines = apr_pcalloc(r->p, d->n_lines * sizeof(*d->lines));
    for (size_t i = 0; i < d->n_lines && !r->why; i++) {
        const json_t *l = json_array_get(lines, i);
        const char *at = apr_psprintf(r->p, "lines[%" APR_SIZE_T_FMT "].", i);
        line_t *o = &d->lines[i];
        if (!json_is_object(l)) {
            fail(r, "", apr_psprintf(r->p, "lines[%" APR_SIZE_T_FMT "]", i), "must be an object");
            return;
        }
        o->description = str(r, l, at, "description", 0);
        o->quantity = apr_psprintf(r->p, "%" APR_INT64_T_FMT,
                                   (apr_int64_t)num(r, l, at, "quantity"));
        o->unit = money(r, l, at, "unit_amount", currency);
        o->amount = money(r, l, at, "amount", currency);
    }
}

static const char *status_label(apr_pool_t *p, const char *status)
{
    char *s;
    if (!status)
        return NULL;
    if (strcmp(status, "paid") == 0 || strcmp(status, "refunded") == 0 ||
        strcmp(status, "void") == 0) {
        s = apr_pstrdup(p, status);
        s[0] = (char)(s[0] - 'a' + 'A');
        return s;
    }
    return status;
}

static int is_hex64(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++)
        if (!strchr("0123456789abcdefABCDEF", s[n]))
            return 0;
    return n == 64;
}

/* The parties, the payment and the credited invoice. */
static void read_parties(rd_t *r, const json_t *inv, const char *kind, inv_t *d)
{
    const json_t *seller = json_object_get(inv, "seller"), *buyer = json_object_get(inv, "buyer");
    const json_t *credit = json_object_get(inv, "credit_for");
    if (!json_is_object(seller))
        fail(r, "", "seller", "must be an object");
    if (!json_is_object(buyer))
        fail(r, "", "buyer", "must be an object");
    d->seller = str(r, seller, "seller.", "name", 0);
    d->seller_id = str(r, seller, "seller.", "id", 1);
    d->buyer = str(r, buyer, "buyer.", "name", 0);
    d->email = str(r, buyer, "buyer.", "email", 1);
    d->payment_id = str(r, inv, "", "payment_id", 1);
    if (json_is_object(credit)) {
        const char *number = str(r, credit, "credit_for.", "number", 0);
        const char *id = str(r, credit, "credit_for.", "id", 0);
        d->credits = apr_pstrcat(r->p, number, " (", id, ")", NULL);
    } else if (kind && strcmp(kind, "credit_note") == 0) {
        fail(r, "", "credit_for", "must name the credited invoice {\"id\", \"number\"}");
    } else if (credit && !json_is_null(credit)) {
        fail(r, "", "credit_for", "must be an object or null");
    }
}

static void read_amounts(rd_t *r, const json_t *inv, const char *currency, inv_t *d)
{
    const char *tax_name = str(r, inv, "", "tax_name", 1);
    read_lines(r, inv, currency, d);
    d->subtotal = money(r, inv, "", "subtotal", currency);
    if (tax_name) {
        d->tax_label = tax_label(r, inv, tax_name);
        d->tax = money(r, inv, "", "tax", currency);
    }
    d->total = money(r, inv, "", "total", currency);
}

/* The document as printed, or NULL with *why (from errp) naming the field. */
static inv_t *read_invoice(apr_pool_t *p, apr_pool_t *errp, const json_t *inv, const char **why)
{
    rd_t r = {p, NULL, errp};
    inv_t *d = apr_pcalloc(p, sizeof(*d));
    const char *kind, *currency;
    if (!json_is_object(inv)) {
        *why = "the invoice must be a JSON object";
        return NULL;
    }
    d->id = str(&r, inv, "", "id", 0);
    d->number = str(&r, inv, "", "number", 0);
    kind = str(&r, inv, "", "kind", 0);
    if (kind && strcmp(kind, "invoice") != 0 && strcmp(kind, "credit_note") != 0)
        fail(&r, "", "kind", "must be \"invoice\" or \"credit_note\"");
    d->title = apr_pstrcat(p, kind && strcmp(kind, "credit_note") == 0 ? "Credit note " : "Invoice ",
                           d->number, NULL);
    d->status = status_label(p, str(&r, inv, "", "status", 0));
    currency = str(&r, inv, "", "currency", 0);
    if (currency && tz_parse_currency(currency))
        fail(&r, "", "currency", "must be an ISO 4217 code of three upper-case letters");
    read_parties(&r, inv, kind, d);
    read_amounts(&r, inv, currency, d);
    d->issued = when(&r, inv, "issued_at", 0);
    d->paid = when(&r, inv, "paid_at", 1);
    d->hash = str(&r, inv, "", "entry_hash", 1);
    if (d->hash && !is_hex64(d->hash))
        fail(&r, "", "entry_hash", "must be 64 hexadecimal digits or null");
    *why = r.why;
    return r.why ? NULL : d;
}

/* ---- drawing with libharu ---- */

typedef struct {
    apr_pool_t *p;                  /* scratch, destroyed after the call */
    HPDF_Doc pdf;
    HPDF_STATUS error_no, detail_no; /* the first error libharu reported */
    const char *step;               /* what was being done, for the message */
    HPDF_Font regular, bold;
    HPDF_Page page;
    apr_array_header_t *pages;
    float y;                        /* the top of what is drawn next */
    const inv_t *inv;
} pdf_t;

/* libharu calls this on every error, then returns the error code to its
 * caller: recording it is enough, as every call is checked. */
static void HPDF_STDCALL on_error(HPDF_STATUS error_no, HPDF_STATUS detail_no, void *data)
{
    pdf_t *c = data;
    if (!c->error_no) {
        c->error_no = error_no;
        c->detail_no = detail_no;
    }
}

/* 0 when st is HPDF_OK and libharu reported no error, else -1. */
static int ok(pdf_t *c, HPDF_STATUS st)
{
    if (st != HPDF_OK && !c->error_no)
        c->error_no = st;
    return c->error_no ? -1 : 0;
}

static size_t cp_len(const char *s)
{
    unsigned char b = (unsigned char)*s;
    return b < 0x80 ? 1 : b >= 0xE0 ? 3 : 2; /* printable() left no 4-byte sequence */
}

static float width(pdf_t *c, HPDF_Font f, float size, const char *s, size_t n)
{
    HPDF_TextWidth tw = HPDF_Font_TextWidth(f, (const HPDF_BYTE *)s, (HPDF_UINT)n);
    return (float)tw.width * size / 1000.0f;
}

static int text(pdf_t *c, HPDF_Font f, float size, float x, float y, const char *s)
{
    if (!*s)
        return 0;
    if (ok(c, HPDF_Page_BeginText(c->page)) || ok(c, HPDF_Page_SetFontAndSize(c->page, f, size)) ||
        ok(c, HPDF_Page_TextOut(c->page, x, y, s)))
        return -1;
    return ok(c, HPDF_Page_EndText(c->page));
}

/* s ending at right; a text wider than w is set smaller to fit (amounts
 * of up to 2^53 minor units in the table's columns). */
static int text_right(pdf_t *c, HPDF_Font f, float size, float right, float y, const char *s,
                      float w)
{
    float tw = width(c, f, size, s, strlen(s));
    if (tw > w) {
        size *= w / tw;
        tw = w;
    }
    return text(c, f, size, right - tw, y, s);
}

static int gray(pdf_t *c, float level)
{
    return ok(c, HPDF_Page_SetRGBFill(c->page, level, level, level));
}

static int rule(pdf_t *c, float x0, float x1, float y, float w, float level)
{
    if (ok(c, HPDF_Page_SetLineWidth(c->page, w)) ||
        ok(c, HPDF_Page_SetRGBStroke(c->page, level, level, level)) ||
        ok(c, HPDF_Page_MoveTo(c->page, x0, y)) || ok(c, HPDF_Page_LineTo(c->page, x1, y)))
        return -1;
    return ok(c, HPDF_Page_Stroke(c->page));
}

/* ---- line breaking ---- */

/* The longest prefix of s, in bytes at a code point boundary, no wider
 * than w; *space is the end of its last word when it ends inside one (0
 * when no space precedes). */
static size_t fitting(pdf_t *c, HPDF_Font f, float size, const char *s, float w, size_t *space)
{
    size_t i = 0;
    float x = 0;
    *space = 0;
    while (s[i]) {
        size_t n = cp_len(s + i);
        float cw = width(c, f, size, s + i, n);
        if (x + cw > w)
            break;
        x += cw;
        i += n;
        if (s[i] == ' ')
            *space = i;
    }
    return i;
}

/* s cut to fit w with an ellipsis after it. */
static const char *ellipsized(pdf_t *c, HPDF_Font f, float size, const char *s, float w)
{
    size_t space, n = fitting(c, f, size, s, w - width(c, f, size, ELLIPSIS, 3), &space);
    while (n > 0 && s[n - 1] == ' ')
        n--;
    return apr_pstrcat(c->p, apr_pstrmemdup(c->p, s, n), ELLIPSIS, NULL);
}

/* s broken at spaces (inside a word when one word is too wide) into at
 * most max lines no wider than w; when more would be needed, the last
 * line ends with an ellipsis.  An array of const char * from c->p. */
static apr_array_header_t *wrap(pdf_t *c, HPDF_Font f, float size, const char *s, float w, int max)
{
    apr_array_header_t *lines = apr_array_make(c->p, 2, sizeof(const char *));
    while (lines->nelts < max) {
        size_t space, n, cut;
        while (*s == ' ')
            s++;
        if (!*s)
            break;
        n = fitting(c, f, size, s, w, &space);
        if (!s[n]) {
            APR_ARRAY_PUSH(lines, const char *) = s;
            break;
        }
        if (lines->nelts + 1 == max) {
            APR_ARRAY_PUSH(lines, const char *) = ellipsized(c, f, size, s, w);
            break;
        }
        cut = s[n] == ' ' ? n : space ? space : n ? n : cp_len(s);
        APR_ARRAY_PUSH(lines, const char *) = apr_pstrmemdup(c->p, s, cut);
        s += cut;
    }
    return lines;
}

/* s on one line of at most w, or "" when it is only spaces. */
static const char *one_line(pdf_t *c, HPDF_Font f, float size, const char *s, float w)
{
    apr_array_header_t *lines = wrap(c, f, size, s, w, 1);
    return lines->nelts ? APR_ARRAY_IDX(lines, 0, const char *) : "";
}

/* Wrapped text from the current y down, advancing y by lead per line. */
static int paragraph(pdf_t *c, HPDF_Font f, float size, float x, float w, float lead,
                     const char *s, int max)
{
    apr_array_header_t *lines = wrap(c, f, size, s, w, max);
    for (int i = 0; i < lines->nelts; i++) {
        c->y -= lead;
        if (text(c, f, size, x, c->y, APR_ARRAY_IDX(lines, i, const char *)))
            return -1;
    }
    return 0;
}

/* ---- the page ---- */

static int new_page(pdf_t *c)
{
    c->step = "adding a page";
    c->page = HPDF_AddPage(c->pdf);
    if (!c->page || ok(c, HPDF_Page_SetSize(c->page, HPDF_PAGE_SIZE_A4, HPDF_PAGE_PORTRAIT)))
        return ok(c, HPDF_FAILD_TO_ALLOC_MEM);
    APR_ARRAY_PUSH(c->pages, HPDF_Page) = c->page;
    c->y = TOP;
    c->step = "drawing";
    return 0;
}

/* The title and status, the document's id. */
static int heading(pdf_t *c)
{
    const inv_t *d = c->inv;
    const char *title = one_line(c, c->bold, 20, d->title, 330);
    c->y -= 20;
    if (gray(c, 0) || text(c, c->bold, 20, LEFT, c->y, title) ||
        text_right(c, c->bold, 12, RIGHT, c->y, apr_pstrcat(c->p, "Status: ", d->status, NULL), 150))
        return -1;
    c->y -= 4;
    return gray(c, 0.35f) || paragraph(c, c->regular, 8.5f, LEFT, RIGHT - LEFT, 12,
                                       apr_pstrcat(c->p, "Document ID: ", d->id, NULL), 2);
}

/* One party's column from top down: its label, name and detail line. */
static int party(pdf_t *c, float x, float top, const char *label, const char *name,
                 const char *detail, float detail_size)
{
    c->y = top - 11;
    if (gray(c, 0.35f) || text(c, c->bold, 9, x, c->y, label) || gray(c, 0) ||
        paragraph(c, c->bold, 11, x, PARTY_W, 14, name, 2))
        return -1;
    return detail && (gray(c, 0.25f) ||
                      paragraph(c, c->regular, detail_size, x, PARTY_W, 12, detail, 2));
}

static int parties(pdf_t *c)
{
    const inv_t *d = c->inv;
    float top = c->y - 18, left;
    if (party(c, LEFT, top, "From", d->seller,
              d->seller_id ? apr_pstrcat(c->p, "Seller ID: ", d->seller_id, NULL) : NULL, 8))
        return -1;
    left = c->y;
    if (party(c, MID, top, "Bill to", d->buyer, d->email, 9.5f))
        return -1;
    if (left < c->y)
        c->y = left;
    return 0;
}

/* A label and its value, the value wrapped beside the label. */
static int fact(pdf_t *c, const char *label, const char *value)
{
    float top = c->y;
    if (gray(c, 0.35f) || text(c, c->regular, 9, LEFT, top - 13, label) || gray(c, 0))
        return -1;
    c->y = top - 1;
    return paragraph(c, c->regular, 9.5f, LEFT + 95, RIGHT - LEFT - 95, 12, value, 2);
}

static int facts(pdf_t *c)
{
    const inv_t *d = c->inv;
    c->y -= 14;
    if (fact(c, "Issued", d->issued) || fact(c, "Paid", d->paid ? d->paid : "not paid") ||
        fact(c, "Payment ID", d->payment_id ? d->payment_id : "none"))
        return -1;
    return d->credits ? fact(c, "Credits invoice", d->credits) : 0;
}

static int table_header(pdf_t *c)
{
    float y = c->y - 24;
    if (gray(c, 0.35f) || text(c, c->bold, 9, LEFT, y, "Description") ||
        text_right(c, c->bold, 9, QTY_R, y, "Quantity", QTY_W) ||
        text_right(c, c->bold, 9, UNIT_R, y, "Unit amount", MONEY_W) ||
        text_right(c, c->bold, 9, AMOUNT_R, y, "Amount", MONEY_W) || gray(c, 0))
        return -1;
    c->y = y - 5;
    return rule(c, LEFT, RIGHT, c->y, 0.8f, 0.3f);
}

/* A continuation page: its heading and the table's header again. */
static int continued(pdf_t *c)
{
    if (new_page(c) || gray(c, 0.35f) ||
        text(c, c->bold, 10, LEFT, c->y - 10, apr_pstrcat(c->p, c->inv->title, " (continued)", NULL)))
        return -1;
    c->y -= 10;
    return gray(c, 0) || table_header(c);
}

static int row(pdf_t *c, const line_t *l)
{
    apr_array_header_t *desc = wrap(c, c->regular, 9, l->description, DESC_W, ROW_LINES);
    float h = (float)desc->nelts * ROW_LEAD + 7, first;
    if (c->y - h < BOTTOM && continued(c))
        return -1;
    first = c->y - ROW_LEAD - 1;
    for (int i = 0; i < desc->nelts; i++)
        if (text(c, c->regular, 9, LEFT, first - (float)i * ROW_LEAD,
                 APR_ARRAY_IDX(desc, i, const char *)))
            return -1;
    if (text_right(c, c->regular, 9, QTY_R, first, l->quantity, QTY_W) ||
        text_right(c, c->regular, 9, UNIT_R, first, l->unit, MONEY_W) ||
        text_right(c, c->regular, 9, AMOUNT_R, first, l->amount, MONEY_W))
        return -1;
    c->y -= h;
    return rule(c, LEFT, RIGHT, c->y, 0.4f, 0.75f);
}

static int total_row(pdf_t *c, HPDF_Font f, float size, const char *label, const char *value)
{
    c->y -= size + 7;
    return text_right(c, f, size, UNIT_R, c->y, one_line(c, f, size, label, UNIT_R - LEFT),
                      UNIT_R - LEFT) ||
           text_right(c, f, size, AMOUNT_R, c->y, value, MONEY_W);
}

/* Where the labels of the totals begin: the rule above the total spans
 * them, from MID or from further left when a tax's name is long. */
static float totals_left(pdf_t *c)
{
    float w = UNIT_R - MID;
    if (c->inv->tax_label) {
        const char *label = one_line(c, c->regular, 9.5f, c->inv->tax_label, UNIT_R - LEFT);
        float tw = width(c, c->regular, 9.5f, label, strlen(label));
        w = tw > w ? tw : w;
    }
    return UNIT_R - w;
}

static int totals(pdf_t *c)
{
    const inv_t *d = c->inv;
    if (c->y - 60 < BOTTOM && continued(c))
        return -1;
    c->y -= 4;
    if (total_row(c, c->regular, 9.5f, "Subtotal", d->subtotal) ||
        (d->tax_label && total_row(c, c->regular, 9.5f, d->tax_label, d->tax)))
        return -1;
    c->y -= 5;
    if (rule(c, totals_left(c), RIGHT, c->y, 0.8f, 0.3f))
        return -1;
    c->y -= 2;
    return total_row(c, c->bold, 11, "Total", d->total);
}

/* The ledger entry's hash and where to check it, in small type. */
static int receipt(pdf_t *c)
{
    const char *hash = c->inv->hash;
    if (c->y - 50 < BOTTOM && new_page(c))
        return -1;
    c->y -= 22;
    if (gray(c, 0.3f) ||
        paragraph(c, c->regular, 7.5f, LEFT, RIGHT - LEFT, 10,
                  apr_pstrcat(c->p, "Receipt hash: ", hash ? hash : "none", NULL), 3))
        return -1;
    if (!hash)
        return 0;
    return paragraph(c, c->regular, 7.5f, LEFT, RIGHT - LEFT, 10,
                     apr_pstrcat(c->p, "It can be checked at /receipts/", hash, NULL), 3);
}

/* The title and "Page i of n" at the foot of every page. */
static int footers(pdf_t *c)
{
    int n = c->pages->nelts;
    for (int i = 0; i < n; i++) {
        c->page = APR_ARRAY_IDX(c->pages, i, HPDF_Page);
        if (gray(c, 0.45f) || rule(c, LEFT, RIGHT, FOOTER_Y + 12, 0.4f, 0.75f) ||
            text(c, c->regular, 8, LEFT, FOOTER_Y,
                 one_line(c, c->regular, 8, c->inv->title, 380)) ||
            text_right(c, c->regular, 8, RIGHT, FOOTER_Y,
                       apr_psprintf(c->p, "Page %d of %d", i + 1, n), 100))
            return -1;
    }
    return 0;
}

static int layout(pdf_t *c)
{
    if (new_page(c) || heading(c) || parties(c) || facts(c) || table_header(c))
        return -1;
    for (size_t i = 0; i < c->inv->n_lines; i++)
        if (row(c, &c->inv->lines[i]))
            return -1;
    return totals(c) || receipt(c) || footers(c);
}

/* ---- the document ---- */

static int readable(apr_pool_t *p, const char *path, const char **why)
{
    apr_file_t *f;
    char buf[120];
    apr_status_t rv = apr_file_open(&f, path, APR_FOPEN_READ, APR_FPROT_OS_DEFAULT, p);
    if (rv != APR_SUCCESS) {
        if (why)
            *why = apr_pstrdup(p, apr_strerror(rv, buf, sizeof(buf)));
        return 0;
    }
    apr_file_close(f);
    return 1;
}

/* The bold face beside a regular ".ttf", or NULL. */
static const char *bold_path(apr_pool_t *p, const char *regular)
{
    size_t n = strlen(regular);
    const char *path;
    if (n < 5 || strcasecmp(regular + n - 4, ".ttf") != 0)
        return NULL;
    path = apr_pstrcat(p, apr_pstrmemdup(p, regular, n - 4), "-Bold", regular + n - 4, NULL);
    return readable(p, path, NULL) ? path : NULL;
}

static HPDF_Font load_font(pdf_t *c, const char *path)
{
    const char *name;
    c->step = apr_pstrcat(c->p, "loading the font ", path, NULL);
    name = HPDF_LoadTTFontFromFile(c->pdf, path, HPDF_TRUE);
    return name && !c->error_no ? HPDF_GetFont(c->pdf, name, "UTF-8") : NULL;
}

/* UTF-8 text in embedded TrueType fonts, compressed streams. */
static int setup(pdf_t *c, const char *font_path)
{
    const char *bold = bold_path(c->p, font_path);
    c->step = "setting up the document";
    /* the creator before the encoder: libharu writes the information
     * dictionary's strings with the current encoder */
    if (ok(c, HPDF_SetCompressionMode(c->pdf, HPDF_COMP_ALL)) ||
        ok(c, HPDF_SetInfoAttr(c->pdf, HPDF_INFO_CREATOR, "Tipzed")) ||
        ok(c, HPDF_UseUTFEncodings(c->pdf)) || ok(c, HPDF_SetCurrentEncoder(c->pdf, "UTF-8")))
        return -1;
    if (!(c->regular = load_font(c, font_path)))
        return ok(c, HPDF_INVALID_FONTDEF_DATA);
    c->bold = bold ? load_font(c, bold) : c->regular;
    return c->bold ? 0 : ok(c, HPDF_INVALID_FONTDEF_DATA);
}

/* The saved document's bytes, copied into p. */
static int save(pdf_t *c, apr_pool_t *p, const char **out, size_t *len)
{
    HPDF_UINT32 size, got = 0;
    char *buf;
    c->step = "saving the document";
    if (ok(c, HPDF_SaveToStream(c->pdf)))
        return -1;
    size = HPDF_GetStreamSize(c->pdf);
    if (size == 0)
        return ok(c, HPDF_INVALID_STREAM);
    buf = apr_palloc(p, size);
    while (got < size) { /* HPDF_STREAM_EOF comes with the last bytes of a short read */
        HPDF_UINT32 n = size - got;
        HPDF_STATUS st = HPDF_ReadFromStream(c->pdf, (HPDF_BYTE *)buf + got, &n);
        got += n;
        if (n == 0 || (st != HPDF_OK && (st != HPDF_STREAM_EOF || got < size)))
            return ok(c, st != HPDF_OK ? st : HPDF_INVALID_STREAM);
    }
    *out = buf;
    *len = size;
    return 0;
}

static const char *haru_error(apr_pool_t *p, const pdf_t *c)
{
    const char *what = c->error_no == HPDF_FAILD_TO_ALLOC_MEM ? "out of memory"
                     : c->error_no == HPDF_FILE_OPEN_ERROR || c->error_no == HPDF_FILE_IO_ERROR
                         ? "cannot read the file"
                     : c->error_no >= HPDF_TTF_CANNOT_EMBEDDING_FONT &&
                               c->error_no <= HPDF_TTF_MISSING_TABLE
                         ? "not a usable TrueType font"
                         : "libharu error";
    return apr_psprintf(p, "PDF rendering failed while %s: %s (0x%04X, detail %u)", c->step, what,
                        (unsigned)c->error_no, (unsigned)c->detail_no);
}

int tz_pdf_invoice(apr_pool_t *p, const json_t *invoice, const char *font_path,
                   const char **out, size_t *len, const char **err)
{
    pdf_t c = {0};
    const char *why = NULL;
    int rc = -1;
    if (!font_path)
        font_path = TZ_PDF_FONT;
    if (apr_pool_create(&c.p, p) != APR_SUCCESS)
        return *err = "out of memory", -1;
    if (!(c.inv = read_invoice(c.p, p, invoice, &why))) {
        *err = why;
    } else if (!readable(c.p, font_path, &why)) {
        *err = apr_psprintf(p, "cannot read the font %s: %s", font_path, why);
    } else if (!(c.pdf = HPDF_New(on_error, &c))) {
        *err = "PDF rendering failed: out of memory";
    } else {
        c.pages = apr_array_make(c.p, 2, sizeof(HPDF_Page));
        rc = setup(&c, font_path) || layout(&c) || save(&c, p, out, len) ? -1 : 0;
        if (rc)
            *err = haru_error(p, &c);
        HPDF_Free(c.pdf);
    }
    apr_pool_destroy(c.p);
    return rc;
}
