/* Invoices and credit notes as PDF: the API's JSON object of one document
 * rendered to an A4 PDF in memory with libharu.  The only file of the core
 * that includes libharu's headers; no httpd types.  See docs/pdf.md. */
#ifndef TZ_PDF_H
#define TZ_PDF_H
#include <stddef.h>
#include <apr_pools.h>
#include <jansson.h>

/* The regular face of Debian's fonts-dejavu-core, used when font_path is
 * NULL.  Its bold face sits beside it (see tz_pdf_invoice). */
#define TZ_PDF_FONT "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"

/* Renders an invoice or credit note, given as the API's object:
 *
 *   {"id", "number", "kind": "invoice" | "credit_note", "status",
 *    "seller": {"id": UUID | null, "name"}, "buyer": {"name", "email"},
 *    "lines": [{"description", "quantity", "unit_amount", "amount"}, ...],
 *    "subtotal", "tax_name": text | null, "tax_rate_bps", "tax_inclusive",
 *    "tax", "total", "currency", "issued_at", "paid_at": RFC 3339 | null,
 *    "payment_id", "credit_for": null | {"id", "number"},
 *    "entry_hash": 64 hex digits | null}
 *
 * Amounts are integers of minor units, printed with two decimals and the
 * currency code ("12.34 ZMW", "-12.34 ZMW"); timestamps are printed as
 * given, to the minute ("2026-12-02 05:23 UTC").  A credit note must name
 * the invoice it credits (credit_for).  Unknown keys are ignored; a status
 * other than paid, refunded or void is printed as it is.
 *
 * font_path names a TrueType font with the glyphs of the names to print
 * (NULL: TZ_PDF_FONT), embedded in the document.  Headings use its bold
 * face, the same path with "-Bold" before a final ".ttf"
 * (DejaVuSans.ttf -> DejaVuSans-Bold.ttf); when there is no such file the
 * regular face serves for headings too.
 *
 * Returns 0 with *out (the PDF's bytes, from p) and *len set, or -1 with
 * *err (from p) saying why: a field missing or of the wrong type (named),
 * a font that cannot be read, or libharu's error.  Every libharu object is
 * freed before returning, on either path.  One libharu document per call
 * and no global state: safe to call from several threads at once. */
int tz_pdf_invoice(apr_pool_t *p, const json_t *invoice, const char *font_path,
                   const char **out, size_t *len, const char **err);

#endif
