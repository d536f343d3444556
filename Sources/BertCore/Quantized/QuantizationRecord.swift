import Foundation

/// The result of a model's int8 quality gate (`bertctl quantize`), kept in the model directory as
/// `quantization.json`: the daemon serves a model in int8 only when this records a gate that
/// passed (or that an operator forced) for the weights the directory holds now.
public struct QuantizationRecord: Codable, Sendable, Equatable {
    public static let fileName = "quantization.json"

    /// One precision's scores on the validation file.
    public struct Scores: Codable, Sendable, Equatable {
        public var accuracy: Double
        public var macroF1: Double
        enum CodingKeys: String, CodingKey { case accuracy, macroF1 = "macro_f1" }
        public init(accuracy: Double, macroF1: Double) { (self.accuracy, self.macroF1) = (accuracy, macroF1) }
    }

    public var precision: Precision
    public var passed: Bool
    /// Written although the gate failed (`--force`): the operator's decision to serve it anyway.
    public var forced: Bool
    /// What failed: "agreement", "accuracy_drop" (empty when it passed).
    public var failures: [String]
    /// Share of texts whose int8 label (set) equals fp32's.
    public var agreement: Double
    public var minAgreement: Double
    /// Accuracy and macro-F1 change int8 − fp32, in percentage points.
    public var accuracyChangePoints: Double
    public var macroF1ChangePoints: Double
    public var maxAccuracyDropPoints: Double
    public var fp32: Scores
    public var int8: Scores
    public var examples: Int
    public var validationFile: String
    /// ISO 8601, UTC.
    public var date: String
    public var bertdVersion: String
    public var kernel: String
    /// What int8 quantized (`Precision.int8Scheme`); absent in records of the first scheme
    /// (dense layers only).
    public var scheme: String?
    /// The weights the gate ran on.
    public var weights: WeightsFingerprint
    /// A model without a classification head is gated on zero-shot classification against these
    /// labels (the validation file's); nil for a classifier.
    public var zeroShotLabels: [String]?

    enum CodingKeys: String, CodingKey {
        case precision, passed, forced, failures, agreement, examples, date, kernel, weights, scheme
        case fp32, int8
        case minAgreement = "min_agreement"
        case accuracyChangePoints = "accuracy_change_points"
        case macroF1ChangePoints = "macro_f1_change_points"
        case maxAccuracyDropPoints = "max_accuracy_drop_points"
        case validationFile = "validation_file"
        case bertdVersion = "bertd_version"
        case zeroShotLabels = "zero_shot_labels"
    }

    public init(precision: Precision, passed: Bool, forced: Bool, failures: [String], agreement: Double, minAgreement: Double,
                accuracyChangePoints: Double, macroF1ChangePoints: Double, maxAccuracyDropPoints: Double,
                fp32: Scores, int8: Scores, examples: Int, validationFile: String, date: Date, bertdVersion: String,
                kernel: String, weights: WeightsFingerprint, zeroShotLabels: [String]? = nil) {
        (self.precision, self.passed, self.forced, self.failures) = (precision, passed, forced, failures)
        (self.agreement, self.minAgreement) = (agreement, minAgreement)
        (self.accuracyChangePoints, self.macroF1ChangePoints, self.maxAccuracyDropPoints) = (accuracyChangePoints, macroF1ChangePoints, maxAccuracyDropPoints)
        (self.fp32, self.int8, self.examples, self.validationFile) = (fp32, int8, examples, validationFile)
        self.date = ISO8601DateFormatter().string(from: date)
        (self.bertdVersion, self.kernel, self.weights, self.zeroShotLabels) = (bertdVersion, kernel, weights, zeroShotLabels)
        scheme = precision == .int8 ? Precision.int8Scheme : nil
    }

    /// Whether the daemon may serve the model in `precision` on this record.
    public var allowsServing: Bool { passed || forced }

    /// The record of `directory`, or nil when it has none.
    public static func read(directory: URL) throws -> QuantizationRecord? {
        let url = directory.appendingPathComponent(fileName)
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        do {
            return try JSONDecoder().decode(QuantizationRecord.self, from: Data(contentsOf: url))
        } catch {
            throw BertError(.invalidConfig, "\(url.path) is not a quantization record: \(error)")
        }
    }

    public func write(directory: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        do {
            try (try encoder.encode(self) + Data("\n".utf8)).write(to: directory.appendingPathComponent(Self.fileName), options: .atomic)
        } catch {
            throw BertError(.ioError, "cannot write \(directory.appendingPathComponent(Self.fileName).path): \(error.localizedDescription)")
        }
    }

    /// Throws unless `directory` records a gate that allows serving it in `precision` for the
    /// weights it holds now; the message says what to run.
    public static func requireServable(directory: URL, precision: Precision) throws {
        guard precision != .fp32 else { return }
        let run = "run bertctl quantize --local \(directory.path) --validation FILE, or load with force"
        guard let record = try read(directory: directory) else {
            throw BertError(.invalidInput, "\(directory.path) has no \(fileName): no quality gate has passed for \(precision.rawValue); \(run)")
        }
        guard record.precision == precision else {
            throw BertError(.invalidInput, "\(directory.path)/\(fileName) records a gate for \(record.precision.rawValue), not \(precision.rawValue); \(run)")
        }
        guard precision != .int8 || record.scheme == Precision.int8Scheme else {
            throw BertError(.invalidInput, "\(directory.path)/\(fileName) records a gate for an earlier int8 scheme (\(record.scheme ?? "dense layers only")), not \"\(Precision.int8Scheme)\"; \(run)")
        }
        guard record.allowsServing else {
            throw BertError(.invalidInput, "the \(precision.rawValue) quality gate of \(directory.path) failed (\(record.failures.joined(separator: ", "))); \(run)")
        }
        guard try WeightsFingerprint(directory: directory) == record.weights else {
            throw BertError(.invalidInput, "the weights of \(directory.path) changed since its \(precision.rawValue) quality gate (\(record.date)); \(run)")
        }
    }
}

/// Which weights a gate ran on: the checkpoint's safetensors files, their size and a 64-bit
/// FNV-1a hash of their bytes (a change check, not a security measure; ~0.1 s for MiniLM).
public struct WeightsFingerprint: Codable, Sendable, Equatable {
    public var files: [String]
    public var bytes: Int
    public var fnv1a64: String

    public init(directory: URL) throws {
        let urls = try ModelLoader.weightFiles(in: directory).map { URL(fileURLWithPath: $0.path) }
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        var total = 0
        for url in urls {
            let data: Data
            do { data = try Data(contentsOf: url, options: .alwaysMapped) } catch {
                throw BertError(.ioError, "cannot read \(url.path): \(error.localizedDescription)")
            }
            total += data.count
            data.withUnsafeBytes { raw in
                for byte in raw.bindMemory(to: UInt8.self) { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
            }
        }
        files = urls.map(\.lastPathComponent)
        bytes = total
        fnv1a64 = String(format: "%016llx", hash)
    }
}
