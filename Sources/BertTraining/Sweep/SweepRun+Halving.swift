import Foundation

extension SweepRun {
    /// Successive halving over configurations: round k trains every surviving configuration
    /// (each of its seeds) to 2^k epochs, capped at the run's epochs; then the better half, by
    /// the mean over seeds of the best selection metric so far, continues from its resume
    /// points. Runs are paused, not shortened (see `train`), so a survivor's final result is
    /// that of an uninterrupted run. A rerun recomputes the same rounds from the point.json
    /// files (each holds the metric after every epoch) and trains only what is missing.
    func runHalving(_ points: [SweepPoint]) throws {
        let epochs = definition.baseEpochs  // the same for every point: epochs is never an axis here
        var survivors = Dictionary(grouping: points, by: \.configuration.index).sorted { $0.key < $1.key }.map(\.value)
        var target = 1
        while true {
            target = min(target, epochs)
            events(.round(epochs: target, configurations: survivors.count))
            var complete = true
            for point in survivors.joined() {
                let record = records[point.name]
                if record?.state == .finished || (record?.epochsTrained ?? 0) >= target { continue }
                guard try mayStart(point) else {
                    complete = false
                    continue
                }
                records[point.name] = try train(point, upTo: target)
            }
            // A round the budget cut short cannot be ranked: the next session completes it.
            guard complete, target < epochs else { return }
            let ranked = rank(survivors, upTo: target)
            let keep = (ranked.count + 1) / 2
            for group in ranked[keep...] {
                halvedOut[group[0].configuration.index] = target
                for point in group { try retire(point) }
            }
            survivors = ranked[..<keep].sorted { $0[0].configuration.index < $1[0].configuration.index }
            target *= 2
        }
    }

    /// Configurations best first by their mean over seeds of the best value up to `epochs`
    /// (undefined last; ties keep the enumeration order).
    func rank(_ groups: [[SweepPoint]], upTo epochs: Int) -> [[SweepPoint]] {
        let higherIsBetter = definition.selectionMetric.higherIsBetter
        let scored = groups.map { group -> (group: [SweepPoint], score: Double?) in
            let values = group.compactMap { records[$0.name]?.best(upTo: epochs) }
            return (group, values.isEmpty ? nil : values.reduce(0, +) / Double(values.count))
        }
        return scored.sorted { a, b in
            switch (a.score, b.score) {
            case let (x?, y?) where x != y: return higherIsBetter ? x > y : x < y
            case (_?, nil): return true
            case (nil, _?): return false
            default: return a.group[0].configuration.index < b.group[0].configuration.index
            }
        }.map(\.group)
    }

    /// A run halving left behind: its directory gets the report of every epoch it trained, and
    /// its resume point (the size of the model twice over) goes.
    private func retire(_ point: SweepPoint) throws {
        let last = directory(of: point).appendingPathComponent(FineTuneRun.lastCheckpointName)
        guard let report = try? lastReport(in: last) else { return }
        try writeReport(report, into: directory(of: point))
        removeResumePoint(last)
    }
}
