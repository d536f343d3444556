import Foundation
import XCTest
@testable import BertTokenizers

/// Where the tests find their inputs: fixtures copied into the test bundle, the MiniLM model
/// fetched by Deploy/fetch-model.sh, and the shared corpora next to the repository.
enum TestPaths {
    /// The package root, from this file's path (Tests/BertTokenizersTests/TestSupport.swift).
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    static let fixtures = Bundle.module.resourceURL!.appendingPathComponent("Fixtures")
    static let casedWordPiece = fixtures.appendingPathComponent("cased-wordpiece")
    static let robertaBPE = fixtures.appendingPathComponent("roberta-bpe")

    static let miniLM = packageRoot.appendingPathComponent("models/all-MiniLM-L6-v2")
    static let shared = packageRoot.deletingLastPathComponent().appendingPathComponent("shared")

    struct MissingInput: Error, CustomStringConvertible { let description: String }

    /// `url` if it exists; otherwise the test is skipped with `why` — except in CI (`CI=true`),
    /// where a missing input is a failure (a thrown error), so that CI never passes by skipping.
    static func require(_ url: URL, _ why: String) throws -> URL {
        if FileManager.default.fileExists(atPath: url.path) { return url }
        let message = "\(url.path) is missing: \(why)"
        if ProcessInfo.processInfo.environment["CI"] == "true" { throw MissingInput(description: message) }
        throw XCTSkip(message)
    }

    static func requireMiniLM() throws -> URL {
        try require(miniLM, "run Deploy/fetch-model.sh to fetch all-MiniLM-L6-v2")
    }
}

/// The JSON objects of a .jsonl file, one per non-empty line.
func readJSONLines(_ url: URL) throws -> [[String: Any]] {
    let text = try String(contentsOf: url, encoding: .utf8)
    return try text.split(separator: "\n").map {
        try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any]
    }
}

func intArray(_ value: Any?) -> [Int32] {
    (value as? [Any] ?? []).map { Int32(jsonInt($0)!) }
}

/// A copy of a tokenizer directory without tokenizer.json, to exercise the slow-files path.
func copyWithoutTokenizerJSON(_ directory: URL) throws -> URL {
    let target = FileManager.default.temporaryDirectory
        .appendingPathComponent("bertd-tok-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: target, withIntermediateDirectories: true)
    for name in try FileManager.default.contentsOfDirectory(atPath: directory.path)
    where name != "tokenizer.json" && !name.hasSuffix(".safetensors") && name != "edge_cases.jsonl" {
        var isDirectory: ObjCBool = false
        let source = directory.appendingPathComponent(name)
        if FileManager.default.fileExists(atPath: source.path, isDirectory: &isDirectory), !isDirectory.boolValue { try FileManager.default.copyItem(at: source, to: target.appendingPathComponent(name)) }
    }
    return target
}
