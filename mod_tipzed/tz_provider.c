/* The provider table: one row per adapter, indexed by tz_provider_id_e.
 * The rows themselves live with their adapters (tz_prov_*.c). */
#include <string.h>
#include "tz_provider.h"
#include "apr_strings.h"

const tz_provider_t *const tz_providers[TZ_PROV__COUNT] = {
    [TZ_PROV_MOBILE_MONEY] = &tz_provider_generic,
    [TZ_PROV_FLUTTERWAVE] = &tz_provider_flutterwave,
    [TZ_PROV_STRIPE] = &tz_provider_stripe,
    [TZ_PROV_MOMO] = &tz_provider_momo,
    [TZ_PROV_SANDBOX] = &tz_provider_sandbox,
};

int tz_provider_id(const char *name)
{
    for (int i = 0; name && i < TZ_PROV__COUNT; i++)
        if (strcmp(name, tz_providers[i]->name) == 0)
            return i;
    return -1;
}

const char *tz_provider_names(apr_pool_t *p)
{
    const char *names = tz_providers[0]->name;
    for (int i = 1; i < TZ_PROV__COUNT; i++)
        names = apr_pstrcat(p, names, ", ", tz_providers[i]->name, NULL);
    return names;
}
