#ifndef GATEWAY_CCURL_SHIM_H
#define GATEWAY_CCURL_SHIM_H
// Typed wrappers for the parts of libcurl that Swift cannot call directly:
// the variadic curl_easy_setopt / curl_multi_setopt / curl_easy_getinfo, and
// macros with casts (CURL_WRITEFUNC_PAUSE, CURLPAUSE_CONT).
#include <curl/curl.h>

static inline CURLcode gw_easy_setopt_long(CURL *h, CURLoption o, long v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode gw_easy_setopt_off(CURL *h, CURLoption o, curl_off_t v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode gw_easy_setopt_ptr(CURL *h, CURLoption o, void *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode gw_easy_setopt_str(CURL *h, CURLoption o, const char *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode gw_easy_setopt_slist(CURL *h, CURLoption o, struct curl_slist *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode gw_easy_setopt_data_cb(CURL *h, CURLoption o, size_t (*cb)(char *, size_t, size_t, void *)) { return curl_easy_setopt(h, o, cb); }
static inline CURLcode gw_easy_getinfo_long(CURL *h, CURLINFO i, long *v) { return curl_easy_getinfo(h, i, v); }
static inline CURLcode gw_easy_getinfo_ptr(CURL *h, CURLINFO i, void **v) { return curl_easy_getinfo(h, i, v); }
static inline CURLcode gw_easy_getinfo_socket(CURL *h, CURLINFO i, curl_socket_t *v) { return curl_easy_getinfo(h, i, v); }

static inline CURLMcode gw_multi_setopt_long(CURLM *m, CURLMoption o, long v) { return curl_multi_setopt(m, o, v); }
static inline CURLSHcode gw_share_setopt_long(CURLSH *s, CURLSHoption o, long v) { return curl_share_setopt(s, o, v); }
static inline CURLMcode gw_multi_setopt_ptr(CURLM *m, CURLMoption o, void *v) { return curl_multi_setopt(m, o, v); }
static inline CURLMcode gw_multi_setopt_socket_cb(CURLM *m, int (*cb)(CURL *, curl_socket_t, int, void *, void *)) { return curl_multi_setopt(m, CURLMOPT_SOCKETFUNCTION, cb); }
static inline CURLMcode gw_multi_setopt_timer_cb(CURLM *m, int (*cb)(CURLM *, long, void *)) { return curl_multi_setopt(m, CURLMOPT_TIMERFUNCTION, cb); }

static inline size_t gw_writefunc_pause(void) { return CURL_WRITEFUNC_PAUSE; }
static inline size_t gw_readfunc_pause(void) { return CURL_READFUNC_PAUSE; }
static inline size_t gw_readfunc_abort(void) { return CURL_READFUNC_ABORT; }
static inline int gw_pause_cont(void) { return CURLPAUSE_CONT; }
static inline int gw_pause_recv(void) { return CURLPAUSE_RECV; }
static inline int gw_pause_send(void) { return CURLPAUSE_SEND; }
static inline int gw_pause_recv_cont(void) { return CURLPAUSE_RECV_CONT; }
static inline int gw_pause_send_cont(void) { return CURLPAUSE_SEND_CONT; }

// Constants defined through other macros or casts, which Swift does not import.
static inline curl_socket_t gw_socket_timeout(void) { return CURL_SOCKET_TIMEOUT; }
static inline CURLcode gw_global_init(void) { return curl_global_init(CURL_GLOBAL_DEFAULT); }
static inline long gw_pipe_nothing(void) { return CURLPIPE_NOTHING; }
static inline long gw_http_version_1_1(void) { return CURL_HTTP_VERSION_1_1; }

// CURLMsg.data is a union; read the result member in C.
static inline CURLcode gw_msg_result(const CURLMsg *m) { return m->data.result; }

// Socket lifecycle callbacks: the upstream loop opens and closes curl's sockets itself so
// that it knows exactly when a descriptor stops being a connection (see SocketWatcher).
static inline CURLcode gw_easy_setopt_opensocket_cb(CURL *h, curl_socket_t (*cb)(void *, curlsocktype, struct curl_sockaddr *)) { return curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, cb); }
static inline CURLcode gw_easy_setopt_closesocket_cb(CURL *h, int (*cb)(void *, curl_socket_t)) { return curl_easy_setopt(h, CURLOPT_CLOSESOCKETFUNCTION, cb); }

#endif
