import Foundation
import XCTest
@testable import BertTokenizers

/// Every text of ../shared/data ({hate-speech,imdb,sst2}/{train,dev,test}.tsv) through the three
/// vocabularies: the sha1 of the ids must equal HF's for every line. 0 differences is the only pass.
final class CorpusParityTests: XCTestCase {
    static let datasets = ["hate-speech", "imdb", "sst2"]
    static let splits = ["train", "dev", "test"]

    func testUncasedMiniLM() throws {
        try checkCorpus(try TestPaths.requireMiniLM(), fixtureName: "uncased")
    }

    func testCasedWordPiece() throws {
        try checkCorpus(TestPaths.casedWordPiece, fixtureName: "cased-wordpiece")
    }

    func testRobertaBPE() throws {
        try checkCorpus(TestPaths.robertaBPE, fixtureName: "roberta-bpe")
    }

    private func checkCorpus(_ directory: URL, fixtureName: String) throws {
        let data = try TestPaths.require(TestPaths.shared.appendingPathComponent("data"), "the corpus test needs ../shared/data")
        let fixtures = try TestPaths.require(TestPaths.shared.appendingPathComponent("fixtures/tokenizer/\(fixtureName)"),
                                             "the corpus test needs ../shared/fixtures/tokenizer")
        let tokenizer = try Tokenizer(directory: directory)
        var checked = 0, differing = 0, files = 0
        var report: [String] = []
        let start = Date()
        for dataset in Self.datasets {
            for split in Self.splits {
                let tsv = data.appendingPathComponent("\(dataset)/\(split).tsv")
                guard FileManager.default.fileExists(atPath: tsv.path) else { continue }
                let fixture = fixtures.appendingPathComponent("\(dataset).\(split).jsonl")
                let expected = try readHashFixture(fixture)
                let texts = try readTSVTexts(tsv)
                files += 1
                XCTAssertEqual(texts.count, expected.count, "\(fixture.lastPathComponent): texts vs fixture lines")
                let fullIds = try fullIdsIfPresent(fixtures.appendingPathComponent("full/\(dataset).\(split).jsonl"))
                for (line, text) in texts {
                    let ids = tokenizer.encode(text).ids
                    checked += 1
                    guard let hash = expected[line] else {
                        differing += 1
                        report.append("\(dataset).\(split) line \(line): not in the fixture")
                        continue
                    }
                    if SHA1.hexDigest(idString(ids)) != hash {
                        differing += 1
                        if report.count < 8 {
                            var entry = "\(dataset).\(split) line \(line): \(text.debugDescription)\n    ours     \(ids)"
                            if let reference = fullIds[line] { entry += "\n    expected \(reference)" }
                            report.append(entry)
                        }
                    }
                }
            }
        }
        let seconds = Date().timeIntervalSince(start)
        print("corpus \(fixtureName): \(files) files, \(checked) lines checked, \(differing) differ (\(String(format: "%.1f", seconds)) s)")
        XCTAssertGreaterThan(files, 0, "no corpus files found")
        XCTAssertEqual(differing, 0, "corpus \(fixtureName): \(differing) of \(checked) lines differ; first ones:\n" + report.joined(separator: "\n"))
    }

    /// (line number, text) of each non-empty line after the header. Split on "\n" bytes like
    /// Python's str.split("\n"): a "\r" stays in the text (Swift would make "\r\n" one Character).
    private func readTSVTexts(_ url: URL) throws -> [(Int, String)] {
        let bytes = [UInt8](try Data(contentsOf: url))
        var result: [(Int, String)] = []
        var lineNumber = 0
        for line in bytes.split(separator: 10, omittingEmptySubsequences: false) {
            lineNumber += 1
            if lineNumber == 1 || line.isEmpty { continue }
            let text = line.split(separator: 9, maxSplits: 1, omittingEmptySubsequences: false)[0]
            result.append((lineNumber, String(decoding: text, as: UTF8.self)))
        }
        return result
    }

    /// line → sha1 from `{"line": N, "n": COUNT, "sha1": "…"}` lines (parsed by hand: there are
    /// hundreds of thousands).
    private func readHashFixture(_ url: URL) throws -> [Int: String] {
        let text = try String(contentsOf: url, encoding: .utf8)
        var hashes: [Int: String] = [:]
        for line in text.split(separator: "\n") {
            guard let lineKey = line.range(of: "\"line\": "), let shaKey = line.range(of: "\"sha1\": \"") else { continue }
            let number = line[lineKey.upperBound...].prefix(while: { $0.isNumber })
            let hash = line[shaKey.upperBound...].prefix(40)
            hashes[Int(number)!] = String(hash)
        }
        return hashes
    }

    private func fullIdsIfPresent(_ url: URL) throws -> [Int: [Int32]] {
        guard FileManager.default.fileExists(atPath: url.path) else { return [:] }
        var result: [Int: [Int32]] = [:]
        for object in try readJSONLines(url) { result[jsonInt(object["line"])!] = intArray(object["input_ids"]) }
        return result
    }
}
