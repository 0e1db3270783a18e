/*
 * tlsload: full-TLS-handshake load generator for run.sh (targets with LOAD=handshake).
 *
 *   tlsload -p PORT (-d SECONDS | -N COUNT) [-c CONNS] [-P PATH] [-t TOKEN] [-n SNI] [-2]
 *
 * -d: for SECONDS (run.sh); -N: exactly COUNT connections, then exit, 1 if any failed
 * (instructions.sh: callgrind instructions per full handshake; bounded by 20 minutes).
 *
 * Keeps CONNS connections in flight to 127.0.0.1:PORT (one epoll loop, non-blocking
 * sockets). Each connection: TCP connect, a FULL TLS handshake, one
 * `GET PATH` with `Connection: close` (and `Authorization: Bearer TOKEN` when -t is given),
 * the whole response read, then the server's close awaited (the server closes first, so
 * TIME_WAIT stays on its side) and the socket closed; then a new connection takes its place.
 *
 * No resumption, on purpose: every connection gets a NEW `SSL` object and no session is
 * ever set on it (no SSL_set_session), the client session cache is off
 * (SSL_SESS_CACHE_OFF) and SSL_OP_NO_TICKET is set; TLS 1.3 NewSessionTicket messages the
 * server sends are received and dropped. Every finished connection is checked with
 * SSL_session_reused(); a reused one is counted in "resumed" and makes the run invalid.
 *
 * Client side like a browser/curl: SNI (-n, default "localhost"), ALPN "http/1.1", TLS 1.3
 * (or -2: TLS 1.2 only), OpenSSL's default groups (X25519 first). The certificate is not
 * verified (as wrk); the server's CertificateVerify / ServerKeyExchange signature is still
 * checked by the handshake itself.
 *
 * Output: one line `BENCH_JSON {...}` with the same fields as wrk/auth.lua (requests = full
 * handshakes that ended in a complete 200 response; latency = connect start to response
 * end), plus "resumed" and "protocol". Errors: err_connect (TCP or handshake failure),
 * err_read, err_write, err_status (non-200), err_timeout (a connection over 10 s).
 * Loopback only. Build: cc -O2 -o tlsload tlsload.c $(pkg-config --cflags --libs openssl)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum phase { CONNECTING, HANDSHAKING, WRITING, READING, DRAINING };

struct conn {
    int fd;
    SSL *ssl;
    enum phase phase;
    uint64_t started_ns;
    size_t written;
    char in[8192];
    size_t in_len;
};

static SSL_CTX *ctx;
static int port, conns = 32, tls12 = 0;
static double seconds = 0;
static long count = 0, started;
static const char *path = "/api/users/42", *token = NULL, *sni = "localhost";
static char request[4096];
static size_t request_len;
static int ep;
static uint64_t deadline_ns;

static long requests, resumed, err_connect, err_read, err_write, err_status, err_timeout;
static uint64_t bytes;
static uint32_t *lat_us;
static size_t lat_len, lat_cap;
static char protocol[32] = "none";

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void watch(struct conn *c, uint32_t events, int op) {
    struct epoll_event ev = {.events = events, .data.ptr = c};
    if (epoll_ctl(ep, op, c->fd, &ev) != 0) { perror("epoll_ctl"); exit(2); }
}

static void start(struct conn *c);

/* Ends the connection (ok or not) and, before the deadline, starts the next one. */
static void finish(struct conn *c, long *error) {
    if (error) (*error)++;
    if (c->ssl) { SSL_free(c->ssl); c->ssl = NULL; }
    if (c->fd >= 0) { close(c->fd); c->fd = -1; }  /* close() also drops it from the epoll set */
    if (now_ns() < deadline_ns && (count == 0 || started < count)) start(c);
}

static void start(struct conn *c) {
    memset(c, 0, sizeof *c);
    started++;
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) { perror("socket"); exit(2); }
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    c->started_ns = now_ns();
    c->ssl = SSL_new(ctx);  /* a fresh SSL: no session to resume */
    if (!c->ssl || SSL_set_fd(c->ssl, c->fd) != 1 || SSL_set_tlsext_host_name(c->ssl, sni) != 1) {
        fprintf(stderr, "SSL setup failed\n");
        exit(2);
    }
    SSL_set_connect_state(c->ssl);
    if (connect(c->fd, (struct sockaddr *)&sa, sizeof sa) != 0 && errno != EINPROGRESS) {
        finish(c, &err_connect);
        return;
    }
    c->phase = CONNECTING;
    watch(c, EPOLLOUT, EPOLL_CTL_ADD);
}

