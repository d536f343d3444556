import BertCore
import Foundation

/// config.json of a fine-tuned classifier: the source model's config.json with the
/// classification fields set and nothing else dropped, so every key transformers reads
/// (dropout rates, vocab, position type, …) survives.
enum HuggingFaceConfig {
    static func classification(source: URL, family: ModelFamily, labels: [String], task: Task = .singleLabel,
                               thresholds: [String: Double]? = nil, longDocuments: LongDocumentPolicy? = nil) throws -> Data {
        guard let data = FileManager.default.contents(atPath: source.path),
              let json = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw TrainingDataError(.invalidCheckpoint, "\(source.path) is missing or is not a JSON object")
        }
        var config = json
        config["architectures"] = [family.sequenceClassificationArchitecture]
        config["id2label"] = Dictionary(uniqueKeysWithValues: labels.enumerated().map { (String($0.offset), $0.element) })
        config["label2id"] = Dictionary(uniqueKeysWithValues: labels.enumerated().map { ($0.element, $0.offset) })
        config["num_labels"] = labels.count
        // How the head was trained is how it is served (softmax, a sigmoid per label, or the
        // value), whatever the base said.
        config["problem_type"] = task.rawValue
        config["decision_thresholds"] = thresholds.map { $0 as Any } ?? nil
        // Trained on windows → served on windows; trained on truncated texts → truncated.
        config[LongDocumentPolicy.configKey] = longDocuments.map { $0.json as Any } ?? nil
        return try prettyJSON(config)
    }
}

/// JSON as transformers writes it: sorted keys, indented, a final newline.
func prettyJSON(_ object: Any) throws -> Data {
    var data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
    data.append(0x0A)
    return data
}
