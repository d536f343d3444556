import Foundation

/// What a hyper-parameter sweep trains: the base model and data, the settings every point shares
/// (bertctl train's options), and the search — a grid (the product of `grid` axes) or `random`
/// points drawn from `ranges` and `grid` lists — each point repeated with `seeds` seeds. It is
/// stored as OUT/sweep.json; a rerun continues only under the same definition.
public struct SweepDefinition: Sendable, Equatable, Codable {
    /// `lr=1e-5,3e-5,5e-5`: the values an axis takes.
    public struct GridAxis: Sendable, Equatable, Codable {
        public var name: String
        public var values: [TrainingSettings.Value]

        public init(name: String, values: [TrainingSettings.Value]) {
            self.name = name
            self.values = values
        }

        /// "NAME=V1,V2,…", values checked against the axis's kind.
        public init(parsing text: String) throws {
            let (name, rest) = try splitAxis(text, example: "lr=1e-5,3e-5")
            let axis = try SweepAxis.named(name)
            let parts = rest.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            guard !parts.contains(where: { $0.trimmingCharacters(in: .whitespaces).isEmpty }) else {
                throw TrainingDataError(.invalidOption, "\(axis.name): an empty value in \"\(rest)\" (values are comma-separated)")
            }
            self.init(name: axis.name, values: try parts.map(axis.value(parsing:)))
        }
    }

    /// `lr=1e-5:1e-4:log`: random search draws the axis uniformly from [low, high], or
    /// log-uniformly (uniform in log space); integer settings get integers.
    public struct RangeAxis: Sendable, Equatable, Codable {
        public enum Scale: String, Sendable, Codable, CaseIterable { case linear, log }
        public var name: String
        public var low: Double
        public var high: Double
        public var scale: Scale

        public init(name: String, low: Double, high: Double, scale: Scale = .linear) {
            (self.name, self.low, self.high, self.scale) = (name, low, high, scale)
        }

        /// "NAME=LOW:HIGH" or "NAME=LOW:HIGH:log".
        public init(parsing text: String) throws {
            let (name, rest) = try splitAxis(text, example: "lr=1e-5:1e-4:log")
            let axis = try SweepAxis.named(name)
            if case .choice(let names) = axis.kind {
                throw TrainingDataError(.invalidOption, "\(axis.name) is a choice (\(names.joined(separator: ", "))): give its values with --grid \(axis.name)=…")
            }
            let parts = rest.split(separator: ":", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2 || parts.count == 3, let low = Double(parts[0]), let high = Double(parts[1]), low.isFinite, high.isFinite else {
                throw TrainingDataError(.invalidOption, "\(axis.name): a range is LOW:HIGH or LOW:HIGH:log, not \"\(rest)\"")
            }
            var scale = Scale.linear
            if parts.count == 3 {
                guard let s = Scale(rawValue: parts[2]) else {
                    throw TrainingDataError(.invalidOption, "\(axis.name): the scale of a range is linear or log, not \"\(parts[2])\"")
                }
                scale = s
            }
            guard low < high else { throw TrainingDataError(.invalidOption, "\(axis.name): the range's low end must be below its high end (got \(rest))") }
            if scale == .log, low <= 0 { throw TrainingDataError(.invalidOption, "\(axis.name): a log range needs a low end above 0 (got \(rest))") }
            if axis.kind == .integer, low != low.rounded() || high != high.rounded() {
                throw TrainingDataError(.invalidOption, "\(axis.name) takes integers: its range must have integer ends (got \(rest))")
            }
            self.init(name: axis.name, low: low, high: high, scale: scale)
        }
    }

    /// The base model directory and data files (absolute paths).
    public var model: String
    public var train: String
    public var validation: String?
    /// Every setting of a point but its axes and seed (bertctl train's options, the columns,
    /// `labels`, `validation_fraction`).
    public var base: TrainingSettings
    public var grid: [GridAxis]
    public var ranges: [RangeAxis]
    /// Random search: this many points; nil: the grid.
    public var randomPoints: Int?
    /// Each point is trained with seeds seed, seed + 1, … (the base `seed`).
    public var seeds: Int
    /// Successive halving: every point trains 1 epoch, the better half continues to 2, then 4, …
    /// up to `epochs`.
    public var halving: Bool

    public init(model: String, train: String, validation: String? = nil, base: TrainingSettings = TrainingSettings(),
                grid: [GridAxis] = [], ranges: [RangeAxis] = [], randomPoints: Int? = nil, seeds: Int = 1, halving: Bool = false) throws {
        func absolute(_ path: String) -> String { URL(fileURLWithPath: path).standardizedFileURL.path }
        self.model = absolute(model)
        self.train = absolute(train)
        self.validation = validation.map(absolute)
        (self.base, self.grid, self.ranges, self.randomPoints, self.seeds, self.halving) = (base, grid, ranges, randomPoints, seeds, halving)
        // Axes by their option names, whichever spelling they were given in.
        for i in self.grid.indices { self.grid[i].name = try SweepAxis.named(self.grid[i].name).name }
        for i in self.ranges.indices { self.ranges[i].name = try SweepAxis.named(self.ranges[i].name).name }
        try validate()
    }

