/* scrypt hashes: round trip, format, parameter parsing. */
#include "tz_test.h"
#include "tz_password.h"
#include <string.h>

START_TEST(round_trip_at_owasp_floor)
{
    char *h = tz_password_hash(tz_tp, "correct horse battery");
    tz_scrypt_params_t sp;
    ck_assert_ptr_nonnull(h);
    ck_assert(strncmp(h, "$scrypt$ln=15,r=8,p=3$", 22) == 0);
    ck_assert_int_eq(tz_password_parse(h, &sp), 0);
    ck_assert(sp.ln >= 15 && sp.r >= 8 && sp.p >= 3);
    ck_assert_int_eq(tz_password_verify(tz_tp, "correct horse battery", h), 1);
    ck_assert_int_eq(tz_password_verify(tz_tp, "correct horse batterY", h), 0);
    ck_assert_str_ne(h, tz_password_hash(tz_tp, "correct horse battery")); /* salted */
    ck_assert_int_eq(tz_password_burn(tz_tp, "anything"), 0);
}
END_TEST

START_TEST(cheaper_params_still_verify)
{
    tz_scrypt_params_t cheap = {10, 8, 1};
    char *h = tz_password_hash_with(tz_tp, "pw-1234567", &cheap);
    ck_assert(strncmp(h, "$scrypt$ln=10,r=8,p=1$", 22) == 0);
    ck_assert_int_eq(tz_password_verify(tz_tp, "pw-1234567", h), 1);
}
END_TEST

START_TEST(malformed_hashes)
{
    tz_scrypt_params_t sp;
    const char *bad[] = {
        "", "plain", "$scrypt$ln=15,r=8,p=3$", "$scrypt$ln=15,r=8$AAAA$AAAA",
        "$scrypt$ln=9,r=8,p=3$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "$scrypt$ln=23,r=8,p=3$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "$scrypt$ln=15,r=0,p=3$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "$scrypt$ln=15,r=8,p=99$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "$scrypt$ln=15,r=8,p=3$AAAA!AAA$AAAA", "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA",
        "$scrypt$ln=15,r=8,p=3$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA$extra",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_msg(tz_password_parse(bad[i], &sp) == -1, "parsed: %s", bad[i]);
        ck_assert_int_eq(tz_password_verify(tz_tp, "x", bad[i]), -1);
    }
}
END_TEST

static Suite *password_suite(void)
{
    Suite *s = suite_create("password");
    TCase *tc = tz_tcase("scrypt");
    tcase_add_test(tc, round_trip_at_owasp_floor);
    tcase_add_test(tc, cheaper_params_still_verify);
    tcase_add_test(tc, malformed_hashes);
    suite_add_tcase(s, tc);
    return s;
}

TZ_TEST_MAIN(password_suite)
