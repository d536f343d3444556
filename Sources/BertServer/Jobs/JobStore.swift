import BertCore
import Foundation

/// Training jobs on disk: `<state directory>/jobs/<id>/job.json` (written atomically: temp
/// file, fsync, rename) next to the job's output directory. A job acknowledged to a client has
/// its job.json on disk first, so `kill -9` at any moment loses no acknowledged job.
struct JobStore {
    let directory: URL

    init(stateDirectory: String) {
        directory = URL(fileURLWithPath: stateDirectory).appendingPathComponent("jobs")
    }

    func jobDirectory(_ id: String) -> URL { directory.appendingPathComponent(id) }
    func outputDirectory(_ id: String) -> URL { jobDirectory(id).appendingPathComponent(TrainingJob.outputName) }

    func save(_ job: TrainingJob) throws {
        try FileManager.default.createDirectory(at: jobDirectory(job.id), withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        try AtomicFile.write(try encoder.encode(job) + Data([0x0A]), to: jobDirectory(job.id).appendingPathComponent(TrainingJob.fileName))
    }

    /// Every job on disk, oldest first; unreadable entries are reported, not fatal.
    func loadAll() -> (jobs: [TrainingJob], problems: [String]) {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory.path) else { return ([], []) }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        var jobs: [TrainingJob] = [], problems: [String] = []
        for name in names {
            let file = directory.appendingPathComponent(name).appendingPathComponent(TrainingJob.fileName)
            guard FileManager.default.fileExists(atPath: file.path) else { continue }
            do {
                jobs.append(try decoder.decode(TrainingJob.self, from: Data(contentsOf: file)))
            } catch {
                problems.append("\(file.path): \(error)")
            }
        }
        return (jobs.sorted { ($0.created, Int($0.id) ?? 0) < ($1.created, Int($1.id) ?? 0) }, problems)
    }
}
