/* GET /openapi.json: the OpenAPI 3.1 document, embedded at build time from
 * mod_tipzed/openapi.json so the served document is the reviewed file. */
#include "mod_tipzed_handlers.h"
#include "mod_tipzed_http.h"

__asm__(".section .rodata\n"
        ".global tz_openapi_doc\n"
        ".type tz_openapi_doc, @object\n"
        "tz_openapi_doc:\n"
        ".incbin \"openapi.json\"\n"
        ".byte 0\n"
        ".previous\n");
extern const char tz_openapi_doc[];

int tz_h_openapi(tz_req_t *q)
{
    return tz_send_json_text(q->r, HTTP_OK, tz_openapi_doc);
}
