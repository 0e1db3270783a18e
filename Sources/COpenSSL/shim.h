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

// libssl (TLS termination, GatewayTLS): SSL_CTX_ctrl-based macros and composite flags
// Swift cannot import.
#include <openssl/x509v3.h>
static inline uint64_t gw_ssl_server_options(void) {
    return SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_TICKET
        | SSL_OP_NO_SSLv3 | SSL_OP_NO_TLSv1 | SSL_OP_NO_TLSv1_1;
}
static inline int gw_ssl_ctx_set_min_proto_version(SSL_CTX *ctx, int version) {
    return (int)SSL_CTX_set_min_proto_version(ctx, version);
}
static inline int gw_ssl_ctx_set_max_proto_version(SSL_CTX *ctx, int version) {
    return (int)SSL_CTX_set_max_proto_version(ctx, version);
}
static inline void gw_ssl_ctx_set_server_mode(SSL_CTX *ctx) {
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
    // One read(2) per arriving flight instead of one per record header and one per record
    // body; the reader then drains what OpenSSL holds (SSL_has_pending) before waiting.
    SSL_CTX_set_read_ahead(ctx, 1);
}
static inline void gw_ssl_ctx_set_session_cache(SSL_CTX *ctx, long size) {
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
    SSL_CTX_sess_set_cache_size(ctx, size);
}
static inline int gw_ssl_ctx_add1_chain_cert(SSL_CTX *ctx, X509 *cert) { return (int)SSL_CTX_add1_chain_cert(ctx, cert); }
static inline int gw_ssl_ctx_set_servername_callback(SSL_CTX *ctx, int (*cb)(SSL *, int *, void *), void *arg) {
    if (SSL_CTX_set_tlsext_servername_callback(ctx, cb) != 1) return 0;
    return (int)SSL_CTX_set_tlsext_servername_arg(ctx, arg);
}
static inline int gw_tlsext_nametype_host_name(void) { return TLSEXT_NAMETYPE_host_name; }
static inline unsigned long gw_xn_flags_rfc4514(void) { return XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB; }
static inline int gw_err_reason(unsigned long code) { return ERR_GET_REASON(code); }
static inline int gw_err_lib(unsigned long code) { return ERR_GET_LIB(code); }
static inline long gw_bio_get_mem_data(BIO *bio, char **out) { return BIO_get_mem_data(bio, out); }
static inline const char *gw_general_name_dns(GENERAL_NAME *name, int *length) {
    if (name->type != GEN_DNS) return NULL;
    *length = ASN1_STRING_length(name->d.dNSName);
    return (const char *)ASN1_STRING_get0_data(name->d.dNSName);
}

#endif
