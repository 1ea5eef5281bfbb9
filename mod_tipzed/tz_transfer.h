/* Transfers between users' wallets: the server's policy (TipzedTransfers)
 * and what it allows.  Pure functions, no httpd types. */
#ifndef TZ_TRANSFER_H
#define TZ_TRANSFER_H

typedef enum {
    TZ_TRANSFERS_NONE,        /* no transfers at all */
    TZ_TRANSFERS_TO_CREATORS, /* only to a creator (the default) */
    TZ_TRANSFERS_ANY          /* to any other user */
} tz_transfer_policy_e;

/* "none", "to-creators" or "any" (any case): 0 with *out set, -1 otherwise. */
int tz_transfer_policy_parse(const char *s, int *out);

/* Its spelling in the configuration, or NULL for an unknown value. */
const char *tz_transfer_policy_name(int policy);

/* 1 when policy allows a transfer to a user of recipient_role ("fan",
 * "creator", "admin"), else 0 (also for a NULL or unknown role). */
int tz_transfer_policy_ok(int policy, const char *recipient_role);

/* The roles a user may have, NULL-terminated: what the policy is asked about. */
extern const char *const tz_user_roles[];

#endif
