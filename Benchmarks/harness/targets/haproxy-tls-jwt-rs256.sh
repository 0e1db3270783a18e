# shellcheck shell=bash disable=SC2034
# Anchor: HAProxy terminating TLS (conf/haproxy-tls.cfg) with its JWT RS256 validation
# (conf/haproxy-jwt.cfg); the reference of the gateway's TLS RS256 targets.
PORT=18087
TOKEN=rs256
AUTH=rs256
SCHEME=https
REF=haproxy-tls-jwt-rs256
DESC="HAProxy TLS termination + JWT RS256"
start() {
  LISTEN_PORT=$PORT JWT_ALG=RS256 JWT_KEY="$BENCH_DIR/keys/rs256.pub.pem" \
    BIND_TLS="ssl crt $TLS_PEM alpn http/1.1" \
    exec haproxy -db -f "$BENCH_DIR/conf/haproxy-tls.cfg" -f "$BENCH_DIR/conf/haproxy-jwt.cfg"
}
