/* Invoices and credit notes as PDF: the document's shape, its text read
 * back with pdftotext (names in UTF-8, amounts, the hash), every word
 * inside the page's frame however long the descriptions, the refusals,
 * and the same bytes from several threads at once.
 *
 * TZ_PDF_WRITE=docs/invoice-example.pdf build/std/tests/test_pdf also
 * writes the example invoice there (docs/pdf.md shows it). */
#include "tz_test.h"
#include "tz_json.h"
#include "tz_pdf.h"
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define PDFTOTEXT "/usr/bin/pdftotext"
#define HASH "9f2c4e7a1b3d5f6e8a0c2e4f6a8b0d1e3f5a7c9e1b3d5f7a9c1e3f5b7d9e1f3a"
#define SELLER "Chipo Mwansa-Ngoma \xC5\x81ukasz Zo\xC3\xAB" /* Łukasz Zoë */

/* The paid invoice of a 10.00 ZMW tip with VAT included. */
static const char *INVOICE =
    "{\"id\": \"5f1d7c2a-3b4e-4f60-9a8b-1c2d3e4f5a6b\", \"number\": \"TZ-2026-000001\","
    " \"kind\": \"invoice\", \"status\": \"paid\","
    " \"seller\": {\"id\": \"0e9d8c7b-6a5f-4e3d-8c2b-1a0f9e8d7c6b\", \"name\": \"" SELLER "\"},"
    " \"buyer\": {\"name\": \"Bupe Zulu\", \"email\": \"bupe@example.com\"},"
    " \"lines\": [{\"description\": \"Tip for " SELLER "\", \"quantity\": 1,"
    "             \"unit_amount\": 1000, \"amount\": 1000}],"
    " \"subtotal\": 862, \"tax_name\": \"VAT\", \"tax_rate_bps\": 1600, \"tax_inclusive\": true,"
    " \"tax\": 138, \"total\": 1000, \"currency\": \"ZMW\","
    " \"issued_at\": \"2026-12-02T05:23:30Z\", \"paid_at\": \"2026-12-02T05:23:30Z\","
    " \"payment_id\": \"7a6b5c4d-3e2f-4a1b-8c9d-0e1f2a3b4c5d\", \"credit_for\": null,"
    " \"entry_hash\": \"" HASH "\"}";

static json_t *invoice(void)
{
    json_error_t e;
    json_t *j = tz_json_pool(tz_tp, json_loads(INVOICE, 0, &e));
    ck_assert_msg(j != NULL, "%s", e.text);
    return j;
}

/* Renders j with the default font, asserting success and the PDF's frame. */
static const char *render(json_t *j, size_t *len)
{
    const char *out = NULL, *err = NULL;
    ck_assert_msg(tz_pdf_invoice(tz_tp, j, NULL, &out, len, &err) == 0, "%s", err);
    ck_assert_uint_gt(*len, 1000);
    ck_assert(memcmp(out, "%PDF-", 5) == 0);
    size_t end = *len;
    while (end > 0 && (out[end - 1] == '\n' || out[end - 1] == '\r'))
        end--;
    ck_assert(end >= 5 && memcmp(out + end - 5, "%%EOF", 5) == 0);
    return out;
}

/* What pdftotext prints for the PDF (args: its options), or NULL without it. */
static char *pdftotext(const char *pdf, size_t len, const char *args)
{
    char path[] = "/tmp/tz_test_pdf.XXXXXX", buf[4096];
    char *text = "";
    size_t n;
    int fd;
    FILE *f;
    if (access(PDFTOTEXT, X_OK) != 0)
        return NULL;
    ck_assert_int_ge(fd = mkstemp(path), 0);
    ck_assert(write(fd, pdf, len) == (ssize_t)len);
    close(fd);
    ck_assert_ptr_nonnull(f = popen(apr_psprintf(tz_tp, PDFTOTEXT " -enc UTF-8 %s %s - 2>/dev/null",
                                                 args, path), "r"));
    while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
        text = apr_pstrcat(tz_tp, text, apr_pstrmemdup(tz_tp, buf, n), NULL);
    ck_assert_int_eq(pclose(f), 0);
    unlink(path);
    return text;
}

#define HAS(text, s) ck_assert_msg(strstr(text, s) != NULL, "no \"%s\" in:\n%s", s, text)
#define HAS_NOT(text, s) ck_assert_msg(strstr(text, s) == NULL, "\"%s\" in:\n%s", s, text)

