/* Shared scaffolding for the libFuzzer targets: one APR root pool for the
 * process, a subpool per input destroyed after it, and helpers to split
 * the input.  Built with clang -fsanitize=fuzzer for `make fuzz` and with
 * gcc + replay.c for the regression replay inside `make unit`. */
#ifndef TZ_FUZZ_COMMON_H
#define TZ_FUZZ_COMMON_H
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The check that makes a wrong answer a crash the fuzzer reports. */
#define TZ_FUZZ_ASSERT(c)                                                        \
    do {                                                                         \
        if (!(c)) {                                                              \
            fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #c); \
            abort();                                                             \
        }                                                                        \
    } while (0)

static apr_pool_t *tz_fuzz_root;

/* A fresh pool for one input (the root is created on first use). */
static inline apr_pool_t *tz_fuzz_pool(void)
{
    apr_pool_t *p;
    if (!tz_fuzz_root) {
        apr_initialize();
        atexit(apr_terminate);
        apr_pool_create(&tz_fuzz_root, NULL);
    }
    apr_pool_create(&p, tz_fuzz_root);
    return p;
}

/* Splits data at the first NUL or newline: a gets the part before it
 * (NUL-terminated copy), b and blen the rest (also NUL-terminated; blen
 * excludes the terminator).  Without a separator b is empty. */
static inline void tz_fuzz_split(apr_pool_t *p, const uint8_t *data, size_t size, char **a,
                                 char **b, size_t *blen)
{
    size_t i = 0;
    while (i < size && data[i] != '\0' && data[i] != '\n')
        i++;
    *a = apr_pstrmemdup(p, (const char *)data, i);
    if (i < size) {
        *blen = size - i - 1;
        *b = apr_pstrmemdup(p, (const char *)data + i + 1, *blen);
    } else {
        *blen = 0;
        *b = apr_pstrdup(p, "");
    }
}

#endif
