import ArgumentParser
import BertGateway
import BertServer
import Foundation

/// bertd: serve BERT-family classifiers over ZeroMQ (and HTTP) under systemd. Thin: reads the
/// configuration, wires signals to the server, runs it.
@main
struct Bertd: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bertd",
        abstract: "Serve BERT-family text classifiers over ZeroMQ (run it under systemd: Deploy/bertd.service).",
        discussion: """
        SIGTERM/SIGINT stop gracefully (in-flight work finishes within server.shutdown_grace_ms);
        SIGHUP re-reads the configuration and reloads the models.
        Examples:
          bertd --config /etc/bertd/bertd.toml
          bertd --config none --set 'models.minilm.path=models/all-MiniLM-L6-v2' --set 'server.events_endpoint=ipc:///tmp/bertd-events.sock'
        """,
        version: BertServer.version)

    @Option(help: "The configuration file (TOML); \"none\" for the built-in defaults.")
    var config = "/etc/bertd/bertd.toml"

    @Option(name: .customLong("set"), help: "Override one setting: section.key=value (repeatable), e.g. batching.max_delay_ms=2.")
    var overrides: [String] = []

    @Flag(help: "Check the configuration, print it as the daemon sees it, and exit.")
    var checkConfig = false

    func run() throws {
        let path = config
        let sets = overrides
        let load: () throws -> ServerConfiguration = {
            var c = path == "none" ? ServerConfiguration.defaults : try ServerConfiguration.load(path: path)
            for o in sets { try c.apply(override: o) }
            return c
        }
        let configuration: ServerConfiguration
        do {
            configuration = try load()
        } catch {
            // One line naming the key, and EX_CONFIG: the unit's RestartPreventExitStatus=78
            // keeps systemd from restarting a daemon that cannot start.
            FileHandle.standardError.write(Data("<3>bertd: \(error)\n".utf8))
            throw ExitCode(78)
        }
        if checkConfig {
            print(configuration.tomlText, terminator: "")
            return
        }
        let log = Logger(level: configuration.logLevel)
        let server = try BertServer(configuration: configuration, notifier: SystemdNotifier(), log: log,
                                    reloadConfiguration: load)
        let gateway: HTTPGateway?
        do {
            gateway = try HTTPGateway(server: server, configuration: configuration)
        } catch {
            log.error("\(error)")
            throw ExitCode(78)  // a configuration problem (a tokens file): systemd must not restart
        }
        let signals = SignalHandlers(onStop: { server.requestStop() }, onReload: {
            server.requestReload()
            for problem in gateway?.reloadTokens() ?? [] { log.error("reload: \(problem); keeping the tokens in use") }
        })
        defer { signals.cancel() }
        do {
            // HTTP listens from the start: /healthz answers and /readyz says "starting" while
            // the models load; requests wait for the server's loop. It closes after the loop
            // has answered everything.
            if let gateway {
                let bound = try gateway.start()
                let address = { (kind: HTTPGateway.ListenerKind) in bound.first { $0.kind == kind }?.address }
                if let open = address(.public), let admin = address(.admin) {
                    log.notice("HTTP gateway listening on \(open) (public) and \(admin) (admin)")
                }
                if let metrics = address(.metrics) { log.notice("Prometheus metrics on \(metrics)/metrics") }
            }
            defer { gateway?.stop() }
            try server.run()
        } catch {
            log.error("\(error)")
            throw ExitCode(1)
        }
    }
}

/// SIGTERM/SIGINT → stop, SIGHUP → reload, SIGPIPE ignored; handled on a dispatch queue, so
/// the handlers may do anything (they only post to the server's control pipe).
final class SignalHandlers {
    private var sources: [DispatchSourceSignal] = []

    init(onStop: @escaping () -> Void, onReload: @escaping () -> Void) {
        signal(SIGPIPE, SIG_IGN)
        for (sig, action) in [(SIGTERM, onStop), (SIGINT, onStop), (SIGHUP, onReload)] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler(handler: action)
            source.resume()
            sources.append(source)
        }
    }

    func cancel() { sources.forEach { $0.cancel() } }
}