START_TEST(utf8_invoice_reads_back)
{
    size_t len;
    const char *pdf = render(invoice(), &len), *t = pdftotext(pdf, len, "");
    const char *path = getenv("TZ_PDF_WRITE");
    if (path) {
        FILE *f = fopen(path, "wb");
        ck_assert_ptr_nonnull(f);
        ck_assert_uint_eq(fwrite(pdf, 1, len, f), len);
        ck_assert_int_eq(fclose(f), 0);
    }
    if (!t)
        return;
    HAS(t, "Invoice TZ-2026-000001");
    HAS(t, "Status: Paid");
    HAS(t, "Document ID: 5f1d7c2a-3b4e-4f60-9a8b-1c2d3e4f5a6b");
    HAS(t, SELLER);
    HAS(t, "Seller ID: 0e9d8c7b-6a5f-4e3d-8c2b-1a0f9e8d7c6b");
    HAS(t, "Bupe Zulu");
    HAS(t, "bupe@example.com");
    HAS(t, "2026-12-02 05:23 UTC");
    HAS(t, "7a6b5c4d-3e2f-4a1b-8c9d-0e1f2a3b4c5d");
    HAS(t, "Tip for " SELLER);
    HAS(t, "Quantity");
    HAS(t, "Unit amount");
    HAS(t, "10.00 ZMW");
    HAS(t, "8.62 ZMW");
    HAS(t, "VAT 16% (included)");
    HAS(t, "1.38 ZMW");
    HAS(t, "Receipt hash: " HASH);
    HAS(t, "/receipts/" HASH);
    HAS(t, "Page 1 of 1");
    HAS_NOT(t, "Credits invoice");
}
END_TEST

START_TEST(tax_added_fractional_rate_and_none)
{
    json_t *j = invoice();
    size_t len;
    const char *pdf, *t;
    json_object_set_new(j, "tax_inclusive", json_false());
    json_object_set_new(j, "tax_rate_bps", json_integer(1650));
    json_object_set_new(j, "tax_name", json_string("Value added tax"));
    json_object_set_new(j, "subtotal", json_integer(123456789));
    json_object_set_new(j, "tax", json_integer(20370370));
    json_object_set_new(j, "total", json_integer(143827159));
    json_object_set_new(j, "paid_at", json_string("2026-12-02T07:23:30.123+02:00"));
    pdf = render(j, &len);
    if ((t = pdftotext(pdf, len, ""))) {
        HAS(t, "Value added tax 16.5% (added)");
        HAS(t, "1234567.89 ZMW");
        HAS(t, "203703.70 ZMW");
        HAS(t, "1438271.59 ZMW");
        HAS(t, "2026-12-02 07:23 +02:00");
    }
    json_object_set_new(j, "tax_name", json_null());
    json_object_set_new(j, "tax_rate_bps", json_integer(1625));
    pdf = render(j, &len);
    if ((t = pdftotext(pdf, len, ""))) {
        HAS_NOT(t, "Value added tax");
        HAS_NOT(t, "16.25%");
        HAS(t, "Subtotal");
        HAS(t, "Total");
    }
}
END_TEST

START_TEST(credit_note)
{
    json_t *j = invoice(), *line = json_array_get(json_object_get(j, "lines"), 0);
    size_t len;
    const char *pdf, *t;
    json_object_set_new(j, "number", json_string("TZ-2026-000002"));
    json_object_set_new(j, "kind", json_string("credit_note"));
    json_object_set_new(j, "status", json_string("refunded"));
    json_object_set_new(j, "paid_at", json_null());
    json_object_set_new(j, "entry_hash", json_null());
    json_object_set_new(j, "seller", json_pack("{s:n, s:s}", "id", "name", "Tipzed"));
    json_object_set_new(j, "credit_for", json_pack("{s:s, s:s}", "id",
                        "5f1d7c2a-3b4e-4f60-9a8b-1c2d3e4f5a6b", "number", "TZ-2026-000001"));
    json_object_set_new(line, "unit_amount", json_integer(-1000));
    json_object_set_new(line, "amount", json_integer(-1000));
    json_object_set_new(j, "subtotal", json_integer(-862));
    json_object_set_new(j, "tax", json_integer(-138));
    json_object_set_new(j, "total", json_integer(-1000));
    pdf = render(j, &len);
    if (!(t = pdftotext(pdf, len, "")))
        return;
    HAS(t, "Credit note TZ-2026-000002");
    HAS(t, "Status: Refunded");
    HAS(t, "Credits invoice");
    HAS(t, "TZ-2026-000001 (5f1d7c2a-3b4e-4f60-9a8b-1c2d3e4f5a6b)");
    HAS(t, "-10.00 ZMW");
    HAS(t, "-8.62 ZMW");
    HAS(t, "-1.38 ZMW");
    HAS(t, "not paid");
    HAS(t, "Receipt hash: none");
    HAS_NOT(t, "/receipts/");
    HAS_NOT(t, "Seller ID");
}
END_TEST

