import ArgumentParser

struct PingCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ping", abstract: "Check that bertd answers; exit status 0 when it does, 3 when it does not.")

    @OptionGroup var daemon: DaemonOptions

    func run() throws {
        let result = try daemon.call(DaemonOptions.newRequest(.ping))
        print("pong from bertd \(result["version"] as? String ?? "?") at \(DaemonClient.resolveEndpoint(daemon.endpoint))")
    }
}
