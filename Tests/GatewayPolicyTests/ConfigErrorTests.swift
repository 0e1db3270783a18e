import GatewayPolicy
import XCTest

/// Every kind of config error, as `gateway check` prints it: `PATH:LINE:COLUMN: message`.
final class ConfigErrorTests: XCTestCase {
    /// The printed errors for `yaml` (fails the test when it parses).
    func errors(_ yaml: String, env: [String: String] = [:], file: StaticString = #filePath, line: UInt = #line) -> [String] {
        do {
            let config = try ConfigLoader.parse(yaml: yaml, path: "gw.yml", environment: env)
            XCTFail("expected errors, got a config with \(config.routes.count) routes", file: file, line: line)
            return []
        } catch {
            return error.errors.map(\.description)
        }
    }

    /// A valid tail (upstream + public route) so each test only adds what it is about.
    static let tail = """
        upstreams: {u: {url: "http://127.0.0.1:9000"}}
        routes: [{name: r, match: {path: /}, upstream: u, auth: public}]
        """

    func testYAMLSyntaxErrorHasYamsLocation() {
        XCTAssertEqual(errors("listen:\n  address: [1, 2\nroutes: []\n"),
                       ["gw.yml:3:7: invalid YAML: did not find expected ',' or ']' (while parsing a flow sequence at line 2, column 12)"])
        XCTAssertEqual(errors("a: 1\n b: 2\n"), ["gw.yml:2:3: invalid YAML: mapping values are not allowed in this context"])
    }

    func testEmptyAndNonMappingRoot() {
        XCTAssertEqual(errors(""), ["gw.yml:1:1: the configuration is empty"])
        XCTAssertEqual(errors("- a\n"), ["gw.yml:1:1: the configuration must be a mapping, not a list"])
        XCTAssertEqual(errors("just text\n"), ["gw.yml:1:1: the configuration must be a mapping, not a string"])
    }

    func testDuplicateKeyIsReportedAtTheLaterOccurrenceWithTheOtherErrors() {
        // The later `listen` is the one reported (and the one checked); the rest of the file
        // is still checked.
        XCTAssertEqual(errors("listen: {address: 0.0.0.0:1}\nlimits: {max_connections: 0}\nlisten: {address: 0.0.0.0:2}\n"), [
            "gw.yml:1:1: missing required top-level key `routes`",
            "gw.yml:2:27: `limits.max_connections` must be greater than zero",
            "gw.yml:3:1: duplicate key `listen` (first at line 1, column 1)",
        ])
        // Three times, nested, quoted, and twice on one line of a flow mapping.
        XCTAssertEqual(errors("""
            listen: {address: 0.0.0.0:1, address: 0.0.0.0:2, "address": bad}
            upstreams:
              u:
                url: "http://u"
                'url': "http://v"
            routes: [{name: r, match: {path: /}, upstream: u, auth: public}]
            """), [
                "gw.yml:1:30: duplicate key `address` (first at line 1, column 10)",
                "gw.yml:1:50: duplicate key `address` (first at line 1, column 10)",
                "gw.yml:1:61: invalid address `bad` for `listen.address`: expected HOST:PORT",
                "gw.yml:5:5: duplicate key `url` (first at line 4, column 5)",
            ])
    }

    func testUnknownKeysWithDidYouMeanAtEveryLevel() {
        XCTAssertEqual(errors("""
            lisen: {address: 0.0.0.0:8080}
            listen: {adress: 0.0.0.0:8080}
            colour: red
            \(Self.tail)
            """), [
                "gw.yml:1:1: unknown top-level key `lisen`; did you mean `listen`?",
                "gw.yml:2:9: missing required key `address` in `listen`",
                "gw.yml:2:10: unknown key `adress` in `listen`; did you mean `address`?",
                "gw.yml:3:1: unknown top-level key `colour`",
            ])
        XCTAssertEqual(errors("""
            listen: {address: 0.0.0.0:8080}
            upstreams: {u: {url: "http://a", timout: 5s}}
            routes:
              - name: r
                match: {path: /, method: [GET]}
                upstream: u
                auth: {issuers: [], scope: [x]}
            """), [
                "gw.yml:2:34: unknown key `timout` in `upstreams.u`; did you mean `timeout`?",
                "gw.yml:5:22: unknown key `method` in `routes[0].match`; did you mean `methods`?",
                "gw.yml:7:21: `routes[0].auth.issuers` must name at least one issuer",
                "gw.yml:7:25: unknown key `scope` in `routes[0].auth`; did you mean `scopes`?",
            ])
    }

