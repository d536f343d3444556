import ArgumentParser

struct UnloadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unload", abstract: "Stop serving a model (requests in flight finish). Needs the admin (ipc) endpoint.")

    @OptionGroup var daemon: DaemonOptions
    @Argument(help: "The model's name.") var name: String

    func run() throws {
        var request = DaemonOptions.newRequest(.unload)
        request.name = name
        _ = try daemon.call(request)
        print("unloaded \(name)")
    }
}
