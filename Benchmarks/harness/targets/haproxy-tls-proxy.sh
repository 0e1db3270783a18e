# shellcheck shell=bash disable=SC2034
# Anchor: HAProxy terminating TLS (conf/haproxy-tls.cfg), plain reverse proxy, no auth.
PORT=18086
TOKEN=rs256     # header is sent but not checked
AUTH=
SCHEME=https
REF=haproxy-tls-jwt-rs256   # the ratio column, as haproxy-proxy beside haproxy-jwt-rs256
DESC="HAProxy TLS termination, reverse proxy, no auth"
start() {
  LISTEN_PORT=$PORT BIND_TLS="ssl crt $TLS_PEM alpn http/1.1" \
    exec haproxy -db -f "$BENCH_DIR/conf/haproxy-tls.cfg" -f "$BENCH_DIR/conf/haproxy-proxy.cfg"
}
