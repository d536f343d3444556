import ArgumentParser
import BertCore
import BertTraining
import Foundation

// The fixed-choice options of `bertctl train`. Each raw value is the spelling the option takes
// and the value of the training setting of the same name that a daemon job receives, so the
// parser rejects a bad value with the list of choices, and help and shell completions show them.

// The choices themselves are BertTraining's (SettingChoices.swift): one spelling for daemon
// jobs and the command line.
extension MethodChoice: ExpressibleByArgument {}
extension ScheduleChoice: ExpressibleByArgument {}
extension LossChoice: ExpressibleByArgument {}
extension TaskChoice: ExpressibleByArgument {}

/// `--metric`: its raw values (loss, accuracy, macro_f1, …) are the spellings.
extension Metric: ExpressibleByArgument {}

/// `--aggregate mean|max|weighted`: how a long text's windows combine (BertCore's spellings).
extension WindowAggregation: ExpressibleByArgument {}

/// `--lora-targets query,value`: projections by their snake_case (attention_output) or case
/// name (attentionOutput), comma-separated.
struct LoRATargetList: ExpressibleByArgument {
    var targets: [LoRATarget]

    init(_ targets: [LoRATarget]) { self.targets = targets }

    init?(argument: String) {
        var targets: [LoRATarget] = []
        for name in argument.split(separator: ",") {
            guard let t = LoRATarget(settingName: name.trimmingCharacters(in: .whitespaces)) else { return nil }
            targets.append(t)
        }
        self.targets = targets
    }

    /// The list as the `lora_targets` setting spells it: "query,value".
    var settingValue: String { targets.map(Self.settingName).joined(separator: ",") }

    var defaultValueDescription: String { settingValue }

    static var allValueStrings: [String] { LoRATarget.allCases.map(settingName) }

    static var defaultCompletionKind: CompletionKind { .list(allValueStrings) }

    /// attentionOutput → attention_output.
    private static func settingName(_ target: LoRATarget) -> String {
        target.rawValue.map { $0.isUppercase ? "_" + $0.lowercased() : String($0) }.joined()
    }
}
