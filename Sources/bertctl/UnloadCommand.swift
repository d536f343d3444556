import ArgumentParser

struct UnloadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unload", abstract: "Stop serving a model (requests in flight finish). Needs the admin (ipc) endpoint.")

    @OptionGroup var daemon: DaemonOptions
    @Argument(help: "The model's name.") var name: String

    func run() throws {
        _ = try daemon.call(DaemonOptions.newRequest(.unload(name: name)))
        print("unloaded \(name)")
    }
}
