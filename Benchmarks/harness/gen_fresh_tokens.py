#!/usr/bin/env python3
"""Mint many distinct, valid tokens for the cache-miss target ("gateway-rs256-fresh").

  gen_fresh_tokens.py ALG COUNT   ->  tokens/<alg>.fresh.txt  (one token a line)

Each token carries the same claims as tokens/<alg>.good.jwt plus a unique `jti`, so
every one is a different string. wrk/fresh.lua sends them in rotation; with COUNT
above the gateway's token_cache.max_entries (10,000 by default, FIFO eviction) no
token is still cached when it comes round again, so every request is a cache miss
and pays the full signature verification. Kept if it already holds COUNT lines.
Uses the keys made by gen_tokens.py (run that first).
"""
from __future__ import annotations

import sys

import gen_tokens as g


def main() -> None:
    alg, count = sys.argv[1].upper(), int(sys.argv[2])
    out = g.TOKENS / f"{alg.lower()}.fresh.txt"
    if out.exists() and sum(1 for _ in out.open()) == count:
        return
    rsa_key, ec_key, _, secret = g.load_or_create_keys(False)
    key = {"RS256": rsa_key, "ES256": ec_key, "HS256": secret.encode("ascii")}[alg]
    hdr = {"alg": alg, "typ": "JWT", "kid": f"bench-{alg.lower()}"}
    with open(str(out) + ".tmp", "w") as f:
        for i in range(count):
            f.write(g.sign(alg, key, hdr, g.good_claims(jti=f"fresh-{i:06d}")) + "\n")
    (g.TOKENS / (out.name + ".tmp")).rename(out)


if __name__ == "__main__":
    main()
