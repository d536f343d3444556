import BertProtocol
import XCTest

/// Every malformed request maps to its stable code, with the id kept when there was one.
final class RequestParserTests: XCTestCase {
    private func parse(_ text: String) -> RequestParser.Outcome { RequestParser.parse(Array(text.utf8)) }

    private func expectError(_ text: String, _ code: ErrorCode, mentioning word: String? = nil, id: String? = nil,
                             file: StaticString = #filePath, line: UInt = #line) {
        guard case .failure(let gotId, let error) = parse(text) else { return XCTFail("parsed: \(text)", file: file, line: line) }
        XCTAssertEqual(error.code, code, error.message, file: file, line: line)
        if let word { XCTAssertTrue(error.message.contains(word), "\(error.message) should mention \(word)", file: file, line: line) }
        if let id { XCTAssertEqual(gotId.text, JSON.string(id).text, file: file, line: line) }
    }

    func testValidClassify() throws {
        guard case .request(let r) = parse(#"{"v":1,"id":"7","op":"classify","model":"m","texts":["a","b"],"pairs":["x","y"],"top_k":2,"deadline_ms":100,"truncate":false}"#) else {
            return XCTFail("did not parse")
        }
        XCTAssertEqual(r.op, .classify)
        XCTAssertEqual(r.id.text, "\"7\"")
        XCTAssertEqual(r.operation, .classify(Inference(texts: ["a", "b"], model: "m", pairs: ["x", "y"], topK: 2,
                                                        deadlineMs: 100, truncate: false)))
    }