/* Every word's box from pdftotext -bbox (y from the top) lies inside the
 * margins: 50 points on three sides, the footer 40 points above the bottom. */
static void words_inside_the_frame(const char *html)
{
    const char *w = html;
    int words = 0;
    while ((w = strstr(w, "<word xMin=\"")) != NULL) {
        double x0, y0, x1, y1;
        ck_assert_msg(sscanf(w, "<word xMin=\"%lf\" yMin=\"%lf\" xMax=\"%lf\" yMax=\"%lf\"",
                             &x0, &y0, &x1, &y1) == 4, "%.200s", w);
        ck_assert_msg(x0 >= 49.5 && x1 <= 595.276 - 49.5 && y0 >= 49.5 && y1 <= 841.89 - 30,
                      "a word at (%.1f, %.1f)-(%.1f, %.1f): %.60s", x0, y0, x1, y1, w);
        w++;
        words++;
    }
    ck_assert_int_gt(words, 100);
}

START_TEST(long_descriptions_stay_on_the_page)
{
    json_t *j = invoice(), *lines = json_array(), *rows;
    char word[301];
    const char *prose = "A year of monthly membership for the recording sessions, the live shows "
                        "and the backstage videos of the whole band, with every bonus track ";
    size_t len;
    const char *pdf, *t;
    memset(word, 'W', 300);
    word[300] = '\0';
    json_array_append_new(lines, json_pack("{s:s, s:i, s:i, s:i}", "description",
                          apr_pstrcat(tz_tp, prose, prose, prose, prose, prose, NULL),
                          "quantity", 12, "unit_amount", 5000, "amount", 60000));
    json_array_append_new(lines, json_pack("{s:s, s:I, s:I, s:I}", "description", word,
                          "quantity", (json_int_t)123456789012, "unit_amount",
                          (json_int_t)9007199254740992, "amount", -(json_int_t)9007199254740992));
    for (int i = 0; i < 70; i++)
        json_array_append_new(lines, json_pack("{s:s, s:i, s:i, s:i}", "description",
                              apr_psprintf(tz_tp, "Line %d " SELLER, i + 1), "quantity", 1,
                              "unit_amount", 100, "amount", 100));
    rows = json_pack("{s:s}", "name", apr_pstrcat(tz_tp, SELLER " ", prose, prose, NULL));
    json_object_set_new(j, "buyer", rows);
    json_object_set_new(j, "lines", lines);
    json_object_set_new(j, "tax_name", json_string(apr_pstrcat(tz_tp, "Tax ", prose, NULL)));
    pdf = render(j, &len);
    if (!(t = pdftotext(pdf, len, "")))
        return;
    HAS(t, "\xE2\x80\xA6"); /* the ellipsis of what was cut */
    HAS(t, "Line 70 " SELLER);
    HAS(t, "90071992547409.92 ZMW");
    HAS(t, "-90071992547409.92 ZMW");
    HAS(t, "Page 3 of 3");
    HAS(t, "Invoice TZ-2026-000001 (continued)");
    HAS(t, "Receipt hash: " HASH);
    words_inside_the_frame(pdftotext(pdf, len, "-bbox"));
}
END_TEST

static void refused(json_t *j, const char *font, const char *message)
{
    const char *out = "untouched", *err = NULL;
    size_t len = 7;
    ck_assert_int_eq(tz_pdf_invoice(tz_tp, j, font, &out, &len, &err), -1);
    ck_assert_ptr_nonnull(err);
    ck_assert_msg(strstr(err, message) != NULL, "\"%s\" is not \"%s\"", err, message);
    ck_assert_str_eq(out, "untouched");
    ck_assert_uint_eq(len, 7);
}

