import ArgumentParser
import BertCore

/// Threads and batching for in-process compute.
struct ComputeOptions: ParsableArguments {
    @Option(help: "Compute threads (default: the number of cores).")
    var threads: Int?

    @Option(help: "Texts per forward pass.")
    var batchSize = 32

    func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
        if batchSize < 1 { throw ValidationError("--batch-size must be at least 1") }
    }

    func apply() { ComputeThreads.set(threads ?? ComputeThreads.cores) }
}