    func testSingleTextAndIntegerId() {
        guard case .request(let r) = parse(#"{"id":12,"op":"embed","text":"hello"}"#) else { return XCTFail() }
        XCTAssertEqual(r.operation, .embed(Inference(texts: ["hello"], truncate: true)))
        XCTAssertEqual(r.id.text, "12")
    }

    func testRoundTripThroughJSON() {
        let requests = [
            Request(id: .string("r1"), .classify(Inference(texts: ["ça va \"bien\"\n"], labels: ["a", "b"], deadlineMs: 5))),
            Request(id: .int(2), .embed(Inference(texts: ["x", "y"], model: "m", pairs: ["p", "q"], truncate: false))),
            Request(id: .string("e"), .explain(ExplainRequest(inference: Inference(texts: ["why"], model: "m"), labels: ["pos", "neg"],
                                                              steps: 64, rule: "trapezoid", baseline: "zero"))),
            Request(id: .string("a"), .explain(ExplainRequest(inference: Inference(texts: ["why"]), method: .attention, layers: [0], heads: [1, 2]))),
            Request(id: .string("l"), .load(name: "n", path: "/srv/models/n")),
            Request(id: .string("l8"), .load(name: "n", path: "/srv/models/n", precision: "int8", force: true)),
            Request(id: .string("lw"), .load(name: "n", path: "/srv/models/n",
                                            longDocuments: LongDocumentSettings(window: 256, stride: 64, aggregate: "max"))),
            Request(id: .string("la"), .load(name: "n", path: "/srv/models/n", longDocuments: LongDocumentSettings(aggregate: "mean"))),
            Request(id: .string("u"), .unload(name: "n")),
            Request(id: .string("t"), .train(TrainingRequest(name: "s", train: "/d/train.tsv", validation: "/d/dev.tsv",
                                                             options: ["epochs": .integer(2), "method": .string("lora")], baseModel: "m"))),
            Request(id: .string("j"), .jobs(id: nil)), Request(id: .string("j1"), .jobs(id: "1")),
            Request(id: .string("c"), .cancel(job: "3")),
            Request(id: .string("m"), .models), Request(id: .string("s"), .status), Request(id: .string("p"), .ping),
        ]
        XCTAssertEqual(Set(requests.map(\.op)), Set(Op.allCases), "every operation round-trips")
        for request in requests {
            guard case .request(let back) = RequestParser.parse(request.json.bytes) else { return XCTFail(request.json.text) }
            XCTAssertEqual(back.operation, request.operation, request.json.text)
            XCTAssertEqual(back.id.text, request.id.text)
        }
    }

    func testLoadPrecision() {
        guard case .request(let r) = parse(#"{"id":"l","op":"load","name":"n","path":"/m","precision":"int8"}"#) else { return XCTFail() }
        XCTAssertEqual(r.operation, .load(name: "n", path: "/m", precision: "int8", force: false))
        expectError(#"{"id":"l","op":"load","name":"n","path":"/m","precision":"int4"}"#, .badRequest, mentioning: "precision", id: "l")
        expectError(#"{"id":"l","op":"load","name":"n","path":"/m","force":"yes"}"#, .badRequest, mentioning: "force", id: "l")
    }

    func testLoadLongDocuments() {
        guard case .request(let r) = parse(#"{"id":"l","op":"load","name":"n","path":"/m","long_documents":{"window":32}}"#) else { return XCTFail() }
        XCTAssertEqual(r.operation, .load(name: "n", path: "/m", longDocuments: LongDocumentSettings(window: 32)))
        guard case .request(let null) = parse(#"{"id":"l","op":"load","name":"n","path":"/m","long_documents":null}"#) else { return XCTFail() }
        XCTAssertEqual(null.operation, .load(name: "n", path: "/m"))
        for (body, mention) in [(#""long_documents":[32]"#, "long_documents"), (#""long_documents":{"windows":32}"#, "windows"),
                                (#""long_documents":{"window":"32"}"#, "window"), (#""long_documents":{"stride":-1}"#, "stride"),
                                (#""long_documents":{"aggregate":1}"#, "aggregate")] {
            expectError(#"{"id":"l","op":"load","name":"n","path":"/m","# + body + "}", .badRequest, mentioning: mention, id: "l")
        }
    }

    func testMalformedRequests() {
        expectError("not json", .badRequest, mentioning: "JSON")
        expectError("[1,2]", .badRequest, mentioning: "object")
        expectError(#"{"id":"a"}"#, .badRequest, mentioning: "op", id: "a")
        expectError(#"{"id":"a","op":5}"#, .badRequest, mentioning: "op", id: "a")
        expectError(#"{"id":"a","op":"explode"}"#, .unknownOp, mentioning: "explode", id: "a")
        expectError(#"{"id":"a","op":"classify"}"#, .badRequest, mentioning: "texts", id: "a")
        expectError(#"{"id":"a","op":"classify","texts":"one"}"#, .badRequest, mentioning: "array of strings")
        expectError(#"{"id":"a","op":"classify","texts":["a",3]}"#, .badRequest, mentioning: "array of strings")
        expectError(#"{"id":"a","op":"classify","texts":[]}"#, .badRequest, mentioning: "empty")
        expectError(#"{"id":"a","op":"classify","texts":["a"],"top_k":"2"}"#, .badRequest, mentioning: "top_k")
        expectError(#"{"id":"a","op":"classify","texts":["a"],"top_k":1.5}"#, .badRequest, mentioning: "top_k")
        expectError(#"{"id":"a","op":"classify","texts":["a"],"top_k":0}"#, .badRequest, mentioning: "top_k")
        expectError(#"{"id":"a","op":"classify","texts":["a"],"truncate":1}"#, .badRequest, mentioning: "truncate")
        expectError(#"{"id":"a","op":"classify","texts":["a"],"deadline_ms":-1}"#, .badRequest, mentioning: "deadline_ms")
        expectError(#"{"id":"a","op":"classify","texts":["a"],"pairs":["x","y"]}"#, .badRequest, mentioning: "pairs")
        expectError(#"{"id":"a","op":"classify","texts":["a"],"labels":["x","x"]}"#, .badRequest, mentioning: "duplicates")
        expectError(#"{"id":"a","op":"classify","texts":["a"],"model":7}"#, .badRequest, mentioning: "model")
        expectError(#"{"id":"a","op":"load","name":"x"}"#, .badRequest, mentioning: "path")
        expectError(#"{"id":{"x":1},"op":"ping"}"#, .badRequest, mentioning: "id")
        expectError(#"{"v":2,"id":"a","op":"ping"}"#, .unsupportedVersion, id: "a")
    }

    func testInvalidUTF8() {
        guard case .failure(_, let error) = RequestParser.parse([0x7B, 0xFF, 0xFE, 0x7D]) else { return XCTFail() }
        XCTAssertEqual(error.code, .badRequest)
        XCTAssertTrue(error.message.contains("UTF-8"))
    }

    func testReplyShape() {
        let ok = Reply.success(id: .string("x"), result: .object([("pong", .bool(true))])).text
        XCTAssertEqual(ok, #"{"v":1,"id":"x","ok":true,"result":{"pong":true}}"#)
        let bad = Reply.failure(id: .null, error: ProtocolError(.overloaded, "queue \"full\"")).text
        XCTAssertEqual(bad, #"{"v":1,"id":null,"ok":false,"error":{"code":"overloaded","message":"queue \"full\""}}"#)
    }
}
