import Foundation
import Synchronization

/// Ctrl-C (SIGINT) or SIGTERM during training: the first asks the run to stop after the current
/// step, with a resume point; a second one ends the process at once, as the signal would.
final class StopSignals: @unchecked Sendable {
    private let received = Atomic<Int32>(0)
    private var sources: [DispatchSourceSignal] = []

    init() {
        for sig in [SIGINT, SIGTERM] {
            signal(sig, SIG_IGN)  // delivered to the dispatch source instead
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { [unowned self] in
                if received.compareExchange(expected: 0, desired: sig, ordering: .relaxed).exchanged {
                    FileHandle.standardError.write(Data("\nstopping after this step, with a resume point (again to abort)\n".utf8))
                } else {
                    signal(sig, SIG_DFL)
                    raise(sig)
                }
            }
            source.resume()
            sources.append(source)
        }
    }

    /// The first signal received, or 0.
    var receivedSignal: Int32 { received.load(ordering: .relaxed) }
    var stopRequested: Bool { receivedSignal != 0 }
}
