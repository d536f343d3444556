@testable import BertTraining
import BertTokenizers
import Foundation
import XCTest

/// A scratch directory removed after the test.
func scratchDirectory(_ test: XCTestCase) throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("bertd-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    test.addTeardownBlock { try? FileManager.default.removeItem(at: url) }
    return url
}

func writeTestFile(_ dir: URL, _ name: String, _ text: String) throws -> URL {
    let url = dir.appendingPathComponent(name)
    try Data(text.utf8).write(to: url)
    return url
}

func assertDataError(_ code: TrainingDataError.Code, containing fragment: String, file: StaticString = #filePath, line: UInt = #line,
                     _ body: () throws -> Void) {
    XCTAssertThrowsError(try body(), file: file, line: line) { error in
        guard let error = error as? TrainingDataError else { return XCTFail("not a TrainingDataError: \(error)", file: file, line: line) }
        XCTAssertEqual(error.code, code, error.message, file: file, line: line)
        XCTAssertTrue(error.message.contains(fragment), "\"\(error.message)\" lacks \"\(fragment)\"", file: file, line: line)
    }
}

final class DataTests: XCTestCase {
    func testCSVQuotingEmbeddedNewlinesAndLineNumbers() throws {
        let dir = try scratchDirectory(self)
        let csv = "id,text,label\r\n1,\"hello, \"\"world\"\"\",pos\r\n2,\"two\nlines\",neg\r\n\r\n3,plain,pos\n"
        let data = try Dataset.load(try writeTestFile(dir, "a.csv", csv), options: DatasetOptions())
        XCTAssertEqual(data.examples.map(\.text), ["hello, \"world\"", "two\nlines", "plain"])
        XCTAssertEqual(data.examples.map(\.label), ["pos", "neg", "pos"])
        XCTAssertEqual(data.examples.map(\.line), [2, 3, 6], "a record starts on its own line; the embedded newline counts")

        // The bad row after a multi-line record is reported at its real line.
        let bad = try writeTestFile(dir, "b.csv", "text,label\n\"a\nb\",x\n,y\n")
        assertDataError(.badRow, containing: "b.csv:4: the text") { _ = try Dataset.load(bad) }
        assertDataError(.badRow, containing: "never closed") { _ = try Dataset.load(try writeTestFile(dir, "c.csv", "text,label\n\"open,x\n")) }
    }

    func testTSVHasNoQuotingAndPairsAndColumnsByName() throws {
        let dir = try scratchDirectory(self)
        let tsv = "label\tpremise\thypothesis\n1\t\"Quoted\" start\tsecond\n0\tfirst\t\"also\"\n"
        let data = try Dataset.load(try writeTestFile(dir, "p.tsv", tsv),
                                    options: DatasetOptions(textColumn: "premise", pairColumn: "hypothesis"))
        XCTAssertEqual(data.examples.map(\.text), ["\"Quoted\" start", "first"])
        XCTAssertEqual(data.examples.map(\.pair), ["second", "\"also\""])
        assertDataError(.missingColumn, containing: "no column \"sentence\"") {
            _ = try Dataset.load(try writeTestFile(dir, "q.tsv", tsv), options: DatasetOptions(textColumn: "sentence"))
        }
        assertDataError(.badRow, containing: "q2.tsv:3: 1 fields where the header has 2") {
            _ = try Dataset.load(try writeTestFile(dir, "q2.tsv", "text\tlabel\nok\tpos\nbroken\n"))
        }
    }

