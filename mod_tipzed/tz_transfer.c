/* Transfer policy (see tz_transfer.h). */
#include <string.h>
#include <strings.h>
#include "tz_transfer.h"

const char *const tz_user_roles[] = {"fan", "creator", "admin", NULL};

static const char *const names[] = {"none", "to-creators", "any"};

int tz_transfer_policy_parse(const char *s, int *out)
{
    for (int i = 0; s && i < (int)(sizeof(names) / sizeof(names[0])); i++)
        if (strcasecmp(s, names[i]) == 0) {
            *out = i;
            return 0;
        }
    return -1;
}

const char *tz_transfer_policy_name(int policy)
{
    return policy >= 0 && policy < (int)(sizeof(names) / sizeof(names[0])) ? names[policy] : NULL;
}

static int known_role(const char *role)
{
    for (int i = 0; role && tz_user_roles[i]; i++)
        if (strcmp(role, tz_user_roles[i]) == 0)
            return 1;
    return 0;
}

int tz_transfer_policy_ok(int policy, const char *recipient_role)
{
    if (!known_role(recipient_role))
        return 0;
    switch (policy) {
    case TZ_TRANSFERS_TO_CREATORS:
        return strcmp(recipient_role, "creator") == 0;
    case TZ_TRANSFERS_ANY:
        return 1;
    default:
        return 0;
    }
}
