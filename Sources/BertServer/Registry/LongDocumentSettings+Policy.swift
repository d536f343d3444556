import BertCore
import BertPipeline
import BertProtocol

extension LongDocumentSettings {
    /// The aggregation asked for (nil: the model's own), or `bad_request` naming the known ones.
    func aggregation() throws -> WindowAggregation? {
        guard let aggregate else { return nil }
        guard let aggregation = WindowAggregation(rawValue: aggregate) else {
            throw ProtocolError(.badRequest, "\"aggregate\" must be one of \(WindowAggregation.allCases.map(\.rawValue).joined(separator: ", ")) (got \"\(aggregate)\")")
        }
        return aggregation
    }

    /// `model` reading long texts by these settings over its own policy (config.json's
    /// `long_documents`, else the standard one); throws when they do not fit the model.
    func apply(to model: TextModel) throws -> TextModel {
        try model.readingLongDocuments(.overriding(model.longDocuments, window: window, overlap: stride, aggregation: try aggregation()))
    }
}
