import GatewayPolicy
import XCTest

/// `gateway check` lists every error in one run: nothing found only after fixing something else.
extension ConfigErrorTests {
    func testMissingVariablesAreReportedWithEveryOtherError() {
        XCTAssertEqual(errors("""
            listen: {address: "bad", tls: {certificate: "${TLS_CERT}"}}
            token_cache: {max_entries: "${CACHE_ENTRIES}"}
            log: {level: "${LOG_LEVEL}"}
            issuers:
              - name: two
                issuer: https://two
                algorithms: [RS256]
                jwks_file: "${JWKS_FILE}"
                public_key_file: "${KEY_FILE}"
              - name: enc
                issuer: https://enc
                algorithms: [HS256]
                secret_env: "not a name"
                secret_encoding: "${ENCODING}"
            colour: "${NOT_LOOKED_AT}"
            upstreams: {u: {url: "http://${UPSTREAM_HOST}"}}
            routes:
              - {name: r, match: {path: /a, path_prefix: "/${PREFIX}"}, upstream: u, auth: public}
            """), [
                "gw.yml:1:19: invalid address `bad` for `listen.address`: expected HOST:PORT",
                "gw.yml:1:31: missing required key `private_key` in `listen.tls`",
                "gw.yml:1:45: environment variable `TLS_CERT` is not set (used in `listen.tls.certificate`)",
                "gw.yml:2:28: environment variable `CACHE_ENTRIES` is not set (used in `token_cache.max_entries`)",
                "gw.yml:3:14: environment variable `LOG_LEVEL` is not set (used in `log.level`)",
                "gw.yml:8:16: environment variable `JWKS_FILE` is not set (used in `issuers[0].jwks_file`)",
                "gw.yml:9:5: `issuers[0]` has several key sources (`jwks_file`, `public_key_file`); exactly one is allowed",
                "gw.yml:9:22: environment variable `KEY_FILE` is not set (used in `issuers[0].public_key_file`)",
                "gw.yml:13:17: `issuers[1].secret_env` must be an environment variable name, not `not a name`",
                "gw.yml:14:22: environment variable `ENCODING` is not set (used in `issuers[1].secret_encoding`)",
                "gw.yml:15:1: unknown top-level key `colour`",
                "gw.yml:16:22: environment variable `UPSTREAM_HOST` is not set (used in `upstreams.u.url`)",
                "gw.yml:18:33: `routes[0].match` has both `path` and `path_prefix`; exactly one of `path`, `path_prefix` or `path_regex` is allowed",
                "gw.yml:18:46: environment variable `PREFIX` is not set (used in `routes[0].match.path_prefix`)",
            ])
    }

    func testNamesOfEntriesWithOtherErrorsAreStillComparedAndReferencesChecked() {
        XCTAssertEqual(errors("""
            listen: {address: 0.0.0.0:80}
            issuers:
              - {name: a, issuer: "https://x", algorithms: [RS999], jwks_file: x.json}
              - {name: a, issuer: "https://y", algorithms: [RS256], jwks_file: y.json}
              - {name: b, issuer: "https://x", algorithms: [RS256], jwks_file: z.json, clock_skew: soon}
            upstreams: {u: {url: "http://${UPSTREAM_HOST}"}}
            routes:
              - {name: w, match: {path_regex: "/("}, upstream: u, auth: public}
              - {name: w, match: {path: /w}, upstream: v, auth: {issuers: [c]}}
            """), [
                "gw.yml:3:49: unknown algorithm `RS999`",
                "gw.yml:4:12: duplicate issuer name `a`",
                "gw.yml:5:23: issuer `https://x` is already used by issuer `a`; each `issuer` value must pick one entry",
                "gw.yml:5:88: invalid duration `soon` for `issuers[2].clock_skew`: expected a number followed by ms, s, m or h",
                "gw.yml:6:22: environment variable `UPSTREAM_HOST` is not set (used in `upstreams.u.url`)",
                "gw.yml:8:35: `routes[0].match.path_regex` is not a valid regular expression: expected ')'",
                "gw.yml:9:12: duplicate route name `w`",
                "gw.yml:9:44: unknown upstream `v`",
                "gw.yml:9:64: unknown issuer `c`",
            ])
    }

