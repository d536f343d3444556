import BertCore
import BertTokenizers
@testable import BertTraining
import Foundation
import XCTest

/// The claim a person relies on: on a real sentiment classifier, the word integrated gradients
/// ranks first is the word that carries the sentiment. MiniLM fine-tuned on 4 000 SST-2
/// sentences for one epoch (~40 s in release), then 12 hand-written sentences; at least 10 of
/// them must put the top attribution on their sentiment word.
final class ExplanationSentimentTests: XCTestCase {
    static let sentences: [(text: String, word: String)] = [
        ("the acting was dreadful", "dreadful"),
        ("a wonderful film", "wonderful"),
        ("boring and far too long", "boring"),
        ("an utterly charming comedy", "charming"),
        ("the plot is a complete mess", "mess"),
        ("a brilliant performance", "brilliant"),
        ("the dialogue is awful", "awful"),
        ("a beautiful story", "beautiful"),
        ("the jokes are terrible", "terrible"),
        ("an excellent cast", "excellent"),
        ("this movie is stupid", "stupid"),
        ("a delightful surprise", "delightful"),
    ]

    func testTopAttributedWordIsTheSentimentWord() throws {
        let (out, report) = try SST2FineTunedMiniLM.directoryAndReport()
        print("  fine-tuned on 4 000 SST-2 sentences: validation accuracy \(report.epochs.last?.validation?.accuracy ?? 0)")

        let model = try ModelLoader.load(directory: out)
        let tokenizer = try Tokenizer(directory: out)
        let explainer = Explainer(model: model)
        var hits = 0
        for (text, expected) in Self.sentences {
            let e = tokenizer.encode(text)
            let result = try explainer.finish(try explainer.makeRun(ids: e.ids, typeIds: e.typeIds, special: e.specialTokensMask))
            let words = WordSpans.merge(offsets: e.offsets, sequences: e.sequenceIndices, texts: [text])
            let scores = WordSpans.sum(result.attributions[0].tokens, over: words)
            let top = words[scores.indices.max { scores[$0] < scores[$1] }!].text
            print("  \(text) → \(model.labels[result.attributions[0].label]); top word \"\(top)\" (expected \"\(expected)\")")
            if top == expected { hits += 1 }
        }
        XCTAssertGreaterThanOrEqual(hits, 10, "\(hits) of \(Self.sentences.count) sentences put the top attribution on their sentiment word")
    }
}
