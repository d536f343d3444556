import BertCore
import BertPipeline
import BertProtocol
import Foundation
import ZeroMQ

/// Models: loading at start, hot load/unload on request, reload on SIGHUP. Loads run on threads
/// of their own; the I/O thread installs the result.
extension BertServer {
    /// Who asked for a load: answered when it is done.
    struct ReplyTarget {
        let id: JSON
        let origin: Origin
    }

    struct LoadOutcome {
        let name: String
        let path: String
        let result: Result<ServedEngine, Error>
        let reply: ReplyTarget?
        let seconds: Double
    }

    func loadInitialModels() throws {
        for entry in configuration.models {
            notifier.extendTimeout(seconds: 120)
            let started = monotonicSeconds()
            do {
                let engine = try ModelRegistry.load(entry)
                let model = registry.install(name: entry.name, path: entry.path, engine: engine)
                metrics.modelLoaded(seconds: monotonicSeconds() - started, ok: true, models: registry.models.count)
                log.info("loaded model \(entry.name) from \(entry.path) (\(model.family), \(model.parameterCount) parameters, \(model.precision.rawValue)) in \(Int((monotonicSeconds() - started) * 1000)) ms")
            } catch {
                throw ServerError("cannot load model \"\(entry.name)\" from \(entry.path): \(error)")
            }
        }
    }

    /// The models of finished training jobs, served again at start (after the configured ones,
    /// which a job's model of the same name replaces, as it did when the job finished). One that
    /// cannot be loaded is logged and skipped: it must not keep the daemon from starting.
    func loadJobModels() {
        for (name, path) in jobs.servedModels() {
            do {
                let model = registry.install(name: name, path: path, engine: try ModelRegistry.load(.init(name: name, path: path)))
                log.info("serving \(model.name) from a finished training job (\(path))")
            } catch {
                log.warning("cannot serve the training job model \(name) from \(path): \(error)")
            }
        }
    }

    /// Loads on a thread of its own; the I/O thread installs the result (hot: requests already
    /// queued finish on the previous version).
    func startLoad(_ entry: ServerConfiguration.ModelEntry, reply: ReplyTarget?) {
        pendingLoads += 1
        let mailbox = loads
        let thread = Thread {
            let started = monotonicSeconds()
            let result = Result { try ModelRegistry.load(entry) }
            mailbox.post([LoadOutcome(name: entry.name, path: entry.path, result: result, reply: reply, seconds: monotonicSeconds() - started)])
        }
        thread.name = "bertd-load"
        thread.start()
    }

    func finishLoad(_ outcome: LoadOutcome, publisher: Socket?) {
        pendingLoads -= 1
        defer {
            if case .success = outcome.result {
                metrics.modelLoaded(seconds: outcome.seconds, ok: true, models: registry.models.count)
            } else {
                metrics.modelLoaded(seconds: outcome.seconds, ok: false, models: registry.models.count)
            }
        }
        switch outcome.result {
        case .success(let engine):
            let model = registry.install(name: outcome.name, path: outcome.path, engine: engine)
            jobs.unserve(model.name, except: model.path)  // another directory under a job's name replaces its model
            log.notice("loaded model \(model.name) v\(model.version) from \(model.path) (\(model.precision.rawValue))")
            publish(.modelLoaded, [("model", .string(model.name)), ("version", .int(model.version)), ("path", .string(model.path))])
            if let r = outcome.reply { succeed(r.origin, r.id, .object([("loaded", modelJSON(model))])) }
        case .failure(let error):
            let message = (error as? BertError)?.message ?? "\(error)"
            log.warning("loading model \(outcome.name) from \(outcome.path) failed: \(message)")
            publish(.modelLoadFailed, [("model", .string(outcome.name)), ("path", .string(outcome.path)), ("message", .string(message))])
            if let r = outcome.reply {
                fail(r.origin, r.id, ProtocolError(error is QuantizationGateRefusal ? .quantizationGate : .loadFailed, message))
            }
        }
        if reloading && pendingLoads == 0 {
            reloading = false
            if !isStopping { setReadiness(.ready) }
            notifier.ready()
            log.notice("reload finished")
        }
    }

    func beginReload(publisher: Socket?) {
        guard !reloading else { return }
        notifier.reloading()
        reloading = true
        setReadiness(.reloading)
        if let reloadConfiguration {
            do {
                let fresh = try reloadConfiguration()
                if fresh.endpoints != configuration.endpoints || fresh.eventsEndpoint != configuration.eventsEndpoint {
                    log.warning("reload: endpoint changes take effect at the next restart")
                }
                let removed = Set(configuration.models.map(\.name)).subtracting(fresh.models.map(\.name))
                for name in removed {
                    if let model = registry.remove(name) {
                        publish(.modelUnloaded, [("model", .string(model.name)), ("version", .int(model.version))])
                    }
                }
                configuration = fresh
                registry.defaultName = fresh.defaultModel
                scheduler.update(limits: fresh.batchLimits)
                handler.limits = .init(maxTextsPerRequest: fresh.maxTextsPerRequest, maxTextBytes: fresh.maxTextBytes)
            } catch {
                log.error("reload: the configuration is invalid, keeping the running one: \(error)")
            }
        }
        log.notice("reloading \(configuration.models.count) models")
        for entry in configuration.models {
            startLoad(entry, reply: nil)
        }
        if pendingLoads == 0 {
            reloading = false
            setReadiness(.ready)
            notifier.ready()
        }
    }
}