/* Interest after an SSL call that could not go on. */
static int wait_for(struct conn *c, int ret, long *error) {
    int e = SSL_get_error(c->ssl, ret);
    if (e == SSL_ERROR_WANT_READ) { watch(c, EPOLLIN, EPOLL_CTL_MOD); return 1; }
    if (e == SSL_ERROR_WANT_WRITE) { watch(c, EPOLLOUT, EPOLL_CTL_MOD); return 1; }
    ERR_clear_error();
    finish(c, error);
    if (count > 0 && (requests != count || resumed)) {
        fprintf(stderr, "tlsload: %ld of %ld connections completed, %ld resumed\n", requests, count, resumed);
        return 1;
    }
    return 0;
}

/* Status and completeness of the response in c->in: 1 complete, 0 not yet, -1 malformed. */
static int response_complete(struct conn *c, int *status) {
    c->in[c->in_len < sizeof c->in ? c->in_len : sizeof c->in - 1] = 0;
    char *end = strstr(c->in, "\r\n\r\n");
    if (!end) return c->in_len >= sizeof c->in - 1 ? -1 : 0;
    if (sscanf(c->in, "HTTP/1.%*d %d", status) != 1) return -1;
    long length = -1;
    for (char *line = strstr(c->in, "\r\n"); line && line < end; line = strstr(line + 2, "\r\n")) {
        if (strncasecmp(line + 2, "content-length:", 15) == 0) length = strtol(line + 17, NULL, 10);
    }
    if (length < 0) return -1;  /* both anchors and the gateway send Content-Length here */
    return (size_t)(end + 4 - c->in) + (size_t)length <= c->in_len ? 1 : 0;
}

static void record(struct conn *c) {
    requests++;
    if (SSL_session_reused(c->ssl)) resumed++;
    if (requests == 1) snprintf(protocol, sizeof protocol, "%s", SSL_get_version(c->ssl));
    if (lat_len == lat_cap) {
        lat_cap = lat_cap ? lat_cap * 2 : 65536;
        lat_us = realloc(lat_us, lat_cap * sizeof *lat_us);
        if (!lat_us) { perror("realloc"); exit(2); }
    }
    lat_us[lat_len++] = (uint32_t)((now_ns() - c->started_ns) / 1000);
}

static void step(struct conn *c) {
    for (;;) {
        int r;
        size_t n;
        switch (c->phase) {
        case CONNECTING: {
            int err = 0;
            socklen_t len = sizeof err;
            getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
            if (err) { finish(c, &err_connect); return; }
            c->phase = HANDSHAKING;
            break;
        }
        case HANDSHAKING:
            r = SSL_do_handshake(c->ssl);
            if (r != 1) { wait_for(c, r, &err_connect); return; }
            c->phase = WRITING;
            break;
        case WRITING:
            r = SSL_write_ex(c->ssl, request + c->written, request_len - c->written, &n);
            if (r != 1) { wait_for(c, r, &err_write); return; }
            c->written += n;
            if (c->written == request_len) c->phase = READING;
            break;
        case READING: {
            r = SSL_read_ex(c->ssl, c->in + c->in_len, sizeof c->in - 1 - c->in_len, &n);
            if (r != 1) { wait_for(c, r, &err_read); return; }
            c->in_len += n;
            bytes += n;
            int status = 0, done = response_complete(c, &status);
            if (done < 0) { finish(c, &err_read); return; }
            if (done == 1) {
                if (status != 200) { finish(c, &err_status); return; }
                record(c);
                c->phase = DRAINING;
            }
            break;
        }
        case DRAINING: {
            /* Until the server's close_notify / FIN: it closes first (Connection: close). */
            char sink[512];
            r = SSL_read_ex(c->ssl, sink, sizeof sink, &n);
            if (r == 1) continue;
            int e = SSL_get_error(c->ssl, r);
            if (e == SSL_ERROR_WANT_READ) { watch(c, EPOLLIN, EPOLL_CTL_MOD); return; }
            ERR_clear_error();
            finish(c, NULL);  /* close_notify, EOF or reset after the answer: done */
            return;
        }
        }
    }
}

static int cmp_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static uint32_t percentile(double p) {
    if (!lat_len) return 0;
    size_t i = (size_t)(p / 100.0 * (double)(lat_len - 1) + 0.5);
    return lat_us[i];
}

