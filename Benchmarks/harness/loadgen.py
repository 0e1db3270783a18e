#!/usr/bin/env python3
"""Exact-count HTTP/1.1 keep-alive load for `instructions.sh` (wrk only runs for a duration).

  loadgen.py PORT COUNT [--conns 32] [--path /api/users/42] [--token-file F | --tokens-file F]
             [--timeout 900] [--tls]

Opens CONNS keep-alive connections to 127.0.0.1:PORT and sends exactly COUNT GET requests
over them (one outstanding request per connection, as wrk does), reading each response in
full (Content-Length or chunked). `--token-file`: one token sent with every request;
`--tokens-file`: one token a line, a different one per request in rotation (cache misses).
`--tls`: HTTPS (every connection does one full handshake first, not verified, SNI and Host
`localhost`, ALPN http/1.1), for the TLS targets; the handshakes happen before the counted
requests start. Fails (exit 1) on any non-200 response, a connection closed early, or when the whole run
takes longer than --timeout seconds. Prints one line: `requests=N seconds=S`.
"""
import argparse
import selectors
import socket
import ssl
import sys
import time


def parse_response(buf):
    """Returns (status, consumed bytes) when `buf` starts with a complete response, else None."""
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        return None
    head = buf[:end].split(b"\r\n")
    status = int(head[0].split(b" ")[1])
    length, chunked = 0, False
    for line in head[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value.strip())
        elif name == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    pos = end + 4
    if not chunked:
        return (status, pos + length) if len(buf) >= pos + length else None
    while True:  # RFC 9112 §7.1 chunks, no trailers expected
        line_end = buf.find(b"\r\n", pos)
        if line_end < 0:
            return None
        size = int(buf[pos:line_end].split(b";")[0], 16)
        pos = line_end + 2
        if size == 0:
            return (status, pos + 2) if len(buf) >= pos + 2 else None
        if len(buf) < pos + size + 2:
            return None
        pos += size + 2


def main():
    p = argparse.ArgumentParser()
    p.add_argument("port", type=int)
    p.add_argument("count", type=int)
    p.add_argument("--conns", type=int, default=32)
    p.add_argument("--path", default="/api/users/42")
    p.add_argument("--token-file")
    p.add_argument("--tokens-file")
    p.add_argument("--timeout", type=float, default=900)
    p.add_argument("--tls", action="store_true")
    a = p.parse_args()
    host = "localhost" if a.tls else "127.0.0.1"
    tls = None
    if a.tls:
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        tls.check_hostname = False
        tls.verify_mode = ssl.CERT_NONE
        tls.set_alpn_protocols(["http/1.1"])

    tokens = [None]
    if a.token_file:
        tokens = [open(a.token_file).read().strip()]
    elif a.tokens_file:
        tokens = [t.strip() for t in open(a.tokens_file) if t.strip()]
    requests = []
    for t in tokens:
        auth = f"Authorization: Bearer {t}\r\n" if t else ""
        requests.append(f"GET {a.path} HTTP/1.1\r\nHost: {host}:{a.port}\r\n{auth}\r\n".encode())

    sel = selectors.DefaultSelector()
    conns = []
    for _ in range(min(a.conns, a.count)):
        s = socket.create_connection(("127.0.0.1", a.port), timeout=10)
        if tls:
            s = tls.wrap_socket(s, server_hostname=host)  # blocking handshake, bounded by the timeout
        s.setblocking(False)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conns.append(s)
    sent = done = 0
    next_token = 0
    buffers = {}
    start = time.monotonic()
    deadline = start + a.timeout

    def send(s):
        nonlocal sent, next_token
        data = requests[next_token % len(requests)]
        next_token += 1
        sent += 1
        s.sendall(data)  # a request is far below the socket buffer

    for s in conns:
        buffers[s] = b""
        sel.register(s, selectors.EVENT_READ)
        send(s)
    while done < a.count:
        if time.monotonic() > deadline:
            sys.exit(f"loadgen: timeout after {done} of {a.count} responses")
        for key, _ in sel.select(timeout=1.0):
            s = key.fileobj
            try:
                chunk = s.recv(65536)
            except ssl.SSLWantReadError:  # a TLS record not complete yet (or a session ticket)
                continue
            while tls and chunk and s.pending():  # decrypted bytes select() cannot see
                chunk += s.recv(65536)
            if not chunk:
                sys.exit(f"loadgen: connection closed by the server after {done} responses")
            buf = buffers[s] + chunk
            while True:
                r = parse_response(buf)
                if r is None:
                    break
                status, used = r
                if status != 200:
                    sys.exit(f"loadgen: status {status} (expected 200)")
                buf = buf[used:]
                done += 1
                if sent < a.count:
                    send(s)
            buffers[s] = buf
    elapsed = time.monotonic() - start
    for s in conns:
        s.close()
    print(f"requests={done} seconds={elapsed:.2f}")


if __name__ == "__main__":
    main()
