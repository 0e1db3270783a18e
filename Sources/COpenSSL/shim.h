#ifndef GATEWAY_COPENSSL_SHIM_H
#define GATEWAY_COPENSSL_SHIM_H
// OpenSSL 3 headers used by the gateway. Wrappers go here for macros and
// variadic functions that Swift cannot import.
#include <openssl/evp.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/rsa.h>
#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include <openssl/params.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/ssl.h>

// EVP_PKEY_fromdata selections are composite macros Swift cannot import.
static inline int gw_evp_pkey_public_key_selection(void) { return EVP_PKEY_PUBLIC_KEY; }
static inline int gw_evp_pkey_keypair_selection(void) { return EVP_PKEY_KEYPAIR; }
// OSSL_PARAM_BLD keeps the key-name pointers it is given (they must outlive the
// builder and the params), so Swift passes these static strings, never temporaries.
static inline const char *gw_param_rsa_n(void) { return OSSL_PKEY_PARAM_RSA_N; }
static inline const char *gw_param_rsa_e(void) { return OSSL_PKEY_PARAM_RSA_E; }
static inline const char *gw_param_group_name(void) { return OSSL_PKEY_PARAM_GROUP_NAME; }
static inline const char *gw_param_pub_key(void) { return OSSL_PKEY_PARAM_PUB_KEY; }
// OPENSSL_free is a macro adding the call site; Swift calls this instead.
static inline void gw_openssl_free(void *p) { OPENSSL_free(p); }

#endif