int main(int argc, char **argv) {
    int opt;
    while ((opt = getopt(argc, argv, "p:d:N:c:P:t:n:2")) != -1) {
        switch (opt) {
        case 'p': port = atoi(optarg); break;
        case 'd': seconds = atof(optarg); break;
        case 'N': count = atol(optarg); seconds = 1200; break;
        case 'c': conns = atoi(optarg); break;
        case 'P': path = optarg; break;
        case 't': token = optarg[0] ? optarg : NULL; break;
        case 'n': sni = optarg; break;
        case '2': tls12 = 1; break;
        default:
            fprintf(stderr, "usage: tlsload -p PORT (-d SECONDS | -N COUNT) [-c CONNS] [-P PATH] [-t TOKEN] [-n SNI] [-2]\n");
            return 2;
        }
    }
    if (count > 0 && count < conns) conns = (int)count;
    if (port <= 0 || conns <= 0 || seconds <= 0) { fprintf(stderr, "tlsload: bad arguments\n"); return 2; }
    signal(SIGPIPE, SIG_IGN);

    ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx) { fprintf(stderr, "SSL_CTX_new failed\n"); return 2; }
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_max_proto_version(ctx, tls12 ? TLS1_2_VERSION : TLS1_3_VERSION);
    static const unsigned char alpn[] = "\x08http/1.1";
    if (SSL_CTX_set_alpn_protos(ctx, alpn, sizeof alpn - 1) != 0) { fprintf(stderr, "ALPN setup failed\n"); return 2; }

    int len = snprintf(request, sizeof request,
                       "GET %s HTTP/1.1\r\nHost: %s:%d\r\n%s%s%sConnection: close\r\n\r\n", path, sni, port,
                       token ? "Authorization: Bearer " : "", token ? token : "", token ? "\r\n" : "");
    if (len <= 0 || (size_t)len >= sizeof request) { fprintf(stderr, "request too long\n"); return 2; }
    request_len = (size_t)len;

    ep = epoll_create1(EPOLL_CLOEXEC);
    struct conn *pool = calloc((size_t)conns, sizeof *pool);
    if (ep < 0 || !pool) { perror("setup"); return 2; }
    uint64_t t0 = now_ns();
    deadline_ns = t0 + (uint64_t)(seconds * 1e9);
    for (int i = 0; i < conns; i++) start(&pool[i]);

    struct epoll_event events[256];
    for (;;) {
        uint64_t now = now_ns();
        if (now >= deadline_ns) break;
        long failed = err_connect + err_read + err_write + err_status + err_timeout;
        if (count > 0 && requests + failed >= count) break;
        int n = epoll_wait(ep, events, 256, 100);
        for (int i = 0; i < n; i++) step(events[i].data.ptr);
        /* A connection stuck for 10 s is a timeout (the server stopped answering). */
        now = now_ns();
        for (int i = 0; i < conns; i++) {
            if (pool[i].fd >= 0 && now - pool[i].started_ns > 10000000000ull) finish(&pool[i], &err_timeout);
        }
    }
    double secs = (double)(now_ns() - t0) / 1e9;
    qsort(lat_us, lat_len, sizeof *lat_us, cmp_u32);
    double mean = 0;
    uint32_t max = 0;
    for (size_t i = 0; i < lat_len; i++) { mean += lat_us[i]; if (lat_us[i] > max) max = lat_us[i]; }
    if (lat_len) mean /= (double)lat_len;
    printf("%ld full handshakes (%ld resumed) in %.2fs: %.1f/s, protocol %s\n", requests, resumed, secs,
           requests / secs, protocol);
    printf("BENCH_JSON {\"requests\":%ld,\"duration_s\":%.3f,\"rps\":%.1f,"
           "\"p50_us\":%u,\"p90_us\":%u,\"p99_us\":%u,\"p999_us\":%u,\"max_us\":%u,\"mean_us\":%.1f,"
           "\"bytes\":%llu,\"err_connect\":%ld,\"err_read\":%ld,\"err_write\":%ld,\"err_status\":%ld,"
           "\"err_timeout\":%ld,\"resumed\":%ld,\"protocol\":\"%s\"}\n",
           requests, secs, requests / secs, percentile(50), percentile(90), percentile(99), percentile(99.9), max,
           mean, (unsigned long long)bytes, err_connect, err_read, err_write, err_status, err_timeout, resumed,
           protocol);
    if (count > 0 && (requests != count || resumed)) {
        fprintf(stderr, "tlsload: %ld of %ld connections completed, %ld resumed\n", requests, count, resumed);
        return 1;
    }
    return 0;
}