    enum CodingKeys: String, CodingKey {
        case model, train, validation, base, grid, ranges, seeds, halving
        case randomPoints = "random_points"
    }

    /// The base seed: random search draws from it, and a point's k-th run uses seed + k.
    public var seed: UInt64 { (try? base.seed()) ?? 42 }

    /// The base epochs (halving's budget).
    var baseEpochs: Int {
        if case .integer(let epochs)? = base.values["epochs"] { return epochs }
        return FineTuneOptions().epochs
    }

    /// The metric that ranks points (and picks each run's kept checkpoint): the base `metric`.
    public var selectionMetric: Metric {
        if case .string(let name)? = base.values["metric"], let metric = Metric(rawValue: name) { return metric }
        return FineTuneOptions().selectionMetric
    }

    private func validate() throws {
        let names = grid.map(\.name) + ranges.map(\.name)
        guard !names.isEmpty else {
            throw TrainingDataError(.invalidOption, "a sweep needs at least one axis: --grid NAME=V1,V2,… (or --random N with --range NAME=LOW:HIGH)")
        }
        if let twice = names.first(where: { n in names.filter { $0 == n }.count > 1 }) {
            throw TrainingDataError(.invalidOption, "the axis \(twice) is given twice")
        }
        if let empty = grid.first(where: { $0.values.isEmpty }) { throw TrainingDataError(.invalidOption, "\(empty.name): no values") }
        if !ranges.isEmpty, randomPoints == nil {
            throw TrainingDataError(.invalidOption, "--range axes are for random search: add --random N (a grid takes --grid lists)")
        }
        if let n = randomPoints, n < 1 { throw TrainingDataError(.invalidOption, "--random must be at least 1 (got \(n))") }
        guard seeds >= 1 else { throw TrainingDataError(.invalidOption, "--seeds must be at least 1 (got \(seeds))") }
        if let method = try? base.method(), method == .baselineLinear || method == .fewShot {
            throw TrainingDataError(.invalidOption, "a sweep fine-tunes: method \(method.rawValue) is not swept (train it once with bertctl train)")
        }
        if halving {
            if names.contains("epochs") {
                throw TrainingDataError(.invalidOption, "with --halving the epochs are the budget that each round doubles: set --epochs, do not sweep it")
            }
            if baseEpochs < 2 { throw TrainingDataError(.invalidOption, "--halving needs --epochs of at least 2 (rounds of 1, 2, 4, … epochs)") }
        }
    }

    /// The settings in which a stored definition differs from this one, for the refusal to resume.
    public func differences(from other: SweepDefinition) -> [String] {
        var out: [String] = []
        if model != other.model { out.append("model") }
        if train != other.train { out.append("train") }
        if validation != other.validation { out.append("validation") }
        let sameGrid = grid.count == other.grid.count && zip(grid, other.grid).allSatisfy { a, b in
            a.name == b.name && a.values.count == b.values.count && zip(a.values, b.values).allSatisfy { $0.sameSetting(as: $1) }
        }
        if !sameGrid { out.append("grid") }
        if ranges != other.ranges { out.append("range") }
        if randomPoints != other.randomPoints { out.append("random") }
        if seeds != other.seeds { out.append("seeds") }
        if halving != other.halving { out.append("halving") }
        let keys = Set(base.values.keys).union(other.base.values.keys).sorted()
        out += keys.filter { key in
            guard let a = base.values[key], let b = other.base.values[key] else { return true }
            return !a.sameSetting(as: b)
        }
        return out
    }

    public func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(self) + Data([0x0A])
    }
}

extension TrainingSettings.Value {
    /// Equal as settings: 16 and 16.0 are one number (sweep.json, being JSON, keeps no difference).
    func sameSetting(as other: Self) -> Bool {
        switch (self, other) {
        case let (.integer(i), .number(d)), let (.number(d), .integer(i)): return Double(i) == d
        default: return self == other
        }
    }
}

/// "NAME=REST", with the name trimmed.
private func splitAxis(_ text: String, example: String) throws -> (String, String) {
    guard let eq = text.firstIndex(of: "="), eq != text.startIndex else {
        throw TrainingDataError(.invalidOption, "an axis is NAME=VALUES (e.g. \(example)), not \"\(text)\"")
    }
    return (text[..<eq].trimmingCharacters(in: .whitespaces), String(text[text.index(after: eq)...]))
}