    func testMissingRequiredKeysNameTheKeyAndParent() {
        XCTAssertEqual(errors("admin: {address: 127.0.0.1:9090}\n"), [
            "gw.yml:1:1: missing required top-level key `listen`",
            "gw.yml:1:1: missing required top-level key `routes`",
        ])
        XCTAssertEqual(errors("""
            listen: {address: 0.0.0.0:8080}
            upstreams: {u: {url: "http://a"}}
            routes:
              - name: r
                match: {path: /}
                upstream: u
              - match: {methods: [GET]}
                upstream: u
                auth: public
            """), [
                "gw.yml:4:5: missing required key `auth` in `routes[0]` (use `auth: public` for a route without a token)",
                "gw.yml:7:5: missing required key `name` in `routes[1]`",
                "gw.yml:7:12: `routes[1].match` needs exactly one of `path`, `path_prefix` or `path_regex`",
            ])
    }

    func testWrongTypes() {
        XCTAssertEqual(errors("""
            listen: 0.0.0.0:8080
            limits: {max_connections: lots, idle_timeout: [1], max_body_bytes: {a: 1}}
            upstreams: {u: {url: "http://127.0.0.1:9000"}}
            routes: {}
            """), [
                "gw.yml:1:9: `listen` must be a mapping, not a string",
                "gw.yml:2:27: `limits.max_connections` must be a whole number, not `lots`",
                "gw.yml:2:47: `limits.idle_timeout` must be a duration like `30s`, not a list",
                "gw.yml:2:68: `limits.max_body_bytes` must be a size like `16KiB`, not a mapping",
                "gw.yml:4:9: `routes` must be a list, not a mapping",
            ])
    }
}

extension ConfigErrorTests {
    func testListenAndAdminAddresses() {
        XCTAssertEqual(errors("""
            listen:
              address: "::1:8080"
              tls: {certificate: a, private_key: b, min_version: "1.1"}
            admin: {address: "999.1.1.1:80"}
            \(Self.tail)
            """), [
                "gw.yml:2:12: invalid address `::1:8080` for `listen.address`: an IPv6 address must be in brackets, e.g. `[::]:8080`",
                "gw.yml:3:54: `listen.tls.min_version` must be \"1.2\" or \"1.3\", not `1.1`",
                "gw.yml:4:18: invalid address `999.1.1.1:80` for `admin.address`: host must be an IP address or `localhost`",
            ])
        XCTAssertEqual(errors("listen: {address: \"0.0.0.0:65536\"}\n\(Self.tail)"),
                       ["gw.yml:1:19: invalid address `0.0.0.0:65536` for `listen.address`: port must be a number from 0 to 65535"])
        XCTAssertEqual(errors("listen: {address: \"[::1]8080\"}\n\(Self.tail)"),
                       ["gw.yml:1:19: invalid address `[::1]8080` for `listen.address`: expected `:PORT` after `]`"])
        XCTAssertEqual(errors("listen: {address: example.com:80}\n\(Self.tail)"),
                       ["gw.yml:1:19: invalid address `example.com:80` for `listen.address`: host must be an IP address or `localhost`"])
    }

    func testLimitsMustBePositiveAndWellFormed() {
        XCTAssertEqual(errors("""
            listen: {address: 0.0.0.0:80}
            limits:
              max_header_bytes: 0
              max_body_bytes: -1
              header_timeout: 0s
              idle_timeout: 10
              max_connections: 0
              drain_timeout: 5d
            \(Self.tail)
            """), [
                "gw.yml:3:21: `limits.max_header_bytes` must be greater than zero",
                "gw.yml:4:19: invalid size `-1` for `limits.max_body_bytes`: must not be negative",
                "gw.yml:5:19: `limits.header_timeout` must be greater than zero",
                "gw.yml:6:17: invalid duration `10` for `limits.idle_timeout`: missing unit (use ms, s, m or h)",
                "gw.yml:7:20: `limits.max_connections` must be greater than zero",
                "gw.yml:8:18: invalid duration `5d` for `limits.drain_timeout`: unknown unit `d` (use ms, s, m or h)",
            ])
    }

