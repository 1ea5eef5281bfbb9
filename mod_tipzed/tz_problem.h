/* RFC 9457 problem details.  No httpd types. */
#ifndef TZ_PROBLEM_H
#define TZ_PROBLEM_H
#include <apr_pools.h>
#include "tz_json.h"

#define TZ_PROBLEM_TYPE_BASE "https://tipzed.dev/problems/"

/* {"type": base+code, "title": reason phrase of status, "status": status,
 *  "detail": detail, "code": code[, "errors": errors]} -- pool-tied.
 * errors may be NULL; it is referenced, not stolen.  A NULL detail repeats
 * the title; a NULL code becomes "error" ("internal_error" for 5xx). */
json_t *tz_problem_new(apr_pool_t *p, int status, const char *code, const char *detail,
                       json_t *errors);

/* The standard reason phrase ("Unprocessable Content" for 422, ...). */
const char *tz_status_title(int status);

/* A one-element errors array [{"field": field, "message": message}], pool-tied. */
json_t *tz_problem_field(apr_pool_t *p, const char *field, const char *message);

#endif
