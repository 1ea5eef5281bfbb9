/* Mail templates: placeholders by name and path, each JSON type, the
 * subject kept on one line, line ends, and malformed templates; and every
 * shipped template in conf/mail renders against the fields docs/mail.md
 * lists without leaving a placeholder behind. */
#include "tz_test.h"
#include "tz_mailtmpl.h"
#include <stdio.h>
#include <string.h>
#include <dirent.h>

#define NELTS(a) (sizeof(a) / sizeof((a)[0]))

static json_t *data(const char *text)
{
    json_error_t e;
    json_t *j = json_loads(text, 0, &e);
    ck_assert_msg(j != NULL, "%s", e.text);
    return j;
}

static void render_ok(const char *tmpl, const json_t *d, const char *subject, const char *body)
{
    const char *s = NULL, *b = NULL, *err = "unset";
    ck_assert_msg(tz_mailtmpl_render(tz_tp, tmpl, d, &s, &b, &err) == 0, "%s: %s", tmpl, err);
    ck_assert_ptr_null(err);
    ck_assert_str_eq(s, subject);
    ck_assert_str_eq(b, body);
}

START_TEST(fields_and_types)
{
    json_t *d = data("{\"creator_name\":\"Ana Phiri\",\"amount_text\":\"ZMW 12.50\",\"n\":42,"
                     "\"neg\":-7,\"big\":9007199254740993,\"yes\":true,\"no\":false,\"nil\":null,"
                     "\"r\":2.5,\"payment\":{\"id\":\"p-1\",\"fan\":{\"name\":\"Ben\"}},"
                     "\"list\":[1,2],\"obj\":{\"a\":1},\"utf\":\"Zo\\u00eb \\u2713\"}");
    render_ok("Subject: Your tip to {{creator_name}}\n\nYou sent {{amount_text}}.\n", d,
              "Your tip to Ana Phiri", "You sent ZMW 12.50.\n");
    render_ok("Subject: {{n}} {{neg}} {{big}}\n\n{{yes}}/{{no}}/{{nil}}/{{missing}}/{{r}}", d,
              "42 -7 9007199254740993", "true/false///2.5");
    render_ok("Subject: {{payment.id}}\n\n{{payment.fan.name}}|{{payment.fan.age}}|{{payment.id.x}}|"
              "{{n.x}}|{{list}}|{{obj}}|{{nope.deeper}}", d, "p-1", "Ben||||||");
    render_ok("Subject: {{ creator_name }}\n\n{{\tutf\t}}{{a-b}}{{a_b}}{{A9}}", d,
              "Ana Phiri", "Zo\xc3\xab \xe2\x9c\x93");
    render_ok("Subject: no fields at all\n\nplain } { }} text {", d, "no fields at all",
              "plain } { }} text {");
    render_ok("Subject: x\n\n{{creator_name}}{{creator_name}}", d, "x", "Ana PhiriAna Phiri");
    render_ok("Subject: x\n\n{{creator_name}}", NULL, "x", "");
    json_decref(d);
}
END_TEST

START_TEST(subject_one_line_body_as_is)
{
    json_t *d = data("{\"name\":\"Evil\\r\\nBcc: x@evil.test\",\"multi\":\"a\\nb\"}");
    render_ok("Subject: Hi {{name}}\n\n{{multi}}\n", d, "Hi Evil  Bcc: x@evil.test", "a\nb\n");
    render_ok("Subject:{{multi}}  \r\n\r\nline 1\r\nline 2\r\n", d, "a b", "line 1\r\nline 2\r\n");
    render_ok("subject:   padded \t\n\n", d, "padded", "");
    render_ok("SUBJECT: x\n\n\nbody after an empty first line", d, "x",
              "\nbody after an empty first line");
    render_ok("\xef\xbb\xbfSubject: bom\n\nok", d, "bom", "ok");
    render_ok("Subject: \n\nempty subject", d, "", "empty subject");
    json_decref(d);
}
END_TEST