    func testEnvironmentInterpolation() throws {
        let config = try ConfigLoader.parse(yaml: """
            listen: {address: "${HOST}:${PORT}"}
            limits:
              max_connections: "${MAXC}"
              idle_timeout: ${IDLE}
            upstreams: {u: {url: "http://${UP}/v1/"}}
            routes: [{name: r, match: {path: /}, upstream: u, auth: public}]
            """, path: "gw.yml", environment: ["HOST": "127.0.0.1", "PORT": "8081", "MAXC": "7", "IDLE": "2m", "UP": "orders:81"])
        XCTAssertEqual(config.listen, ListenAddress(host: "127.0.0.1", port: 8081))
        XCTAssertEqual(config.limits.maxConnections, 7)
        XCTAssertEqual(config.limits.idleTimeout, 120)
        XCTAssertEqual(config.upstreams["u"], UpstreamConfig(name: "u", scheme: "http", host: "orders", port: 81, basePath: "/v1"))
    }

    func testMissingEnvironmentVariableIsReportedAtItsScalar() {
        XCTAssertEqual(errors("""
            listen:
              address: "${HOST}:${PORT}"
            upstreams:
              u: {url: "http://${UPSTREAM_HOST}"}
            routes: [{name: r, match: {path: "/${P"}, upstream: u, auth: public}]
            """, env: ["PORT": "1"]), [
                "gw.yml:2:12: environment variable `HOST` is not set (used in `listen.address`)",
                "gw.yml:4:12: environment variable `UPSTREAM_HOST` is not set (used in `upstreams.u.url`)",
                "gw.yml:5:34: unterminated `${` in `routes[0].match.path`",
            ])
    }

    func testInterpolatedValuesAreNotEchoedInErrors() {
        // The value may be a secret: the message shows the text as written.
        XCTAssertEqual(errors("listen: {address: \"${ADDR}\"}\n\(Self.tail)", env: ["ADDR": "s3cr3t"]),
                       ["gw.yml:1:19: invalid address `${ADDR}` for `listen.address`: expected HOST:PORT"])
    }

    static let head = "listen: {address: 0.0.0.0:80}\n"

    func testIssuerKeySourceRules() {
        XCTAssertEqual(errors(Self.head + """
            issuers:
              - name: none-src
                issuer: https://a
                algorithms: [RS256]
              - name: two-src
                issuer: https://b
                algorithms: [RS256]
                jwks_file: a.json
                public_key_file: a.pem
              - name: url
                issuer: https://c
                algorithms: [RS256]
                jwks_url: http://c/jwks
              - name: enc
                issuer: https://d
                algorithms: [RS256]
                public_key_file: d.pem
                secret_encoding: base64
              - name: kid
                issuer: https://e
                algorithms: [RS256]
                jwks_file: e.json
                key_id: k
              - name: badenc
                issuer: https://f
                algorithms: [HS256]
                secret_env: F_SECRET
                secret_encoding: hex
            \(Self.tail)
            """), [
                "gw.yml:3:5: `issuers[0]` needs exactly one key source: jwks_url, discovery, jwks_file, public_key_file or secret_env",
                "gw.yml:10:5: `issuers[1]` has several key sources (`jwks_file`, `public_key_file`); exactly one is allowed",
                "gw.yml:14:15: invalid `issuers[2].jwks_url` `http://c/jwks`: must be https (http only for a loopback host)",
                "gw.yml:19:5: `secret_encoding` is only allowed with `secret_env`",
                "gw.yml:24:5: `key_id` is only allowed with `public_key_file` or `secret_env`",
                "gw.yml:29:22: `issuers[5].secret_encoding` must be raw, base64 or base64url, not `hex`",
            ])
    }

    func testIssuerAlgorithmRules() {
        XCTAssertEqual(errors(Self.head + """
            issuers:
              - name: a
                issuer: https://a
                algorithms: [none, rs256, XY999, RS256, HS256]
                public_key_file: a.pem
              - name: b
                issuer: https://b
                algorithms: [HS256, ES256]
                secret_env: B_SECRET
              - name: c
                issuer: https://c
                algorithms: []
                jwks_file: c.json
              - name: d
                issuer: https://d
                jwks_file: d.json
            \(Self.tail)
            """), [
                "gw.yml:5:18: algorithm `none` is never accepted",
                "gw.yml:5:24: unknown algorithm `rs256`; did you mean `RS256`?",
                "gw.yml:5:31: unknown algorithm `XY999`",
                "gw.yml:5:45: algorithm `HS256` needs a `secret_env` or `jwks_file` key source, not `public_key_file`",
                "gw.yml:9:25: algorithm `ES256` needs a public key; `secret_env` only holds an HMAC secret (HS256, HS384, HS512)",
                "gw.yml:13:17: `issuers[2].algorithms` must not be empty",
                "gw.yml:15:5: missing required key `algorithms` in `issuers[3]`",
            ])
    }

