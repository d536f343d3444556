import BertCore
import Foundation
import XCTest

/// Files copied from ../shared/fixtures into Tests/BertCoreTests/Fixtures.
enum Fixtures {
    static func url(_ relative: String) -> URL {
        Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent(relative)
    }

    static func safetensors(_ relative: String) throws -> SafetensorsFile {
        try SafetensorsFile(path: url(relative).path)
    }
}

/// The package root, found from this file's path (Tests/BertCoreTests/TestSupport.swift).
let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// all-MiniLM-L6-v2, fetched by Deploy/fetch-model.sh. Tests that need it skip without it,
/// except in CI (CI=true), where its absence is a failure.
func miniLMDirectory() throws -> URL {
    let dir = packageRoot.appendingPathComponent("models/all-MiniLM-L6-v2")
    if FileManager.default.fileExists(atPath: dir.appendingPathComponent("model.safetensors").path) { return dir }
    if ProcessInfo.processInfo.environment["CI"] == "true" {
        XCTFail("models/all-MiniLM-L6-v2 is missing in CI: Deploy/setup.sh should have fetched it")
    }
    throw XCTSkip("models/all-MiniLM-L6-v2 is absent: run Deploy/fetch-model.sh to enable this test")
}

/// The largest |a − b| over two equally long arrays.
func maxAbsDifference(_ a: [Float], _ b: [Float]) -> Float {
    precondition(a.count == b.count, "length \(a.count) vs \(b.count)")
    return zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1)) }
}

/// The rows of a padded [B, L] batch whose attention mask is 1, as a padding-free batch.
func unpaddedBatch(ids: [Int], mask: [Int], typeIds: [Int]?, rows: Int) -> TokenBatch {
    let width = ids.count / rows
    var batch = TokenBatch()
    for r in 0..<rows {
        let range = (r * width)..<((r + 1) * width)
        let keep = range.filter { mask[$0] == 1 }
        batch.append(ids: keep.map { Int32(ids[$0]) }, typeIds: typeIds.map { t in keep.map { Int32(t[$0]) } })
    }
    return batch
}