START_TEST(malformed)
{
    static const struct { const char *t, *why; } t[] = {
        {"Hello\n\nbody", "the first line must be \"Subject: ...\""},
        {"", "the first line must be \"Subject: ...\""},
        {" Subject: x\n\nbody", "the first line must be \"Subject: ...\""},
        {"Subj: x\n\nbody", "the first line must be \"Subject: ...\""},
        {"Subject: x", "the Subject line must be followed by an empty line"},
        {"Subject: x\n", "the Subject line must be followed by an empty line"},
        {"Subject: x\nbody", "the Subject line must be followed by an empty line"},
        {"Subject: x\n \nbody", "the Subject line must be followed by an empty line"},
        {"Subject: {{name\n\nbody", "a \"{{\" in the subject is not closed by \"}}\""},
        {"Subject: {{name}\n\nbody", "a \"{{\" in the subject is not closed by \"}}\""},
        {"Subject: x\n\nbody {{name", "a \"{{\" in the body is not closed by \"}}\""},
        {"Subject: x\n\n{{a}} and {{", "a \"{{\" in the body is not closed by \"}}\""},
        {"Subject: x\n\n{{}}", "\"{{}}\" is not a field name"},
        {"Subject: x\n\n{{  }}", "\"{{  }}\" is not a field name"},
        {"Subject: x\n\n{{a b}}", "\"{{a b}}\" is not a field name"},
        {"Subject: x\n\n{{a..b}}", "\"{{a..b}}\" is not a field name"},
        {"Subject: x\n\n{{.a}}", "\"{{.a}}\" is not a field name"},
        {"Subject: x\n\n{{a.}}", "\"{{a.}}\" is not a field name"},
        {"Subject: x\n\n{{{{name}}}}", "\"{{{{name}}\" is not a field name"},
        {"Subject: {{x}y}}\n\n", "\"{{x}y}}\" is not a field name"},
        {"Subject: x\n\n{{na\nme}}", "\"{{na\nme}}\" is not a field name"},
    };
    json_t *d = data("{\"name\":\"n\"}");
    for (size_t i = 0; i < NELTS(t); i++) {
        const char *s = "unset", *b = "unset", *err = NULL;
        ck_assert_msg(tz_mailtmpl_render(tz_tp, t[i].t, d, &s, &b, &err) == -1, "'%s' rendered", t[i].t);
        ck_assert_msg(err && strcmp(err, t[i].why) == 0, "'%s': %s", t[i].t, err ? err : "no error");
    }
    const char *s, *b, *err = NULL;
    ck_assert_int_eq(tz_mailtmpl_render(tz_tp, NULL, d, &s, &b, &err), -1);
    ck_assert_str_eq(err, "no template");
    json_decref(d);
}
END_TEST

/* The shipped templates and the fields docs/mail.md lists for each. */
static const struct { const char *name; const char *fields[9]; } shipped[] = {
    {"payment_succeeded", {"recipient_name", "seller_name", "description", "amount_text",
                           "invoice_number", "id", "created_at", "message"}},
    {"payout_approved", {"recipient_name", "amount_text", "id"}},
    {"payout_completed", {"recipient_name", "amount_text", "id"}},
    {"payout_rejected", {"recipient_name", "amount_text", "reason", "id"}},
    {"payout_failed", {"recipient_name", "amount_text", "reason", "id"}},
    {"subscription_past_due", {"recipient_name", "creator_name", "amount_text", "id", "past_due_since"}},
    {"subscription_canceled", {"recipient_name", "creator_name", "id", "ended_at"}},
    {"schedule_charge_failed", {"recipient_name", "creator_name", "amount_text", "id", "status",
                                "past_due_since"}},
    {"webhook_endpoint_disabled", {"recipient_name", "url", "failing_since", "disabled_reason", "id"}},
    {"email_verification", {"recipient_name", "link", "token", "expires_at"}},
    {"password_reset", {"recipient_name", "link", "token", "expires_at"}},
};

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf = apr_pcalloc(tz_tp, 65536);
    ck_assert_msg(f != NULL, "cannot open %s", path);
    size_t n = fread(buf, 1, 65535, f);
    fclose(f);
    ck_assert_uint_lt(n, 65535);
    return buf;
}