    func testIssuerNamesAndIssuerValuesAreUnique() {
        XCTAssertEqual(errors(Self.head + """
            issuers:
              - {name: a, issuer: "https://x", algorithms: [RS256], jwks_file: x.json}
              - {name: a, issuer: "https://y", algorithms: [RS256], jwks_file: y.json}
              - {name: b, issuer: "https://x", algorithms: [RS256], jwks_file: z.json}
              - {issuer: "https://w", algorithms: [RS256], jwks_file: w.json, clock_skew: -1s, require_exp: yes, roles_claim: a..b}
            \(Self.tail)
            """), [
                "gw.yml:4:12: duplicate issuer name `a`",
                "gw.yml:5:23: issuer `https://x` is already used by issuer `a`; each `issuer` value must pick one entry",
                "gw.yml:6:5: missing required key `name` in `issuers[3]`",
                "gw.yml:6:79: invalid duration `-1s` for `issuers[3].clock_skew`: must not be negative",
                "gw.yml:6:97: `issuers[3].require_exp` must be true or false, not `yes`",
                "gw.yml:6:115: `issuers[3].roles_claim` must be a dotted claim path like `realm_access.roles`, without empty parts",
            ])
    }

    func testUpstreamURLRules() {
        XCTAssertEqual(errors(Self.head + """
            upstreams:
              a: {url: "ftp://x"}
              b: {url: "http://user:pw@x"}
              c: {url: "http://x/p?q=1"}
              d: {url: "http://x:0"}
              e: {url: "http://x", tls: {ca_file: ca.pem}}
              f: {url: "https://x", connect_timeout: 1, tls: {client_key: k.pem}}
              g: {timeout: 1s}
              h: {url: "http://x#frag"}
              i: {url: "http:///p"}
            routes: [{name: r, match: {path: /}, upstream: a, auth: public}]
            """), [
                "gw.yml:3:12: invalid URL `ftp://x` for `upstreams.a.url`: scheme must be http or https",
                "gw.yml:4:12: invalid URL `http://user:pw@x` for `upstreams.b.url`: userinfo (user:password@) is not allowed",
                "gw.yml:5:12: invalid URL `http://x/p?q=1` for `upstreams.c.url`: a query is not allowed",
                "gw.yml:6:12: invalid URL `http://x:0` for `upstreams.d.url`: port must be a number from 1 to 65535",
                "gw.yml:7:24: `upstreams.e.tls` is only allowed for an https upstream",
                "gw.yml:8:42: invalid duration `1` for `upstreams.f.connect_timeout`: missing unit (use ms, s, m or h)",
                "gw.yml:8:50: `upstreams.f.tls` needs both `client_certificate` and `client_key`, or neither",
                "gw.yml:9:6: missing required key `url` in `upstreams.g`",
                "gw.yml:10:12: invalid URL `http://x#frag` for `upstreams.h.url`: a fragment is not allowed",
                "gw.yml:11:12: invalid URL `http:///p` for `upstreams.i.url`: missing host",
            ])
    }

    func testIdentityHeaderRules() {
        XCTAssertEqual(errors(Self.head + """
            identity:
              subject_header: "X Auth"
              issuer_header: Connection
              scopes_header: authorization
              claims:
                email: X-Auth-Email
                mail: x-auth-email
                tenant: Transfer-Encoding
              strip_prefixes: ["X-Auth-", "bad prefix"]
            \(Self.tail)
            """), [
                "gw.yml:3:19: `identity.subject_header`: `X Auth` is not a valid header field name",
                "gw.yml:4:18: `identity.issuer_header`: `Connection` cannot be an identity header",
                "gw.yml:5:18: `identity.scopes_header`: `authorization` cannot be an identity header",
                "gw.yml:8:11: `identity.claims.mail`: header `x-auth-email` is already used by `identity.claims.email`",
                "gw.yml:9:13: `identity.claims.tenant`: `Transfer-Encoding` cannot be an identity header",
                "gw.yml:10:31: `identity.strip_prefixes[1]`: `bad prefix` is not a valid header field name prefix",
            ])
    }
}

extension ConfigErrorTests {
    func testClaimHeaderCannotReuseADefaultIdentityHeader() {
        XCTAssertEqual(errors(Self.head + """
            identity:
              claims: {sub: x-auth-subject}
            \(Self.tail)
            """), ["gw.yml:3:17: `identity.claims.sub`: header `x-auth-subject` is already used by `identity.subject_header`"])
    }
}