    func testJSONLIntegerLabelsSortNumerically() throws {
        let dir = try scratchDirectory(self)
        let lines = (0..<12).map { #"{"text": "t\#($0)", "label": \#([2, 10, 1][$0 % 3])}"# }.joined(separator: "\n")
        let data = try Dataset.load(try writeTestFile(dir, "d.jsonl", lines + "\n\n"))
        XCTAssertEqual(data.count, 12)
        let labels = try LabelSet(inferredFrom: [data])
        XCTAssertEqual(labels.names, ["1", "2", "10"], "integers sort as numbers, not strings")
        XCTAssertEqual(try data.labelled(with: labels).labels.prefix(3), [1, 2, 0])
        XCTAssertEqual(try LabelSet(inferredFrom: [Dataset(source: "x", examples: [
            Example(text: "a", label: "pos"), Example(text: "b", label: "neg")])]).names, ["neg", "pos"])
        assertDataError(.badRow, containing: "e.jsonl:2: the label must be a string or an integer") {
            _ = try Dataset.load(try writeTestFile(dir, "e.jsonl", #"{"text":"a","label":"x"}"# + "\n" + #"{"text":"b","label":true}"#))
        }
        assertDataError(.badRow, containing: "f.jsonl:1: not a JSON object") { _ = try Dataset.load(try writeTestFile(dir, "f.jsonl", "[1]\n")) }
    }

    func testBadRowsFailOrAreCountedAndSkipped() throws {
        let dir = try scratchDirectory(self)
        let url = try writeTestFile(dir, "t.tsv", "text\tlabel\ngood\tpos\n   \tneg\nfine\t\nalso good\tneg\n")
        assertDataError(.badRow, containing: "t.tsv:3: the text (\"text\") is empty") { _ = try Dataset.load(url) }
        let skipped = try Dataset.load(url, options: DatasetOptions(skipBadRows: true))
        XCTAssertEqual(skipped.examples.map(\.text), ["good", "also good"])
        XCTAssertEqual(skipped.skippedRows, 2)
        XCTAssertEqual(skipped.skippedReasons.count, 2)

        // An unknown label in the validation file: an error with its line, or a skipped row.
        let train = try writeTestFile(dir, "train.tsv", "text\tlabel\na\tpos\nb\tneg\n")
        let validation = try writeTestFile(dir, "dev.tsv", "text\tlabel\nc\tpos\nd\tneutral\n")
        assertDataError(.unknownLabel, containing: "dev.tsv:3: the label \"neutral\" is not one of \"neg\", \"pos\"") {
            _ = try TrainingData.load(train: train, validation: validation)
        }
        let data = try TrainingData.load(train: train, validation: validation, options: DatasetOptions(skipBadRows: true))
        XCTAssertEqual(data.validation.count, 1)
        XCTAssertEqual(data.statistics.skippedRows, 1)
        assertDataError(.unsupportedFormat, containing: ".txt") { _ = try Dataset.load(dir.appendingPathComponent("x.txt")) }
        assertDataError(.fileNotFound, containing: "missing.tsv") { _ = try Dataset.load(dir.appendingPathComponent("missing.tsv")) }
    }

    func testStratifiedSplitKeepsProportionsAndIsSeeded() throws {
        let labels = Array(repeating: 0, count: 70) + Array(repeating: 1, count: 20) + Array(repeating: 2, count: 10)
        let split = try Splits.stratified(labels: labels, classes: 3, fraction: 0.2, seed: 7)
        XCTAssertEqual(split.validation.count, 20)
        XCTAssertEqual(split.validation.map { labels[$0] }.reduce(into: [0, 0, 0]) { $0[$1] += 1 }, [14, 4, 2])
        XCTAssertEqual(Set(split.train).union(split.validation), Set(labels.indices))
        XCTAssertTrue(Set(split.train).isDisjoint(with: split.validation))
        XCTAssertEqual(try Splits.stratified(labels: labels, classes: 3, fraction: 0.2, seed: 7), split)
        XCTAssertNotEqual(try Splits.stratified(labels: labels, classes: 3, fraction: 0.2, seed: 8).validation, split.validation)
        assertDataError(.invalidOption, containing: "between 0 and 1") { _ = try Splits.stratified(labels: labels, classes: 3, fraction: 1, seed: 0) }
    }

    func testStratifiedKFoldCoversEveryExampleOnce() throws {
        let labels = (0..<53).map { $0 % 4 == 0 ? 1 : 0 }
        let folds = try Splits.stratifiedKFold(labels: labels, classes: 2, folds: 5, seed: 3)
        XCTAssertEqual(folds.count, 5)
        XCTAssertEqual(folds.flatMap(\.validation).sorted(), Array(labels.indices))
        for fold in folds {
            XCTAssertTrue((10...11).contains(fold.validation.count), "fold sizes differ by at most one")
            let positives = fold.validation.filter { labels[$0] == 1 }.count
            XCTAssertTrue((2...3).contains(positives), "each fold has its share of the small class (\(positives))")
            XCTAssertEqual(fold.train.count + fold.validation.count, 53)
        }
        assertDataError(.notEnoughData, containing: "cannot make 5 folds") {
            _ = try Splits.stratifiedKFold(labels: [0, 1, 0], classes: 2, folds: 5, seed: 0)
        }
    }

    func testTokenizationAndSeededBatches() throws {
        let tokenizer = try Tokenizer(directory: packageRoot.appendingPathComponent("Tests/BertCoreTests/Fixtures/tiny-bert"))
        let texts = (0..<40).map { i in Array(repeating: "the movie", count: 1 + i % 7).joined(separator: " ") }
        let dataset = Dataset(source: "mem", examples: texts.enumerated().map { Example(text: $1, pair: $0 % 2 == 0 ? "yes" : nil, label: $0 % 3 == 0 ? "a" : "b") })
        let labelled = try dataset.labelled(with: try LabelSet(names: ["a", "b"]))
        let tokenized = TokenizedDataset(labelled, tokenizer: tokenizer, maxLength: 12, threads: 2)
        for i in [0, 1, 5, 13] {
            let expected = tokenizer.encode(texts[i], pair: i % 2 == 0 ? "yes" : nil, maxLength: 12)
            XCTAssertEqual(tokenized.ids[i], expected.ids)
            XCTAssertEqual(tokenized.typeIds[i], expected.typeIds)
        }
        XCTAssertTrue(tokenized.ids.allSatisfy { $0.count <= 12 })
        XCTAssertGreaterThan(tokenized.truncatedSequences, 0)

        let batcher = try Batcher(data: tokenized, batchSize: 6, seed: 11)
        let epoch0 = batcher.indexBatches(epoch: 0)
        XCTAssertEqual(epoch0.flatMap { $0 }.sorted(), Array(0..<40))
        XCTAssertEqual(epoch0.map(\.count), [6, 6, 6, 6, 6, 6, 4])
        XCTAssertEqual(batcher.indexBatches(epoch: 0), epoch0, "the order depends only on seed and epoch")
        XCTAssertNotEqual(batcher.indexBatches(epoch: 1), epoch0)
        let first = batcher.batches(epoch: 0).first!
        XCTAssertEqual(first.labels, first.indices.map { tokenized.labels[$0] })
        XCTAssertEqual(first.tokens.tokenCount, first.indices.reduce(0) { $0 + tokenized.ids[$1].count })

        // Bucketing: same examples, only the last batch short, far less length spread per batch.
        let bucketed = try Batcher(data: tokenized, batchSize: 6, seed: 11, bucketByLength: true)
        let batches = bucketed.indexBatches(epoch: 0)
        XCTAssertEqual(batches.flatMap { $0 }.sorted(), Array(0..<40))
        XCTAssertEqual(batches.dropLast().map(\.count), Array(repeating: 6, count: 6))
        func spread(_ b: [[Int]]) -> Int { b.reduce(0) { total, batch in
            let lengths = batch.map { tokenized.ids[$0].count }
            return total + lengths.max()! - lengths.min()!
        } }
        XCTAssertLessThan(spread(batches), spread(epoch0))
        let dropLast = try Batcher(data: tokenized, batchSize: 6, seed: 11, bucketByLength: true, dropLast: true)
        XCTAssertEqual(dropLast.indexBatches(epoch: 2).map(\.count), Array(repeating: 6, count: 6))
        XCTAssertEqual(dropLast.batchesPerEpoch, 6)
    }

    func testTrainingDataCarvesValidationAndFolds() throws {
        let dir = try scratchDirectory(self)
        let rows = (0..<50).map { "text \($0)\t\($0 % 5 == 0 ? "rare" : "common")" }
        let url = try writeTestFile(dir, "train.tsv", "text\tlabel\n" + rows.joined(separator: "\n"))
        let data = try TrainingData.load(train: url, validationFraction: 0.2, seed: 1)
        XCTAssertTrue(data.validationWasSplit)
        XCTAssertEqual(data.labelSet.names, ["common", "rare"])
        XCTAssertEqual(data.validation.classCounts, [8, 2])
        XCTAssertEqual(data.train.classCounts, [32, 8])
        let folds = try data.folds(5, seed: 1)
        XCTAssertEqual(folds.map(\.validation.count), [10, 10, 10, 10, 10])
        XCTAssertEqual(Set(folds.flatMap { $0.validation.examples.map(\.line) }).count, 50)
    }
}