    func testUnknownReferencesAndEnumeratedValuesSayDidYouMean() {
        XCTAssertEqual(errors("""
            listen: {address: 0.0.0.0:80}
            log: {level: warn}
            token_cache: {enabled: ture}
            issuers:
              - {name: corp, issuer: "https://corp", algorithms: [rs256, HS265], jwks_file: c.json}
              - {name: hmac, issuer: "https://h", algorithms: [HS256], secret_env: H, secret_encoding: base46}
              - {name: broken, issuer: "https://b", algorithms: [RS256]}
            upstreams:
              orders: {url: "htps://orders"}
              users: {url: "http://users"}
            routes:
              - {name: a, match: {path: /a}, upstream: order, auth: publc}
              - {name: b, match: {path: /b}, upstream: user, auth: Public}
              - {name: c, match: {path: /c}, upstream: users, auth: {issuers: [crop, brokn, hmca]}}
              - {name: d, match: {path: /d}, upstream: nowhere, auth: {issuers: [elsewhere]}}
            """), [
                "gw.yml:2:14: unknown log level `warn` for `log.level`; did you mean `warning`?",
                "gw.yml:3:24: `token_cache.enabled` must be true or false, not `ture`; did you mean `true`?",
                "gw.yml:5:55: unknown algorithm `rs256`; did you mean `RS256`?",
                "gw.yml:5:62: unknown algorithm `HS265`; did you mean `HS256`?",
                "gw.yml:6:92: `issuers[1].secret_encoding` must be raw, base64 or base64url, not `base46`; did you mean `base64`?",
                "gw.yml:7:5: `issuers[2]` needs exactly one key source: jwks_url, discovery, jwks_file, public_key_file or secret_env",
                "gw.yml:9:17: invalid URL `htps://orders` for `upstreams.orders.url`: scheme must be http or https; did you mean `https`?",
                // `order` and `brokn` name entries that are declared but invalid: still suggested.
                "gw.yml:12:44: unknown upstream `order`; did you mean `orders`?",
                "gw.yml:12:57: `routes[0].auth` must be `public` or a mapping with `issuers`, not `publc`; did you mean `public`?",
                "gw.yml:13:44: unknown upstream `user`; did you mean `users`?",
                "gw.yml:13:56: `routes[1].auth` must be `public` or a mapping with `issuers`, not `Public`; did you mean `public`?",
                "gw.yml:14:68: unknown issuer `crop`; did you mean `corp`?",
                "gw.yml:14:74: unknown issuer `brokn`; did you mean `broken`?",
                "gw.yml:14:81: unknown issuer `hmca`; did you mean `hmac`?",
                "gw.yml:15:44: unknown upstream `nowhere`",
                "gw.yml:15:70: unknown issuer `elsewhere`",
            ])
    }

    func testIssuersWhoseOwnEntriesAreValidComeWithTheErrors() {
        do {
            _ = try ConfigLoader.parse(yaml: """
                listen: {address: 0.0.0.0:80}
                issuers:
                  - {name: good, issuer: "https://g", algorithms: [HS256], secret_env: G_SECRET}
                  - {name: bad, issuer: "https://b", algorithms: [XX]}
                  - {name: good, issuer: "https://g2", algorithms: [RS256], public_key_file: k.pem}
                routes: []
                """, path: "/etc/gw/gw.yml", environment: [:])
            XCTFail("expected errors")
        } catch {
            XCTAssertEqual(error.parsedIssuers.map(\.name), ["good", "good"])
            XCTAssertEqual(error.parsedIssuers.map(\.keySource),
                           [.secretEnv("G_SECRET", .raw), .publicKeyFile("/etc/gw/k.pem")])
        }
    }
}
