@testable import BertServer
import Foundation
import BertProtocol
import XCTest

/// bertd.toml: the TOML subset, the defaults, every error naming its key and line, overrides,
/// directory variables, and the shipped Deploy/bertd.toml.
final class ConfigurationTests: XCTestCase {
    /// As under systemd: the variables point somewhere other than the fallbacks.
    let systemdEnvironment = ["STATE_DIRECTORY": "/var/lib/private/bertd", "RUNTIME_DIRECTORY": "/run/bertd-test"]

    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    private func parse(_ text: String, environment: [String: String] = [:]) throws -> ServerConfiguration {
        try ServerConfiguration.parse(text, source: "test.toml", environment: environment, baseDirectory: "/etc/bertd")
    }

    /// The error `text` produces; fails the test when it parses.
    private func error(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> ConfigurationError? {
        do {
            _ = try parse(text)
            XCTFail("expected a configuration error", file: file, line: line)
            return nil
        } catch let error as ConfigurationError {
            return error
        } catch {
            XCTFail("expected a ConfigurationError, got \(error)", file: file, line: line)
            return nil
        }
    }

    private func assertError(_ text: String, code: ConfigurationError.Code, key: String?, line: Int?,
                             mentions: String? = nil, file: StaticString = #filePath, line testLine: UInt = #line) {
        guard let error = error(text, file: file, line: testLine) else { return }
        XCTAssertEqual(error.code, code, "\(error)", file: file, line: testLine)
        XCTAssertEqual(error.key, key, "\(error)", file: file, line: testLine)
        XCTAssertEqual(error.line, line, "\(error)", file: file, line: testLine)
        if let key { XCTAssertTrue(error.description.contains(key), "\(error)", file: file, line: testLine) }
        if let line { XCTAssertTrue(error.description.hasPrefix("test.toml:\(line): "), "\(error)", file: file, line: testLine) }
        if let mentions {
            XCTAssertTrue(error.description.contains(mentions), "\(error) should mention \(mentions)", file: file, line: testLine)
        }
    }

    // MARK: TOML

    func testTOMLSubset() throws {
        let root = try TOMLParser.parse("""
            # comment
            title = "basic \\"quoted\\" \\t \\u00e9 \\U0001F600" # trailing comment
            literal = 'C:\\path\\no escapes'
            "quoted key" = 1_000_000
            dotted.inner = -42
            float = 6.5e-3
            positive = +0.5
            yes = true
            no = false
            list = [ 1, 2,
              3, # a comment inside
            ]
            nested = [["a", 'b'], []]

            [table]
            key = "v"
            [table.sub]
            x = 1
            [[items]]
            n = 1
            [[items]]
            n = 2
            [items.detail]
            d = 3
            """)
        XCTAssertEqual(root["title"], .string("basic \"quoted\" \t é 😀"))
        XCTAssertEqual(root["literal"], .string("C:\\path\\no escapes"))
        XCTAssertEqual(root["quoted key"], .integer(1_000_000))
        guard case .table(let dotted) = root["dotted"] else { return XCTFail("dotted key makes a table") }
        XCTAssertEqual(dotted["inner"], .integer(-42))
        XCTAssertEqual(root["float"], .float(6.5e-3))
        XCTAssertEqual(root["positive"], .float(0.5))
        XCTAssertEqual(root["yes"], .boolean(true))
        XCTAssertEqual(root["no"], .boolean(false))
        XCTAssertEqual(root["list"], .array([.integer(1), .integer(2), .integer(3)]))
        XCTAssertEqual(root["nested"], .array([.array([.string("a"), .string("b")]), .array([])]))
        guard case .table(let table) = root["table"], case .table(let sub) = table["sub"] else { return XCTFail("tables") }
        XCTAssertEqual(table["key"], .string("v"))
        XCTAssertEqual(sub["x"], .integer(1))
        XCTAssertEqual(table.entry("key")?.line, 16)
        guard case .tableArray(let items) = root["items"], items.count == 2,
              case .table(let detail) = items[1]["detail"] else { return XCTFail("array of tables") }
        XCTAssertEqual(items[0]["n"], .integer(1))
        XCTAssertEqual(items[1]["n"], .integer(2))
        XCTAssertEqual(detail["d"], .integer(3))
        XCTAssertEqual(items[1].line, 21)
    }

    func testTOMLErrorsNameTheLine() {
        let cases: [(String, Int, String)] = [
            ("a = 1\nb = \n", 2, "expected a value"),
            ("a = \"open\n", 1, "unterminated string"),
            ("a = 'open\n", 1, "unterminated literal"),
            ("\n\na = \"\\q\"", 3, "escape"),
            ("a = 1\na = 2", 2, "defined twice"),
            ("[t]\n[t]", 2, "defined twice"),
            ("a = bare", 1, "strings need quotes"),
            ("a = 1 2", 1, "end of the line"),
            ("a = [1, 2", 1, "unterminated array"),
            ("a = [1\n 2]", 2, "expected ','"),
            ("a = { x = 1 }", 1, "inline tables"),
            ("a = \"\"\"x\"\"\"", 1, "multi-line"),
            ("a = 1979-05-27", 1, "dates"),
            ("a = 0x1F", 1, "decimal"),
            ("a = 1__0", 1, "invalid value"),
            ("a = 01", 1, "invalid value"),
            ("[t\nx = 1", 1, "']'"),
            ("[[t]\n", 1, "']]'"),
            ("= 1", 1, "expected a key"),
            ("a 1", 1, "expected '='"),
            ("t = 1\n[t]", 2, "already an integer"),
        ]
        for (text, line, fragment) in cases {
            XCTAssertThrowsError(try TOMLParser.parse(text), text) { error in
                guard let error = error as? TOMLError else { return XCTFail("\(error)") }
                XCTAssertEqual(error.line, line, "\(text): \(error)")
                XCTAssertTrue(error.message.contains(fragment), "\(text): \(error) should contain \(fragment)")
            }
        }
    }

    // MARK: Defaults

    func testDefaults() {
        let c = ServerConfiguration.defaults(environment: [:])
        XCTAssertEqual(c.threads, 0)
        XCTAssertEqual(c.stateDirectory, "/var/lib/bertd")
        XCTAssertEqual(c.logLevel, .info)
        XCTAssertEqual(c.shutdownGraceMs, 10_000)
        XCTAssertEqual(c.maxMessageBytes, 1_048_576)
        XCTAssertEqual(c.maxTextsPerRequest, 256)
        XCTAssertEqual(c.maxTextBytes, 65_536)
        XCTAssertEqual(c.eventsEndpoint, "ipc:///run/bertd/events.sock")
        XCTAssertEqual(c.statusIntervalMs, 1_000)
        XCTAssertEqual(c.endpoints, [
            .init(address: "tcp://127.0.0.1:5555", operations: ["classify", "embed", "explain", "models", "status", "ping"], curve: false),
            .init(address: "ipc:///run/bertd/bertd.sock",
                  operations: ["classify", "embed", "explain", "models", "status", "ping", "load", "unload", "train", "jobs", "cancel"],
                  curve: false),
        ])
        XCTAssertEqual(c.maxBatchTokens, 8_192)
        XCTAssertEqual(c.maxBatchRequests, 64)
        XCTAssertEqual(c.maxDelayMs, 0)
        XCTAssertEqual(c.maxQueueTokens, 262_144)
        XCTAssertEqual(c.maxQueueRequests, 4_096)
        XCTAssertEqual(c.models, [.init(name: "minilm", path: "/var/lib/bertd/models/all-MiniLM-L6-v2")])
        XCTAssertEqual(c.defaultModel, "minilm")
        XCTAssertNil(c.curveSecretKeyFile)
        XCTAssertNil(c.curveAuthorizedKeysFile)
        XCTAssertEqual(c.shutdownGraceMs, 10_000)
        XCTAssertEqual(try parse("", environment: [:]), c, "an empty file is the defaults")
        XCTAssertNoThrow(try c.validate(source: "defaults", lines: [:]))
    }

    func testSystemdDirectoriesAreExpanded() throws {
        let c = try parse("""
            [server]
            state_directory = "${STATE_DIRECTORY}/sub"
            [models]
            default = "a"
            [models.a]
            path = "$STATE_DIRECTORY/models/a"
            [models.b]
            path = "relative/b"
            [[endpoint]]
            address = "ipc://$RUNTIME_DIRECTORY/x.sock"
            """, environment: systemdEnvironment)
        XCTAssertEqual(c.stateDirectory, "/var/lib/private/bertd/sub")
        XCTAssertEqual(c.models.map(\.path), ["/var/lib/private/bertd/models/a", "/etc/bertd/relative/b"])
        XCTAssertEqual(c.endpoints.map(\.address), ["ipc:///run/bertd-test/x.sock"])
        // Defaults follow the environment too, and the first of several directories is used.
        let d = try parse("", environment: ["STATE_DIRECTORY": "/srv/a:/srv/b", "RUNTIME_DIRECTORY": "/run/x"])
        XCTAssertEqual(d.models[0].path, "/srv/a/models/all-MiniLM-L6-v2")
        XCTAssertEqual(d.eventsEndpoint, "ipc:///run/x/events.sock")
        XCTAssertEqual(d.endpoints[1].address, "ipc:///run/x/bertd.sock")

        assertError("[server]\nstate_directory = \"$HOME/x\"", code: .invalidValue, key: "server.state_directory",
                    line: 2, mentions: "$HOME")
        assertError("[curve]\nsecret_key_file = \"$CREDENTIALS_DIRECTORY/k\"", code: .invalidValue,
                    key: "curve.secret_key_file", line: 2, mentions: "LoadCredential")
    }

    // MARK: A full file

    func testFullFile() throws {
        let directory = try temporaryDirectory()
        let keys = try writeCurveKeys(in: directory)
        let c = try parse("""
            [server]
            threads = 2
            state_directory = "/srv/bertd"
            log_level = "debug"
            shutdown_grace_ms = 2_500
            max_message_bytes = 2_097_152
            max_texts_per_request = 32
            max_text_bytes = 4096
            events_endpoint = "tcp://127.0.0.1:5600"
            status_interval_ms = 250

            [[endpoint]]
            address = "tcp://*:5555"
            operations = ["classify", "ping",]
            curve = true

            [[endpoint]]
            address = "ipc:///run/bertd/admin.sock"
            operations = [
              "*",
            ]

            [[endpoint]]
            address = "inproc://tests"

            [batching]
            max_batch_tokens = 4096
            max_batch_requests = 16
            max_delay_ms = 2
            max_queue_tokens = 100_000
            max_queue_requests = 1000

            [models]
            default = "sst2"
            [models.minilm]
            path = "/srv/models/minilm"
            [models.sst2]
            path = '/srv/models/sst2'
            [models.imdb]
            path = "/srv/models/imdb"
            window = 256
            aggregate = "max"

            [curve]
            secret_key_file = "\(keys.secretFile)"
            authorized_keys_file = "\(keys.authorizedFile)"
            """)
        XCTAssertEqual(c.threads, 2)
        XCTAssertEqual(c.stateDirectory, "/srv/bertd")
        XCTAssertEqual(c.logLevel, .debug)
        XCTAssertEqual(c.shutdownGraceMs, 2_500)
        XCTAssertEqual(c.maxMessageBytes, 2_097_152)
        XCTAssertEqual(c.maxTextsPerRequest, 32)
        XCTAssertEqual(c.maxTextBytes, 4096)
        XCTAssertEqual(c.eventsEndpoint, "tcp://127.0.0.1:5600")
        XCTAssertEqual(c.statusIntervalMs, 250)
        XCTAssertEqual(c.endpoints, [
            .init(address: "tcp://*:5555", operations: ["classify", "ping"], curve: true),
            .init(address: "ipc:///run/bertd/admin.sock", operations: ServerConfiguration.allOperations),
            .init(address: "inproc://tests", operations: ServerConfiguration.publicOperations),
        ])
        XCTAssertTrue(c.endpoints[1].allows("unload"))
        XCTAssertFalse(c.endpoints[2].allows("load"))
        XCTAssertEqual(c.maxBatchTokens, 4096)
        XCTAssertEqual(c.maxBatchRequests, 16)
        XCTAssertEqual(c.maxDelayMs, 2)
        XCTAssertEqual(c.maxQueueTokens, 100_000)
        XCTAssertEqual(c.maxQueueRequests, 1000)
        XCTAssertEqual(c.models, [.init(name: "minilm", path: "/srv/models/minilm"),
                                  .init(name: "sst2", path: "/srv/models/sst2"),
                                  .init(name: "imdb", path: "/srv/models/imdb",
                                        longDocuments: LongDocumentSettings(window: 256, aggregate: "max"))])
        XCTAssertEqual(c.defaultModel, "sst2")
        XCTAssertEqual(c.defaultModelEntry?.path, "/srv/models/sst2")
        XCTAssertEqual(c.curveSecretKeyFile, keys.secretFile)
        XCTAssertEqual(try c.loadCurveKeys(), .init(secretKey: keys.secret, authorizedKeys: keys.authorized))
    }

    func testOneModelWithoutDefaultIsTheDefault() throws {
        let c = try parse("[models.sst2]\npath = \"/m\"")
        XCTAssertEqual(c.models, [.init(name: "sst2", path: "/m")])
        XCTAssertEqual(c.defaultModel, "sst2")
    }

    func testLoadReadsAFileAndResolvesRelativePathsBesideIt() throws {
        let directory = try temporaryDirectory()
        let file = directory + "/bertd.toml"
        try "[models.local]\npath = \"models/local\"\n".write(toFile: file, atomically: true, encoding: .utf8)
        let c = try ServerConfiguration.load(path: file, environment: [:])
        XCTAssertEqual(c.models, [.init(name: "local", path: directory + "/models/local")])

        XCTAssertThrowsError(try ServerConfiguration.load(path: directory + "/missing.toml", environment: [:])) { error in
            let error = error as? ConfigurationError
            XCTAssertEqual(error?.code, .unreadableFile)
            XCTAssertEqual(error?.source, directory + "/missing.toml")
            XCTAssertTrue(error?.description.contains("no such file") ?? false, "\(String(describing: error))")
        }
    }

    // MARK: Every error names its key and line

    func testUnknownKeysAreNamedWithTheirLine() {
        assertError("[server]\nthreds = 2", code: .unknownKey, key: "server.threds", line: 2, mentions: "did you mean 'threads'")
        assertError("[batching]\n\nmax_batch = 1", code: .unknownKey, key: "batching.max_batch", line: 3)
        assertError("[curve]\npublic_key_file = \"/k\"", code: .unknownKey, key: "curve.public_key_file", line: 2)
        assertError("[[endpoint]]\naddress = \"tcp://a:1\"\nport = 5", code: .unknownKey, key: "endpoint.0.port", line: 3)
        assertError("[models]\nfallback = \"x\"", code: .unknownKey, key: "models.fallback", line: 2)
        assertError("[models.a]\npath = \"/a\"\nsize = 3", code: .unknownKey, key: "models.a.size", line: 3)
        assertError("\n[sever]\nthreads = 1", code: .unknownKey, key: "sever", line: 2, mentions: "did you mean 'server'")
        assertError("threads = 1", code: .unknownKey, key: "threads", line: 1, mentions: "[server]")
        assertError("[server.extra]\nx = 1", code: .unknownKey, key: "server.extra", line: 1)
    }

    func testWrongTypesNameTheKey() {
        assertError("[server]\nthreads = \"2\"", code: .wrongType, key: "server.threads", line: 2, mentions: "expected an integer, found a string")
        assertError("[server]\nthreads = 2.0", code: .wrongType, key: "server.threads", line: 2, mentions: "found a float")
        assertError("[server]\nlog_level = 3", code: .wrongType, key: "server.log_level", line: 2)
        assertError("[batching]\nmax_delay_ms = true", code: .wrongType, key: "batching.max_delay_ms", line: 2)
        assertError("[[endpoint]]\naddress = \"tcp://a:1\"\ncurve = \"yes\"", code: .wrongType, key: "endpoint.0.curve", line: 3)
        assertError("[[endpoint]]\naddress = \"tcp://a:1\"\noperations = \"ping\"", code: .wrongType,
                    key: "endpoint.0.operations", line: 3)
        assertError("[[endpoint]]\naddress = \"tcp://a:1\"\noperations = [1]", code: .wrongType,
                    key: "endpoint.0.operations", line: 3)
        assertError("[models.a]\npath = 1", code: .wrongType, key: "models.a.path", line: 2)
        assertError("[server]\nstate_directory = [\"/a\"]", code: .wrongType, key: "server.state_directory", line: 2)
        assertError("server = 1", code: .wrongType, key: "server", line: 1)
        assertError("[endpoint]\naddress = \"tcp://a:1\"", code: .wrongType, key: "endpoint", line: 1, mentions: "[[endpoint]]")
    }

    func testInvalidValuesNameTheKey() {
        for key in ["max_message_bytes", "max_texts_per_request", "max_text_bytes", "status_interval_ms"] {
            assertError("[server]\n\(key) = 0", code: .invalidValue, key: "server.\(key)", line: 2, mentions: "at least 1")
        }
        assertError("[server]\nshutdown_grace_ms = -1", code: .invalidValue, key: "server.shutdown_grace_ms", line: 2)
        assertError("[server]\nthreads = -1", code: .invalidValue, key: "server.threads", line: 2)
        for key in ["max_batch_tokens", "max_batch_requests", "max_queue_tokens", "max_queue_requests"] {
            assertError("[batching]\n\(key) = 0", code: .invalidValue, key: "batching.\(key)", line: 2, mentions: "at least 1")
        }
        assertError("[batching]\nmax_delay_ms = -5", code: .invalidValue, key: "batching.max_delay_ms", line: 2)
        assertError("[server]\nlog_level = \"verbose\"", code: .invalidValue, key: "server.log_level", line: 2,
                    mentions: "debug, info, notice, warning, error")
        assertError("[server]\nevents_endpoint = \"udp://x:1\"", code: .invalidValue, key: "server.events_endpoint", line: 2,
                    mentions: "tcp://, ipc:// or inproc://")
    }

    func testEndpointChecks() {
        func endpoint(_ address: String, _ extra: String = "") -> String {
            "[[endpoint]]\naddress = \"\(address)\"\n\(extra)"
        }
        for bad in ["tcp://127.0.0.1", "tcp://:5555", "tcp://host:0", "tcp://host:70000", "tcp://host:http",
                    "tcp://[::1:5555", "ipc://", "inproc://", "http://host:80", "127.0.0.1:5555",
                    "ipc:///" + String(repeating: "x", count: 120)] {
            assertError(endpoint(bad), code: .invalidValue, key: "endpoint.0.address", line: 2)
        }
        for good in ["tcp://*:5555", "tcp://0.0.0.0:1", "tcp://[::1]:5555", "tcp://localhost:*", "tcp://eth0:5555",
                     "ipc:///run/x.sock", "ipc://@abstract", "inproc://x"] {
            XCTAssertNoThrow(try parse(endpoint(good)), good)
        }
        assertError(endpoint("tcp://a:1", "operations = [\"classify\", \"trian\"]"), code: .invalidValue,
                    key: "endpoint.0.operations", line: 3, mentions: "\"trian\"")
        assertError(endpoint("tcp://a:1", "operations = []"), code: .invalidValue, key: "endpoint.0.operations", line: 3)
        assertError(endpoint("tcp://a:1") + "\n" + endpoint("tcp://a:1"), code: .invalidValue, key: "endpoint.1.address", line: 5,
                    mentions: "endpoint 0")
        // Two wildcard ports are two ports.
        XCTAssertNoThrow(try parse(endpoint("tcp://127.0.0.1:*") + "\n" + endpoint("tcp://127.0.0.1:*", "curve = false")))
        assertError("[server]\nevents_endpoint = \"tcp://a:1\"\n" + endpoint("tcp://a:1"), code: .invalidValue,
                    key: "endpoint.0.address", line: 4, mentions: "events_endpoint")
        assertError("[[endpoint]]\noperations = [\"ping\"]", code: .missingKey, key: "endpoint.0.address", line: 1)
    }

    func testModelChecks() {
        assertError("[models]\ndefault = \"other\"", code: .invalidValue, key: "models.default", line: 2, mentions: "minilm")
        assertError("[models]\ndefault = \"b\"\n[models.a]\npath = \"/a\"\n[models.c]\npath = \"/c\"", code: .invalidValue,
                    key: "models.default", line: 2, mentions: "a, c")
        assertError("[models.a]\n", code: .missingKey, key: "models.a.path", line: 1)
        assertError("[models.\"has space\"]\npath = \"/a\"", code: .invalidValue, key: "models.has space", line: nil)
        assertError("[models.a]\npath = \"\"", code: .invalidValue, key: "models.a.path", line: 2)
        // Long documents: the sizes bertd can check without the model, and the aggregation's name.
        assertError("[models.a]\npath = \"/a\"\nwindow = 4", code: .invalidValue, key: "models.a.window", line: 3, mentions: "at least 8")
        assertError("[models.a]\npath = \"/a\"\nstride = -1", code: .invalidValue, key: "models.a.stride", line: 3)
        assertError("[models.a]\npath = \"/a\"\naggregate = \"median\"", code: .invalidValue, key: "models.a.aggregate", line: 3,
                    mentions: "mean, max, weighted")
        assertError("[models.a]\npath = \"/a\"\nwindow = \"512\"", code: .wrongType, key: "models.a.window", line: 3)
        XCTAssertEqual(try parse("[models.a]\npath = \"/a\"\nwindow = 0\nstride = 16").models[0].longDocuments,
                       LongDocumentSettings(window: 0, stride: 16))
    }

    func testCurveKeyFilesAreCheckedWhenCurveIsOn() throws {
        let directory = try temporaryDirectory()
        let keys = try writeCurveKeys(in: directory)
        let curveEndpoint = "[[endpoint]]\naddress = \"tcp://*:5556\"\ncurve = true\n"
        // Curve off: the files are not read.
        XCTAssertNoThrow(try parse("[curve]\nsecret_key_file = \"/nonexistent\""))
        assertError(curveEndpoint, code: .missingKey, key: "curve.secret_key_file", line: nil, mentions: "curve = true")
        assertError(curveEndpoint + "[curve]\nsecret_key_file = \"\(directory)/missing\"\nauthorized_keys_file = \"\(keys.authorizedFile)\"",
                    code: .unreadableFile, key: "curve.secret_key_file", line: 5, mentions: "no such file")
        try "too short\n".write(toFile: directory + "/bad.key", atomically: true, encoding: .utf8)
        assertError(curveEndpoint + "[curve]\nsecret_key_file = \"\(directory)/bad.key\"\nauthorized_keys_file = \"\(keys.authorizedFile)\"",
                    code: .invalidValue, key: "curve.secret_key_file", line: 5, mentions: "40 characters")
        assertError(curveEndpoint + "[curve]\nsecret_key_file = \"\(keys.secretFile)\"",
                    code: .missingKey, key: "curve.authorized_keys_file", line: nil)
        try "# nobody yet\n\n".write(toFile: directory + "/empty", atomically: true, encoding: .utf8)
        assertError(curveEndpoint + "[curve]\nsecret_key_file = \"\(keys.secretFile)\"\nauthorized_keys_file = \"\(directory)/empty\"",
                    code: .invalidValue, key: "curve.authorized_keys_file", line: 6, mentions: "no key")
        try "# ok\n\(keys.authorized[0])\nnot-a-key\n".write(toFile: directory + "/bad_list", atomically: true, encoding: .utf8)
        assertError(curveEndpoint + "[curve]\nsecret_key_file = \"\(keys.secretFile)\"\nauthorized_keys_file = \"\(directory)/bad_list\"",
                    code: .invalidValue, key: "curve.authorized_keys_file", line: 6, mentions: "line 3")
    }

    func testSyntaxErrorsCarryTheSourceAndLine() {
        assertError("[server]\nthreads = = 2", code: .syntax, key: nil, line: 2)
    }

    // MARK: Overrides

    func testOverrides() throws {
        var c = ServerConfiguration.defaults(environment: systemdEnvironment)
        try c.apply(override: "batching.max_batch_tokens=4096", environment: systemdEnvironment)
        try c.apply(override: "server.log_level=debug", environment: systemdEnvironment)  // bare string
        try c.apply(override: "server.log_level = \"notice\"", environment: systemdEnvironment)
        try c.apply(override: "server.threads=3", environment: systemdEnvironment)
        try c.apply(override: "models.sst2.path=$STATE_DIRECTORY/models/sst2", environment: systemdEnvironment)
        try c.apply(override: "models.default=sst2", environment: systemdEnvironment)
        try c.apply(override: "endpoint.0.operations=ping,status", environment: systemdEnvironment)
        try c.apply(override: "endpoint.1.address=ipc://$RUNTIME_DIRECTORY/other.sock", environment: systemdEnvironment)
        try c.apply(override: "endpoint.0.operations=[\"classify\"]", environment: systemdEnvironment)
        XCTAssertEqual(c.maxBatchTokens, 4096)
        XCTAssertEqual(c.logLevel, .notice)
        XCTAssertEqual(c.threads, 3)
        XCTAssertEqual(c.models.last, .init(name: "sst2", path: "/var/lib/private/bertd/models/sst2"))
        XCTAssertEqual(c.defaultModel, "sst2")
        XCTAssertEqual(c.endpoints[0].operations, ["classify"])
        XCTAssertEqual(c.endpoints[1].address, "ipc:///run/bertd-test/other.sock")

        // Failures name the key, say "command line", and change nothing.
        let before = c
        let failures: [(String, ConfigurationError.Code, String?)] = [
            ("batching.max_batch_tokens=0", .invalidValue, "batching.max_batch_tokens"),
            ("batching.max_batch_tokens=lots", .wrongType, "batching.max_batch_tokens"),
            ("batching.max_batch_tokenz=1", .unknownKey, "batching.max_batch_tokenz"),
            ("server.log_level=loud", .invalidValue, "server.log_level"),
            ("models.default=nothere", .invalidValue, "models.default"),
            ("endpoint.5.address=tcp://a:1", .invalidValue, "endpoint.5.address"),
            ("endpoint.0.operations=ping,fly", .invalidValue, "endpoint.0.operations"),
            ("endpoint.2.curve=true", .invalidValue, "endpoint.2.curve"),
            ("nosection.key=1", .unknownKey, "nosection.key"),
            ("threads=1", .syntax, "threads"),
            ("server.threads", .syntax, nil),
        ]
        for (override, code, key) in failures {
            XCTAssertThrowsError(try c.apply(override: override, environment: systemdEnvironment), override) { error in
                guard let error = error as? ConfigurationError else { return XCTFail("\(error)") }
                XCTAssertEqual(error.code, code, "\(override): \(error)")
                XCTAssertEqual(error.key, key, "\(override): \(error)")
                XCTAssertEqual(error.source, "command line")
                XCTAssertTrue(error.description.hasPrefix("command line: "), "\(error)")
            }
            XCTAssertEqual(c, before, "a failed override changes nothing: \(override)")
        }
    }

    /// The next endpoint number adds an endpoint from the command line.
    func testOverrideAddsAnEndpoint() throws {
        var c = ServerConfiguration.defaults(environment: systemdEnvironment)
        XCTAssertEqual(c.endpoints.count, 2)
        try c.apply(override: "endpoint.2.address=tcp://127.0.0.1:7000", environment: systemdEnvironment)
        try c.apply(override: "endpoint.2.operations=ping", environment: systemdEnvironment)
        XCTAssertEqual(c.endpoints.count, 3)
        XCTAssertEqual(c.endpoints[2].address, "tcp://127.0.0.1:7000")
        XCTAssertEqual(c.endpoints[2].operations, ["ping"])
        XCTAssertFalse(c.endpoints[2].curve)
    }

    // MARK: Rendering

    func testRenderedTextParsesBackToTheSameConfiguration() throws {
        let defaults = ServerConfiguration.defaults(environment: systemdEnvironment)
        XCTAssertEqual(try parse(defaults.tomlText, environment: systemdEnvironment), defaults, defaults.tomlText)
        var custom = defaults
        custom.logLevel = .warning
        custom.maxDelayMs = 3
        custom.endpoints = [.init(address: "tcp://[::1]:6000", operations: ["ping", "embed"]),
                            .init(address: "ipc:///run/a \"quoted\" dir/s.sock", operations: ServerConfiguration.allOperations)]
        custom.models = [.init(name: "bge.small", path: "/srv/m/bge"), .init(name: "x", path: "/srv/m/x"),
                         .init(name: "long", path: "/srv/m/l", longDocuments: LongDocumentSettings(window: 128, stride: 32, aggregate: "weighted")),
                         .init(name: "agg", path: "/srv/m/a", longDocuments: LongDocumentSettings(aggregate: "max"))]
        custom.defaultModel = "x"
        custom.curveSecretKeyFile = "/etc/bertd/curve.key"
        XCTAssertEqual(try parse(custom.tomlText, environment: systemdEnvironment), custom, custom.tomlText)
        XCTAssertTrue(custom.tomlText.contains("[models.\"bge.small\"]"), custom.tomlText)
        XCTAssertTrue(custom.tomlText.contains("operations = [\"embed\", \"ping\"]"), custom.tomlText)
    }

    // MARK: The shipped files

    func testDeployedExampleIsTheDefaults() throws {
        let path = Self.repository.appendingPathComponent("Deploy/bertd.toml").path
        XCTAssertEqual(try ServerConfiguration.load(path: path, environment: systemdEnvironment),
                       ServerConfiguration.defaults(environment: systemdEnvironment))
        XCTAssertEqual(try ServerConfiguration.load(path: path, environment: [:]), ServerConfiguration.defaults(environment: [:]))
    }

    func testEveryKeyIsDocumented() throws {
        let documentation = try String(contentsOfFile: Self.repository.appendingPathComponent("Deploy/CONFIGURATION.md").path,
                                       encoding: .utf8)
        let example = try String(contentsOfFile: Self.repository.appendingPathComponent("Deploy/bertd.toml").path,
                                 encoding: .utf8)
        for (section, keys) in ServerConfiguration.knownKeys {
            for key in keys {
                XCTAssertTrue(documentation.contains("`\(key)`"), "CONFIGURATION.md documents [\(section)] \(key)")
                XCTAssertTrue(example.contains("\(key) ="), "Deploy/bertd.toml shows [\(section)] \(key)")
            }
        }
    }

    // MARK: Helpers

    private func temporaryDirectory() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("bertd-config-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        return path
    }

    /// Z85 strings of 40 characters (the format is all the configuration checks; the server derives keys).
    private func writeCurveKeys(in directory: String) throws
        -> (secret: String, secretFile: String, authorized: [String], authorizedFile: String) {
        let secret = "JTKVSB%%)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6"
        let authorized = ["Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID", "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7"]
        let secretFile = directory + "/curve.key", authorizedFile = directory + "/authorized_keys"
        try "\(secret)\n".write(toFile: secretFile, atomically: true, encoding: .utf8)
        try "# clients\n\(authorized[0])  # alice\n\n\(authorized[1])\n".write(toFile: authorizedFile, atomically: true, encoding: .utf8)
        return (secret, secretFile, authorized, authorizedFile)
    }
}
