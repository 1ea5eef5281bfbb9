/* Every API handler, as the route table (mod_tipzed_routes.c) names them;
 * each is defined in the file of its resource. */
#ifndef MOD_TIPZED_HANDLERS_H
#define MOD_TIPZED_HANDLERS_H
#include "mod_tipzed.h"

/* mod_tipzed_health.c, mod_tipzed_openapi.c */
int tz_h_health(tz_req_t *q);
int tz_h_health_detailed(tz_req_t *q);
int tz_h_openapi(tz_req_t *q);
/* mod_tipzed_metrics.c */
int tz_h_metrics(tz_req_t *q);
/* mod_tipzed_auth.c */
int tz_h_register(tz_req_t *q);
int tz_h_login(tz_req_t *q);
int tz_h_refresh(tz_req_t *q);
int tz_h_logout(tz_req_t *q);
int tz_h_me(tz_req_t *q);
/* mod_tipzed_creators.c, mod_tipzed_wallets.c */
int tz_h_creator_get(tz_req_t *q);
int tz_h_creator_me(tz_req_t *q);
int tz_h_creator_update(tz_req_t *q);
int tz_h_follow(tz_req_t *q);
int tz_h_unfollow(tz_req_t *q);
int tz_h_wallet(tz_req_t *q);
int tz_h_wallet_transactions(tz_req_t *q);
/* mod_tipzed_analytics.c */
int tz_h_creator_analytics(tz_req_t *q);
int tz_h_wallet_statement(tz_req_t *q);
int tz_h_wallet_balance_at(tz_req_t *q);
/* mod_tipzed_topups.c, mod_tipzed_wallet_pay.c */
int tz_h_wallet_topup(tz_req_t *q);
int tz_h_payment_quote(tz_req_t *q);
/* mod_tipzed_transfers.c */
int tz_h_transfer_create(tz_req_t *q);
int tz_h_transfers_list(tz_req_t *q);
/* mod_tipzed_payments.c, mod_tipzed_webhooks.c, mod_tipzed_sandbox.c */
int tz_h_payment_initiate(tz_req_t *q);
int tz_h_payment_get(tz_req_t *q);
int tz_h_payments_list(tz_req_t *q);
int tz_h_payment_refund(tz_req_t *q);
int tz_h_payment_resolve(tz_req_t *q);
int tz_h_webhook(tz_req_t *q);
int tz_h_webhook_generic(tz_req_t *q);
int tz_h_sandbox_checkout(tz_req_t *q);
/* mod_tipzed_return.c */
int tz_h_payment_return(tz_req_t *q);
/* mod_tipzed_payouts.c, mod_tipzed_admin.c */
int tz_h_payout_request(tz_req_t *q);
int tz_h_payouts_me(tz_req_t *q);
int tz_h_payout_cancel(tz_req_t *q);
int tz_h_admin_payouts(tz_req_t *q);
int tz_h_admin_payout_approve(tz_req_t *q);
int tz_h_admin_payout_reject(tz_req_t *q);
int tz_h_admin_payout_process(tz_req_t *q);
int tz_h_admin_payout_complete(tz_req_t *q);
int tz_h_admin_payout_fail(tz_req_t *q);
int tz_h_admin_transactions(tz_req_t *q);
int tz_h_admin_overview(tz_req_t *q);
int tz_h_admin_disputes(tz_req_t *q);
int tz_h_admin_reconciliation(tz_req_t *q);
int tz_h_admin_audit_log(tz_req_t *q);
int tz_h_admin_wallets(tz_req_t *q);
/* mod_tipzed_receipts.c */
int tz_h_receipt(tz_req_t *q);
/* mod_tipzed_bills.c */
int tz_h_biller_create(tz_req_t *q);
int tz_h_billers_list(tz_req_t *q);
int tz_h_biller_validate(tz_req_t *q);
int tz_h_bill_pay(tz_req_t *q);
int tz_h_bills_list(tz_req_t *q);
int tz_h_bill_get(tz_req_t *q);
/* mod_tipzed_adjustments.c */
int tz_h_admin_adjustment_create(tz_req_t *q);
int tz_h_admin_adjustments(tz_req_t *q);
int tz_h_admin_adjustment_approve(tz_req_t *q);
int tz_h_admin_adjustment_reject(tz_req_t *q);
/* mod_tipzed_packages.c */
int tz_h_packages_list(tz_req_t *q);
int tz_h_admin_package_create(tz_req_t *q);
int tz_h_admin_package_update(tz_req_t *q);
/* mod_tipzed_plans.c */
int tz_h_plan_create(tz_req_t *q);
int tz_h_plan_update(tz_req_t *q);
int tz_h_plans_list(tz_req_t *q);
int tz_h_plans_mine(tz_req_t *q);
/* mod_tipzed_subscriptions.c */
int tz_h_subscription_create(tz_req_t *q);
int tz_h_subscription_get(tz_req_t *q);
int tz_h_subscriptions_list(tz_req_t *q);
int tz_h_subscription_cancel(tz_req_t *q);
int tz_h_subscription_resume(tz_req_t *q);
/* mod_tipzed_schedules.c */
int tz_h_schedule_create(tz_req_t *q);
int tz_h_schedule_get(tz_req_t *q);
int tz_h_schedules_list(tz_req_t *q);
int tz_h_schedule_pause(tz_req_t *q);
int tz_h_schedule_resume(tz_req_t *q);
int tz_h_schedule_cancel(tz_req_t *q);
/* mod_tipzed_clock.c */
int tz_h_clock_get(tz_req_t *q);
int tz_h_clock_advance(tz_req_t *q);
int tz_h_billing_run(tz_req_t *q);
/* mod_tipzed_invoices.c */
int tz_h_invoices_list(tz_req_t *q);
int tz_h_invoice_get(tz_req_t *q);
int tz_h_invoice_pdf(tz_req_t *q);
/* mod_tipzed_endpoints.c */
int tz_h_endpoint_create(tz_req_t *q);
int tz_h_endpoints_list(tz_req_t *q);
int tz_h_endpoint_get(tz_req_t *q);
int tz_h_endpoint_update(tz_req_t *q);
int tz_h_endpoint_delete(tz_req_t *q);
int tz_h_endpoint_deliveries(tz_req_t *q);
int tz_h_deliveries_list(tz_req_t *q);
int tz_h_delivery_resend(tz_req_t *q);

#endif