/* Every placeholder of t names one of fields. */
static void assert_only_fields(const char *name, const char *t, const char *const *fields)
{
    for (const char *o = strstr(t, "{{"); o; o = strstr(o + 2, "{{")) {
        const char *c = strstr(o, "}}");
        char *f = apr_pstrmemdup(tz_tp, o + 2, (apr_size_t)(c - o - 2));
        int known = 0;
        for (size_t i = 0; i < 8 && fields[i]; i++)
            known |= strcmp(fields[i], f) == 0;
        ck_assert_msg(known, "%s uses {{%s}}, which docs/mail.md does not list", name, f);
    }
}

/* Lines of at most 78 characters: the mail is read as plain text. */
static void assert_short_lines(const char *name, const char *t)
{
    for (const char *l = t, *e; *l; l = e + 1) {
        e = strchr(l, '\n');
        ck_assert_msg(e != NULL, "%s does not end with a line end", name);
        ck_assert_msg(e - l <= 78, "%s: a line of %d characters", name, (int)(e - l));
    }
}

START_TEST(shipped_templates)
{
    const char *dir = TZ_FIXTURES_DIR "/../../conf/mail";
    DIR *d = opendir(dir);
    struct dirent *e;
    size_t files = 0;
    ck_assert_ptr_nonnull(d);
    while ((e = readdir(d)))
        files += strlen(e->d_name) > 4 && strcmp(e->d_name + strlen(e->d_name) - 4, ".txt") == 0;
    closedir(d);
    ck_assert_uint_eq(files, NELTS(shipped)); /* no template without its row here */
    for (size_t i = 0; i < NELTS(shipped); i++) {
        const char *t = slurp(apr_pstrcat(tz_tp, dir, "/", shipped[i].name, ".txt", NULL));
        const char *s, *b, *err = NULL;
        json_t *data = json_object();
        for (size_t k = 0; k < 8 && shipped[i].fields[k]; k++)
            json_object_set_new(data, shipped[i].fields[k],
                                json_string(apr_pstrcat(tz_tp, "<", shipped[i].fields[k], ">", NULL)));
        ck_assert_msg(tz_mailtmpl_render(tz_tp, t, data, &s, &b, &err) == 0, "%s: %s", shipped[i].name, err);
        json_decref(data);
        assert_only_fields(shipped[i].name, t, shipped[i].fields);
        for (size_t k = 0; k < 8 && shipped[i].fields[k]; k++)
            ck_assert_msg(strstr(apr_pstrcat(tz_tp, s, b, NULL),
                                 apr_pstrcat(tz_tp, "<", shipped[i].fields[k], ">", NULL)),
                          "%s does not use %s", shipped[i].name, shipped[i].fields[k]);
        ck_assert_msg(*s && *b, "%s: empty subject or body", shipped[i].name);
        assert_short_lines(shipped[i].name, t);
        for (const unsigned char *c = (const unsigned char *)t; *c; c++)
            ck_assert_msg(*c == '\n' || (*c >= ' ' && *c < 0x7f), "%s: not plain ASCII text", shipped[i].name);
    }
}
END_TEST

static Suite *mailtmpl_suite(void)
{
    Suite *s = suite_create("mailtmpl");
    TCase *tc = tz_tcase("render");
    tcase_add_test(tc, fields_and_types);
    tcase_add_test(tc, subject_one_line_body_as_is);
    tcase_add_test(tc, malformed);
    tcase_add_test(tc, shipped_templates);
    suite_add_tcase(s, tc);
    return s;
}

TZ_TEST_MAIN(mailtmpl_suite)
