/* Request-body schemas (see tz_schema.h). */
#include "tz_schema.h"

#define SCHEMA(var, label, tbl) \
    const tz_schema_t var = {label, tbl, sizeof(tbl) / sizeof((tbl)[0])}

static const tz_field_t register_fields[] = {
    {"email", TZ_F_STRING, 1, 3, 254},
    {"password", TZ_F_STRING, 1, 10, 128},
    {"full_name", TZ_F_STRING, 1, 1, 200},
    {"role", TZ_F_STRING, 1, 1, 20},
    {"referral_code", TZ_F_NULLABLE_STRING, 0, 1, 32},
};
SCHEMA(tz_schema_register, "register", register_fields);

static const tz_field_t login_fields[] = {
    {"email", TZ_F_STRING, 1, 1, 254},
    {"password", TZ_F_STRING, 1, 1, 1024},
};
SCHEMA(tz_schema_login, "login", login_fields);

static const tz_field_t refresh_fields[] = {
    {"refresh_token", TZ_F_STRING, 1, 1, 512},
};
SCHEMA(tz_schema_refresh, "refresh", refresh_fields);

static const tz_field_t login_totp_fields[] = {
    {"mfa_token", TZ_F_STRING, 1, 1, 128},
    {"code", TZ_F_NULLABLE_STRING, 0, 1, 16},
    {"recovery_code", TZ_F_NULLABLE_STRING, 0, 1, 32},
};
SCHEMA(tz_schema_login_totp, "login_totp", login_totp_fields);

static const tz_field_t totp_code_fields[] = {{"code", TZ_F_STRING, 1, 1, 16}};
SCHEMA(tz_schema_totp_code, "totp_code", totp_code_fields);

static const tz_field_t forgot_fields[] = {
    {"email", TZ_F_STRING, 1, 3, 254},
};
SCHEMA(tz_schema_forgot, "forgot", forgot_fields);

/* a token is 43 characters; longer strings are refused by length here */
static const tz_field_t reset_fields[] = {
    {"token", TZ_F_STRING, 1, 1, 64},
    {"password", TZ_F_STRING, 1, 10, 128},
};
SCHEMA(tz_schema_reset, "reset", reset_fields);

static const tz_field_t email_token_fields[] = {
    {"token", TZ_F_STRING, 1, 1, 64},
};
SCHEMA(tz_schema_email_token, "email_token", email_token_fields);

static const tz_field_t profile_fields[] = {
    {"full_name", TZ_F_NULLABLE_STRING, 0, 1, 200},
    {"bio", TZ_F_NULLABLE_STRING, 0, 0, 1000},
    {"avatar_url", TZ_F_NULLABLE_STRING, 0, 0, 2048},
    {"bank_account", TZ_F_NULLABLE_STRING, 0, 4, 34},
    {"account_name", TZ_F_NULLABLE_STRING, 0, 1, 200},
};
SCHEMA(tz_schema_profile, "profile", profile_fields);

static const tz_field_t initiate_fields[] = {
    {"creator_id", TZ_F_STRING, 1, 1, 64},
    {"amount", TZ_F_AMOUNT, 1, 0, 0},
    {"currency", TZ_F_STRING, 1, 1, 8},
    {"message", TZ_F_NULLABLE_STRING, 0, 0, 280},
    {"provider", TZ_F_NULLABLE_STRING, 0, 1, 32},
    {"phone_number", TZ_F_NULLABLE_STRING, 0, 6, 20},
    {"source", TZ_F_NULLABLE_STRING, 0, 1, 20},
    {"splits", TZ_F_ARRAY, 0, 0, 0}, /* its entries: tz_split_parse() */
    {"email", TZ_F_NULLABLE_STRING, 0, 3, 254}, /* a guest's, without a token */
    {"name", TZ_F_NULLABLE_STRING, 0, 1, 200},
};
SCHEMA(tz_schema_initiate, "initiate", initiate_fields);

/* a package or an amount (exactly one: checked by the handler) */
static const tz_field_t topup_fields[] = {
    {"package_id", TZ_F_NULLABLE_STRING, 0, 1, 64},
    {"amount", TZ_F_AMOUNT, 0, 0, 0},
    {"currency", TZ_F_NULLABLE_STRING, 0, 3, 3},
    {"provider", TZ_F_NULLABLE_STRING, 0, 1, 32},
    {"phone_number", TZ_F_NULLABLE_STRING, 0, 6, 20},
};
SCHEMA(tz_schema_topup, "topup", topup_fields);

static const tz_field_t payout_request_fields[] = {
    {"amount", TZ_F_AMOUNT, 1, 0, 0},
    {"currency", TZ_F_NULLABLE_STRING, 0, 3, 3},
    {"bank_account", TZ_F_NULLABLE_STRING, 0, 4, 34},
    {"account_name", TZ_F_NULLABLE_STRING, 0, 1, 200},
    {"totp_code", TZ_F_NULLABLE_STRING, 0, 1, 16},
};
SCHEMA(tz_schema_payout_request, "payout_request", payout_request_fields);

