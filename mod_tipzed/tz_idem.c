#include <string.h>
#include <stdlib.h>
#include "tz_idem.h"
#include "tz_crypto.h"
#include "apr_strings.h"

char *tz_idem_fingerprint(apr_pool_t *p, const char *method, const char *route,
                          const json_t *body)
{
    char *canon = body ? json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY) : NULL;
    char *text = apr_pstrcat(p, method, " ", route, "\n", canon ? canon : "", NULL);
    free(canon);
    return tz_sha256_hex(p, text, strlen(text));
}
