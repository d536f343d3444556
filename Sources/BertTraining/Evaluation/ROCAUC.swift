/// Area under the ROC curve, as sklearn's roc_auc_score.
enum ROCAUC {
    /// Binary: the AUC of p(class 1) against label == 1. More classes: multi_class="ovr",
    /// average="macro" — the mean of each class's AUC of p(class c) against label == c.
    /// nil when a class lacks positives or negatives (sklearn raises a ValueError there).
    static func score(probabilities: [[Double]], labels: [Int], classes: Int) -> Double? {
        guard classes >= 2, !labels.isEmpty else { return nil }
        if classes == 2 { return binary(scores: probabilities.map { $0[1] }, positives: labels.map { $0 == 1 }) }
        var total = 0.0
        for c in 0..<classes {
            guard let auc = binary(scores: probabilities.map { $0[c] }, positives: labels.map { $0 == c }) else { return nil }
            total += auc
        }
        return total / Double(classes)
    }

    /// The Mann–Whitney form: AUC = (R₊ − n₊(n₊+1)/2) / (n₊·n₋), where R₊ is the sum of the
    /// positives' ranks among all scores and tied scores share their average rank. This equals
    /// the trapezoidal area sklearn computes, in which a tie between a positive and a negative
    /// counts one half.
    static func binary(scores: [Double], positives: [Bool]) -> Double? {
        let nPositive = positives.lazy.filter { $0 }.count
        let nNegative = positives.count - nPositive
        guard nPositive > 0, nNegative > 0 else { return nil }
        let order = scores.indices.sorted { scores[$0] < scores[$1] }
        var rankSum = 0.0
        var start = 0
        while start < order.count {
            var end = start + 1
            while end < order.count, scores[order[end]] == scores[order[start]] { end += 1 }
            // Ranks start+1 ... end (1-based) share their mean.
            let averageRank = Double(start + 1 + end) / 2
            for k in start..<end where positives[order[k]] { rankSum += averageRank }
            start = end
        }
        let p = Double(nPositive)
        return (rankSum - p * (p + 1) / 2) / (p * Double(nNegative))
    }
}