static const tz_field_t note_fields[] = {{"note", TZ_F_NULLABLE_STRING, 0, 1, 1000}};
SCHEMA(tz_schema_admin_note, "admin_note", note_fields);

static const tz_field_t reason_fields[] = {{"reason", TZ_F_STRING, 1, 1, 1000}};
SCHEMA(tz_schema_admin_reason, "admin_reason", reason_fields);

static const tz_field_t ref_fields[] = {{"provider_reference", TZ_F_NULLABLE_STRING, 0, 1, 200}};
SCHEMA(tz_schema_admin_ref, "admin_ref", ref_fields);

static const tz_field_t resolve_fields[] = {
    {"action", TZ_F_STRING, 1, 1, 20},
    {"reason", TZ_F_STRING, 1, 1, 1000},
};
SCHEMA(tz_schema_resolve, "resolve", resolve_fields);

static const tz_field_t refund_fields[] = {
    {"amount", TZ_F_AMOUNT, 0, 0, 0},
    {"reason", TZ_F_STRING, 1, 1, 500},
};
SCHEMA(tz_schema_refund, "refund", refund_fields);

static const tz_field_t biller_fields[] = {
    {"name", TZ_F_STRING, 1, 1, 200},
    {"category", TZ_F_STRING, 1, 1, 50},
    {"base_url", TZ_F_STRING, 1, 8, 500},
    {"fee", TZ_F_INT, 1, 0, 9007199254740992LL},
    {"currency", TZ_F_STRING, 1, 3, 3},
    {"customer_pattern", TZ_F_STRING, 1, 1, 200},
};
SCHEMA(tz_schema_biller, "biller", biller_fields);

static const tz_field_t bill_customer_fields[] = {{"customer", TZ_F_STRING, 1, 1, 100}};
SCHEMA(tz_schema_bill_customer, "bill_customer", bill_customer_fields);

static const tz_field_t bill_pay_fields[] = {
    {"biller_id", TZ_F_STRING, 1, 36, 36},
    {"customer", TZ_F_STRING, 1, 1, 100},
    {"amount", TZ_F_AMOUNT, 1, 0, 0},
};
SCHEMA(tz_schema_bill_pay, "bill_pay", bill_pay_fields);
static const tz_field_t transfer_fields[] = {
    {"recipient_id", TZ_F_STRING, 1, 1, 64},
    {"amount", TZ_F_AMOUNT, 1, 0, 0},
    {"currency", TZ_F_NULLABLE_STRING, 0, 3, 3},
    {"note", TZ_F_NULLABLE_STRING, 0, 0, 280},
};
SCHEMA(tz_schema_transfer, "transfer", transfer_fields);

/* signed: a credit (> 0) or a debit (< 0) of the wallet, never 0 (checked
 * by the handler) */
static const tz_field_t adjustment_fields[] = {
    {"amount", TZ_F_INT, 1, -9007199254740992LL, 9007199254740992LL},
    {"currency", TZ_F_STRING, 1, 3, 3},
    {"reason", TZ_F_STRING, 1, 1, 1000},
};
SCHEMA(tz_schema_adjustment, "adjustment", adjustment_fields);

/* amount within TipzedMinPayment..TipzedMaxPayment, currency accepted and
 * bonus at most the amount: checked by the handler */
static const tz_field_t package_fields[] = {
    {"name", TZ_F_STRING, 1, 1, 100},
    {"amount", TZ_F_AMOUNT, 1, 0, 0},
    {"currency", TZ_F_STRING, 1, 3, 3},
    {"bonus", TZ_F_INT, 0, 0, 9007199254740992LL},
    {"active", TZ_F_BOOL, 0, 0, 0},
};
SCHEMA(tz_schema_package, "package", package_fields);

/* at least one field (checked by the handler); the currency never changes */
static const tz_field_t package_patch_fields[] = {
    {"name", TZ_F_STRING, 0, 1, 100},
    {"amount", TZ_F_AMOUNT, 0, 0, 0},
    {"bonus", TZ_F_INT, 0, 0, 9007199254740992LL},
    {"active", TZ_F_BOOL, 0, 0, 0},
};
SCHEMA(tz_schema_package_patch, "package_patch", package_patch_fields);

static const tz_field_t plan_fields[] = {
    {"name", TZ_F_STRING, 1, 1, 100},
    {"description", TZ_F_NULLABLE_STRING, 0, 0, 1000},
    {"amount", TZ_F_AMOUNT, 1, 0, 0},
    {"currency", TZ_F_STRING, 1, 1, 8},
    {"interval", TZ_F_STRING, 1, 1, 16},
    {"trial_days", TZ_F_INT, 0, 0, 365},
    {"splits", TZ_F_ARRAY, 0, 0, 0}, /* its entries: tz_split_parse() */
};
SCHEMA(tz_schema_plan, "plan", plan_fields);

