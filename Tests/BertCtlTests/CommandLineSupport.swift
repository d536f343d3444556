import Foundation
import XCTest

/// Runs the built `bertctl` (same build folder as this test bundle) and captures its output.
struct CommandResult {
    let status: Int32
    let stdout: String
    let stderr: String
}

enum BertCtl {
    static var executable: URL {
        // The test bundle lives in .build/<config>/; the executable beside it.
        var dir = Bundle(for: BundleToken.self).bundleURL
        while dir.pathExtension == "xctest" || dir.lastPathComponent == "Contents" { dir.deleteLastPathComponent() }
        return dir.appendingPathComponent("bertctl")
    }

    /// Another executable of the package, built into the same folder (bertd).
    static func sibling(_ name: String) -> URL { executable.deletingLastPathComponent().appendingPathComponent(name) }

    static func run(_ arguments: [String], stdin: String? = nil, timeout: TimeInterval = 120,
                    executable: URL = BertCtl.executable) throws -> CommandResult {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        let out = Pipe(), err = Pipe(), input = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = input
        try process.run()
        if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
        try input.fileHandleForWriting.close()
        // Read both pipes while the process runs so a full pipe never blocks it.
        let outData = LockedData(), errData = LockedData()
        let group = DispatchGroup()
        group.enter(); DispatchQueue.global().async { outData.value = out.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        group.enter(); DispatchQueue.global().async { errData.value = err.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        if group.wait(timeout: .now() + timeout) == .timedOut {
            process.terminate()
            XCTFail("\(executable.lastPathComponent) \(arguments) did not finish within \(timeout) s")
        }
        process.waitUntilExit()
        return CommandResult(status: process.terminationStatus,
                             stdout: String(decoding: outData.value, as: UTF8.self), stderr: String(decoding: errData.value, as: UTF8.self))
    }
}

/// Bytes a reader thread hands over; the lock matters when a run is read while it writes.
final class LockedData: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()
    var value: Data {
        get { lock.lock(); defer { lock.unlock() }; return data }
        set { lock.lock(); data = newValue; lock.unlock() }
    }
    func append(_ more: Data) { lock.lock(); data.append(more); lock.unlock() }
    var text: String { String(decoding: value, as: UTF8.self) }
}

private final class BundleToken {}

let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

func miniLMPath() throws -> String {
    let dir = packageRoot.appendingPathComponent("models/all-MiniLM-L6-v2")
    if FileManager.default.fileExists(atPath: dir.appendingPathComponent("model.safetensors").path) { return dir.path }
    if ProcessInfo.processInfo.environment["CI"] == "true" {
        XCTFail("models/all-MiniLM-L6-v2 is missing in CI: Deploy/setup.sh should have fetched it")
    }
    throw XCTSkip("models/all-MiniLM-L6-v2 is absent: run Deploy/fetch-model.sh to enable this test")
}

/// The tiny fixture models, kept by the engine tests.
func tinyModelPath(_ name: String) -> String {
    packageRoot.appendingPathComponent("Tests/BertCoreTests/Fixtures/\(name)").path
}

/// Sentences built from two word lists, the label saying which list the adjective came from
/// (three adjectives of each list occur with each seed); written as a TSV in `directory`.
func writeAdjectiveData(_ name: String, count: Int, seed: Int, in directory: URL) throws -> String {
    let good = ["wonderful", "great", "lovely", "excellent", "delightful", "superb"]
    let bad = ["awful", "terrible", "dreadful", "horrible", "boring", "dismal"]
    let nouns = ["film", "meal", "concert", "book", "trip", "game", "show", "hotel"]
    var lines = ["text\tlabel"]
    for i in 0..<count {
        let positive = (i * 7 + seed) % 2 == 0
        let adjective = (positive ? good : bad)[(i * 5 + seed) % 6]
        lines.append("the \(nouns[(i * 3 + seed) % 8]) was \(adjective)\t\(positive ? "positive" : "negative")")
    }
    let url = directory.appendingPathComponent(name)
    try (lines.joined(separator: "\n") + "\n").write(to: url, atomically: true, encoding: .utf8)
    return url.path
}
