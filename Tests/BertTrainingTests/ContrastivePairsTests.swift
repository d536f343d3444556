@testable import BertTraining
import XCTest

/// SetFit's pair builder: deterministic per seed, every pair labelled by whether its texts share
/// a class, the two kinds balanced.
final class ContrastivePairsTests: XCTestCase {
    private let labels = [0, 0, 0, 1, 1, 2, 2, 2]

    func testSameSeedSamePairsOtherSeedOtherOrder() throws {
        let a = try ContrastivePairs.build(labels: labels, seed: 7)
        XCTAssertEqual(a, try ContrastivePairs.build(labels: labels, seed: 7))
        XCTAssertNotEqual(a, try ContrastivePairs.build(labels: labels, seed: 8))
        XCTAssertEqual(Set(a.map { "\($0.first),\($0.second)" }),
                       Set(try ContrastivePairs.build(labels: labels, seed: 8).map { "\($0.first),\($0.second)" }),
                       "oversampling covers every pair whatever the seed")
    }

    func testTargetsSayWhetherTheClassesMatchAndKindsAlternate() throws {
        let pairs = try ContrastivePairs.build(labels: labels, seed: 1)
        for (k, p) in pairs.enumerated() {
            XCTAssertEqual(p.target, labels[p.first] == labels[p.second] ? 1 : 0)
            XCTAssertEqual(p.target, k % 2 == 0 ? 1 : 0, "positive, negative, positive, …")
        }
    }

    /// Oversampling: 8 texts make 36 unordered pairs with replacement; 3·4/2 + 2·3/2 + 3·4/2 = 15
    /// positive, 21 negative; both kinds are cycled to 21, and each negative occurs exactly once.
    func testOversamplingCounts() throws {
        let pairs = try ContrastivePairs.build(labels: labels, seed: 3)
        XCTAssertEqual(pairs.count, 42)
        let negatives = pairs.filter { $0.target == 0 }.map { "\($0.first),\($0.second)" }
        XCTAssertEqual(Set(negatives).count, 21)
        XCTAssertEqual(Set(pairs.filter { $0.target == 1 }.map { "\($0.first),\($0.second)" }).count, 15)
    }

    func testIterationsGiveThatManyOfEachKindPerText() throws {
        let pairs = try ContrastivePairs.build(labels: labels, seed: 3, iterations: 5)
        XCTAssertEqual(pairs.filter { $0.target == 1 }.count, 40)
        XCTAssertEqual(pairs.filter { $0.target == 0 }.count, 40)
    }

    func testTooFewOrOneClassIsRefused() {
        XCTAssertThrowsError(try ContrastivePairs.build(labels: [0], seed: 1))
        XCTAssertThrowsError(try ContrastivePairs.build(labels: [1, 1, 1], seed: 1))
        XCTAssertThrowsError(try ContrastivePairs.build(labels: labels, seed: 1, iterations: 0))
    }
}
