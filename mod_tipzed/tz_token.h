/* Tokens mailed to a user (email verification, password reset): 32 random
 * bytes, sent base64url (43 characters), stored only as the SHA-256 of the
 * bytes.  Pure functions over the CSPRNG and SHA-256 of tz_crypto.c. */
#ifndef TZ_TOKEN_H
#define TZ_TOKEN_H
#include <apr_pools.h>

#define TZ_TOKEN_BYTES 32

/* A fresh token (*token, base64url without padding) and its hash
 * (*hash, 64 lower-case hex digits), from p.  0, or -1 when the CSPRNG
 * fails. */
int tz_token_new(apr_pool_t *p, const char **token, const char **hash);

/* The hash of a token as a client sends it back, or NULL when it is not
 * the canonical base64url of exactly TZ_TOKEN_BYTES bytes (NULL, empty,
 * padded, too long, another alphabet): such a string was never sent. */
const char *tz_token_hash(apr_pool_t *p, const char *token);

/* The link of a mail: "<base>/<page>#token=<token>", or "" when there is
 * no base URL (the mail then carries the token alone).  The token is in the
 * fragment, which a browser never sends: it reaches no server's access log,
 * no proxy and no Referer; the page reads it and posts it. */
const char *tz_token_link(apr_pool_t *p, const char *base, const char *page, const char *token);

#endif