/* at least one field (checked by the handler); a price never changes */
static const tz_field_t plan_patch_fields[] = {
    {"name", TZ_F_STRING, 0, 1, 100},
    {"description", TZ_F_STRING, 0, 0, 1000},
    {"active", TZ_F_BOOL, 0, 0, 0},
};
SCHEMA(tz_schema_plan_patch, "plan_patch", plan_patch_fields);

static const tz_field_t subscribe_fields[] = {
    {"plan_id", TZ_F_STRING, 1, 1, 64},
    {"source", TZ_F_NULLABLE_STRING, 0, 1, 20},
    {"provider", TZ_F_NULLABLE_STRING, 0, 1, 32},
    {"phone_number", TZ_F_NULLABLE_STRING, 0, 6, 20},
};
SCHEMA(tz_schema_subscribe, "subscribe", subscribe_fields);

static const tz_field_t cancel_fields[] = {
    {"at_period_end", TZ_F_BOOL, 0, 0, 0},
};
SCHEMA(tz_schema_cancel, "cancel", cancel_fields);

static const tz_field_t schedule_fields[] = {
    {"creator_id", TZ_F_STRING, 1, 1, 64},
    {"amount", TZ_F_AMOUNT, 1, 0, 0},
    {"currency", TZ_F_STRING, 1, 1, 8},
    {"interval", TZ_F_STRING, 1, 1, 16},
    {"count", TZ_F_INT, 0, 1, 120},
    {"start_at", TZ_F_NULLABLE_STRING, 0, 10, 40},
    {"source", TZ_F_NULLABLE_STRING, 0, 1, 20},
    {"provider", TZ_F_NULLABLE_STRING, 0, 1, 32},
    {"phone_number", TZ_F_NULLABLE_STRING, 0, 6, 20},
    {"message", TZ_F_NULLABLE_STRING, 0, 0, 280},
    {"splits", TZ_F_ARRAY, 0, 0, 0},
};
SCHEMA(tz_schema_schedule, "schedule", schedule_fields);

static const tz_field_t clock_fields[] = {
    {"advance", TZ_F_STRING, 1, 1, 20},
};
SCHEMA(tz_schema_clock, "clock", clock_fields);

/* events: an array of strings, checked by the handler and the database */
static const tz_field_t endpoint_fields[] = {
    {"url", TZ_F_STRING, 1, 1, 2048},
    {"events", TZ_F_ARRAY, 1, 0, 0},
    {"description", TZ_F_NULLABLE_STRING, 0, 0, 200},
};
SCHEMA(tz_schema_endpoint, "endpoint", endpoint_fields);

/* at least one field (checked by the handler) */
static const tz_field_t endpoint_patch_fields[] = {
    {"url", TZ_F_STRING, 0, 1, 2048},
    {"events", TZ_F_ARRAY, 0, 0, 0},
    {"description", TZ_F_STRING, 0, 0, 200},
    {"enabled", TZ_F_BOOL, 0, 0, 0},
};
SCHEMA(tz_schema_endpoint_patch, "endpoint_patch", endpoint_patch_fields);

/* the reason is kept on the user and in the audit log */
static const tz_field_t ops_reason_fields[] = {{"reason", TZ_F_STRING, 1, 1, 500}};
SCHEMA(tz_schema_ops_reason, "ops_reason", ops_reason_fields);

static const tz_field_t me_delete_fields[] = {{"password", TZ_F_STRING, 1, 1, 1024}};
SCHEMA(tz_schema_me_delete, "me_delete", me_delete_fields);

const tz_schema_t *const tz_schemas[] = {
    &tz_schema_register, &tz_schema_login, &tz_schema_refresh,
    &tz_schema_profile, &tz_schema_initiate, &tz_schema_payout_request,
    &tz_schema_admin_note, &tz_schema_admin_reason, &tz_schema_admin_ref, &tz_schema_resolve,
    &tz_schema_refund, &tz_schema_biller, &tz_schema_bill_customer, &tz_schema_bill_pay,
    &tz_schema_transfer, &tz_schema_adjustment, &tz_schema_topup, &tz_schema_package,
    &tz_schema_package_patch, &tz_schema_plan, &tz_schema_plan_patch, &tz_schema_subscribe,
    &tz_schema_cancel, &tz_schema_schedule, &tz_schema_clock, &tz_schema_endpoint,
    &tz_schema_endpoint_patch, &tz_schema_login_totp, &tz_schema_totp_code,
    &tz_schema_ops_reason, &tz_schema_me_delete,
    &tz_schema_forgot, &tz_schema_reset, &tz_schema_email_token,
};
const size_t tz_schemas_n = sizeof(tz_schemas) / sizeof(tz_schemas[0]);
