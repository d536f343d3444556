import Foundation
import XCTest

/// The command line itself: `--version` of both executables, fixed-choice options that the
/// parser checks (and help and completions list), and `bertctl completions`.
final class CommandLineInterfaceTests: XCTestCase {
    /// The choices of `bertctl train`'s fixed-choice options, in the order help lists them.
    private let choices: [(option: String, values: [String])] = [
        ("--method", ["full", "head-only", "lora", "freeze-lower", "baseline-linear", "few-shot"]),
        ("--schedule", ["linear", "constant", "cosine"]),
        ("--loss", ["cross-entropy", "weighted", "focal", "bce", "mse", "huber"]),
        ("--metric", ["loss", "accuracy", "macro_precision", "macro_recall", "macro_f1", "roc_auc", "micro_f1", "pearson", "spearman"]),
        ("--task", ["single-label", "multi-label", "regression"]),
        ("--lora-targets", ["query", "key", "value", "attention_output", "intermediate", "output"]),
    ]

    /// Arguments that get `train --local` past the parser to its first file access.
    private let trainPrefix = ["train", "--local", "--model", "/nonexistent/model", "--train", "/nonexistent/train.tsv",
                               "--out", "/nonexistent/out"]

    /// The one version string, from the source file both executables take it from.
    private func sourceVersion() throws -> String {
        let source = try String(contentsOf: packageRoot.appendingPathComponent("Sources/BertProtocol/Version.swift"), encoding: .utf8)
        let line = try XCTUnwrap(source.split(separator: "\n").first { $0.contains("bertdVersion =") }, "no bertdVersion in Version.swift")
        let quoted = line.split(separator: "\"", omittingEmptySubsequences: false)
        XCTAssertEqual(quoted.count, 3, String(line))
        return String(quoted[1])
    }

    func testVersionOfBothExecutables() throws {
        let version = try sourceVersion()
        XCTAssertFalse(version.isEmpty)
        let bertd = BertCtl.sibling("bertd")
        XCTAssertTrue(FileManager.default.isExecutableFile(atPath: bertd.path), "bertd is not built beside bertctl (\(bertd.path))")
        for executable in [BertCtl.executable, bertd] {
            let result = try BertCtl.run(["--version"], timeout: 30, executable: executable)
            XCTAssertEqual(result.status, 0, "\(executable.lastPathComponent): \(result.stderr)")
            XCTAssertEqual(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines), version, executable.lastPathComponent)
        }
    }

    /// Help lists every choice and the default; wrapped lines are joined before looking.
    func testTrainHelpListsTheChoices() throws {
        let result = try BertCtl.run(["train", "--help"], timeout: 30)
        XCTAssertEqual(result.status, 0, result.stderr)
        let help = result.stdout.split(whereSeparator: { $0 == " " || $0 == "\n" }).joined(separator: " ")
        let defaults = ["--method": "full", "--schedule": "linear", "--loss": "cross-entropy", "--metric": "loss",
                        "--lora-targets": "query,value"]
        for (option, values) in choices {
            // --task has no default: without it, the data decides.
            let expected = "(values: \(values.joined(separator: ", "))" + (defaults[option].map { "; default: \($0))" } ?? ")")
            XCTAssertTrue(help.contains(expected), "train --help should list \(option)'s choices as \(expected):\n\(result.stdout)")
        }
    }

    /// A value outside the set is refused by the parser (usage error, before any file is read),
    /// naming the option and listing the choices.
    func testBadChoiceIsRejectedWithTheChoices() throws {
        for (option, values) in choices {
            let bad = option == "--lora-targets" ? "query,bogus" : "bogus"
            let result = try BertCtl.run(trainPrefix + [option, bad], timeout: 30)
            XCTAssertNotEqual(result.status, 0, "\(option) \(bad) should be refused")
            XCTAssertTrue(result.status < 128, "killed by a signal: \(result.status)")
            XCTAssertTrue(result.stderr.contains("'\(bad)'") && result.stderr.contains("\(option) <"),
                          "the parser should name \(option) and the value: \(result.stderr)")
            for value in values {
                XCTAssertTrue(result.stderr.contains(value), "\(option)'s error should list \(value): \(result.stderr)")
            }
            XCTAssertFalse(result.stderr.contains("nonexistent"), "refused before reading any file: \(result.stderr)")
        }
        let shell = try BertCtl.run(["completions", "powershell"], timeout: 30)
        XCTAssertNotEqual(shell.status, 0)
        XCTAssertTrue(["bash", "zsh", "fish"].allSatisfy { shell.stderr.contains($0) }, shell.stderr)
    }

    /// Every spelling accepted before the options became enums still parses: the run gets as
    /// far as reading --train.
    func testEveryChoiceStillParses() throws {
        var cases: [[String]] = []
        for (option, values) in choices { cases += values.map { [option, $0] } }
        cases += [["--method", "freeze-lower", "--freeze-layers", "2"], ["--lora-targets", "attentionOutput"],
                  ["--lora-targets", "query, value,output"], ["--lora-targets", "key,"]]
        for arguments in cases {
            let result = try BertCtl.run(trainPrefix + arguments, timeout: 30)
            XCTAssertEqual(result.status, 1, "\(arguments): \(result.stderr)")
            XCTAssertTrue(result.stderr.contains("/nonexistent/train.tsv"), "\(arguments) should get to reading --train: \(result.stderr)")
        }
    }

    /// Each shell's script completes the subcommands and offers the choices of the options.
    func testCompletionScriptsListTheChoices() throws {
        for shell in ["bash", "zsh", "fish"] {
            let result = try BertCtl.run(["completions", shell], timeout: 30)
            XCTAssertEqual(result.status, 0, "\(shell): \(result.stderr)")
            XCTAssertTrue(result.stdout.hasSuffix("\n"), "\(shell): the script should end with a newline")
            for word in ["classify", "train", "completions", "--method", "head-only", "freeze-lower", "cosine", "cross-entropy",
                         "macro_f1", "attention_output"] {
                XCTAssertTrue(result.stdout.contains(word), "the \(shell) script should mention \(word)")
            }
        }
        let bash = try BertCtl.run(["completions", "bash"], timeout: 30)
        XCTAssertTrue(bash.stdout.contains("-F _bertctl bertctl"), "bash: no `complete -F` for bertctl")
    }
}
