/* Fixed secrets and clock of the fuzz targets; the seed corpora are signed
 * with them (tests/fuzz/mkseeds.py). */
#ifndef TZ_FUZZ_KEYS_H
#define TZ_FUZZ_KEYS_H
#define TZ_FUZZ_SECRET "whsec_fuzz_0123456789abcdef"
#define TZ_FUZZ_NOW 1700000000LL
#define TZ_FUZZ_TOLERANCE 300LL
/* 48 bytes */
#define TZ_FUZZ_JWT_KEY "fuzz-jwt-key-0123456789abcdef0123456789abcdefXYZ"
#define TZ_FUZZ_ISS "tipzed"
#define TZ_FUZZ_AUD "tipzed-api"
#endif