START_TEST(malformed_invoices_are_refused)
{
    static const struct { const char *key, *json, *message; } t[] = {
        {"number", NULL, "number must be a non-empty string"},
        {"number", "\"\"", "number must be a non-empty string"},
        {"kind", "\"receipt\"", "kind must be \"invoice\" or \"credit_note\""},
        {"kind", "\"credit_note\"", "credit_for must name the credited invoice"},
        {"seller", "\"Mwila\"", "seller must be an object"},
        {"buyer", "{\"email\": \"b@example.com\"}", "buyer.name must be a non-empty string"},
        {"lines", "[]", "lines must be a non-empty array"},
        {"lines", "[7]", "lines[0] must be an object"},
        {"lines", "[{\"description\": \"x\", \"quantity\": \"1\", \"unit_amount\": 1, \"amount\": 1}]",
         "lines[0].quantity must be an integer"},
        {"lines", "[{\"quantity\": 1, \"unit_amount\": 1, \"amount\": 1}]",
         "lines[0].description must be a non-empty string"},
        {"total", "10.0", "total must be an integer"},
        {"currency", "\"zmw\"", "currency must be an ISO 4217 code"},
        {"tax_rate_bps", "10001", "tax_rate_bps must be between 0 and 10000"},
        {"tax_inclusive", "null", "tax_inclusive must be a boolean"},
        {"issued_at", "\"2026-12-02\"", "issued_at must be an RFC 3339 timestamp"},
        {"paid_at", "\"yesterday\"", "paid_at must be an RFC 3339 timestamp"},
        {"entry_hash", "\"abc\"", "entry_hash must be 64 hexadecimal digits or null"},
        {"credit_for", "{\"id\": \"x\"}", "credit_for.number must be a non-empty string"},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        json_t *j = invoice();
        if (t[i].json)
            json_object_set_new(j, t[i].key, json_loads(t[i].json, JSON_DECODE_ANY, NULL));
        else
            json_object_del(j, t[i].key);
        refused(j, NULL, t[i].message);
    }
    refused(tz_json_pool(tz_tp, json_array()), NULL, "the invoice must be a JSON object");
    refused(NULL, NULL, "the invoice must be a JSON object");
}
END_TEST

START_TEST(fonts_missing_or_broken)
{
    char dir[] = "/tmp/tz_test_font.XXXXXX";
    const char *junk, *face, *out, *err;
    size_t len;
    FILE *f;
    refused(invoice(), "/nonexistent/DejaVuSans.ttf",
            "cannot read the font /nonexistent/DejaVuSans.ttf: No such file or directory");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    /* a file that is no font: libharu's error, and its document freed */
    junk = apr_pstrcat(tz_tp, dir, "/Junk.ttf", NULL);
    ck_assert_ptr_nonnull(f = fopen(junk, "wb"));
    fputs("this is not a TrueType font, however long it goes on for", f);
    fclose(f);
    refused(invoice(), junk, "PDF rendering failed while loading the font");
    /* a face without a -Bold.ttf beside it serves for the headings too */
    face = apr_pstrcat(tz_tp, dir, "/Face.ttf", NULL);
    ck_assert_int_eq(symlink(TZ_PDF_FONT, face), 0);
    ck_assert_msg(tz_pdf_invoice(tz_tp, invoice(), face, &out, &len, &err) == 0, "%s", err);
    ck_assert(memcmp(out, "%PDF-", 5) == 0);
    unlink(face);
    unlink(junk);
    rmdir(dir);
}
END_TEST

typedef struct {
    apr_pool_t *p;
    const char *want;
    size_t want_len;
    int same;
} job_t;

static void *render_thrice(void *arg)
{
    job_t *job = arg;
    json_error_t e;
    json_t *j = json_loads(INVOICE, 0, &e);
    job->same = j != NULL;
    for (int i = 0; i < 3 && job->same; i++) {
        const char *out, *err;
        size_t len;
        job->same = tz_pdf_invoice(job->p, j, NULL, &out, &len, &err) == 0 &&
                    len == job->want_len && memcmp(out, job->want, len) == 0;
    }
    json_decref(j);
    return NULL;
}

/* The same invoice gives the same bytes, also rendered by threads at once. */
START_TEST(same_bytes_from_several_threads)
{
    job_t jobs[4];
    pthread_t t[4];
    size_t len;
    const char *want = render(invoice(), &len);
    for (int i = 0; i < 4; i++) {
        jobs[i] = (job_t){NULL, want, len, 0};
        ck_assert_int_eq(apr_pool_create(&jobs[i].p, NULL), APR_SUCCESS);
        ck_assert_int_eq(pthread_create(&t[i], NULL, render_thrice, &jobs[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        ck_assert_msg(jobs[i].same, "thread %d rendered other bytes", i);
        apr_pool_destroy(jobs[i].p);
    }
}
END_TEST

static Suite *pdf_suite(void)
{
    Suite *s = suite_create("pdf");
    TCase *text = tz_tcase("text"), *refusals = tz_tcase("refusals");
    tcase_add_test(text, utf8_invoice_reads_back);
    tcase_add_test(text, tax_added_fractional_rate_and_none);
    tcase_add_test(text, credit_note);
    tcase_add_test(text, long_descriptions_stay_on_the_page);
    tcase_add_test(text, same_bytes_from_several_threads);
    tcase_add_test(refusals, malformed_invoices_are_refused);
    tcase_add_test(refusals, fonts_missing_or_broken);
    suite_add_tcase(s, text);
    suite_add_tcase(s, refusals);
    return s;
}

TZ_TEST_MAIN(pdf_suite)
