/* Mail templates: a subject line and a body with {{field}} placeholders
 * filled from an event's JSON data.  Pure functions, no httpd types; the
 * shipped templates are the files of conf/mail, described in docs/mail.md. */
#ifndef TZ_MAILTMPL_H
#define TZ_MAILTMPL_H
#include <apr_pools.h>
#include <jansson.h>

/* A template text: its first line is "Subject: <subject template>", then one empty line, then the body
 * template.  {{name}} and {{a.b.c}} are replaced by the value at that path of data (a JSON object):
 * strings as they are, integers in decimal, true/false, null/missing as the empty string; there is
 * no escaping language.  In the subject, CR and LF of replaced values become spaces.
 * Returns 0 and *subject, *body from p, or -1 with *error when the template is malformed (no Subject line,
 * no blank line, an unterminated "{{").
 *
 * Details: lines may end in LF or CRLF, and a leading UTF-8 byte order mark is skipped; "Subject:" is
 * matched in any case, blanks around the subject are dropped, and the body is everything after the empty
 * line, as it is.  Blanks inside the braces are allowed ("{{ amount_text }}").  A name is one or more
 * dot-separated segments of letters, digits, '_' and '-'; anything else between "{{" and the next "}}"
 * (so also "{{{{x}}") makes the template malformed: there is no way to write a literal "{{".  A path
 * through a non-object, an object or an array as value, and a NULL data all give the empty string; a
 * real number is printed with up to 15 significant digits.  *error is static or from p. */
int tz_mailtmpl_render(apr_pool_t *p, const char *tmpl, const json_t *data, const char **subject,
                       const char **body, const char **error);

#endif
