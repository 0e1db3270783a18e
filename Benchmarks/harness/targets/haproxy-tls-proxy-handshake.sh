# shellcheck shell=bash disable=SC2034
# Anchor: HAProxy TLS, no auth (as haproxy-tls-proxy), loaded with a new connection and a full
# TLS handshake per request (LOAD=handshake: bin/tlsload, no resumption; see tlsload.c).
PORT=18088
TOKEN=rs256     # header is sent but not checked
AUTH=
SCHEME=https
LOAD=handshake
REF=haproxy-tls-proxy-handshake   # the anchor of the handshake table itself
DESC="HAProxy TLS, no auth: a full handshake per request"
start() {
  LISTEN_PORT=$PORT BIND_TLS="ssl crt $TLS_PEM alpn http/1.1" \
    exec haproxy -db -f "$BENCH_DIR/conf/haproxy-tls.cfg" -f "$BENCH_DIR/conf/haproxy-proxy.cfg"
}
