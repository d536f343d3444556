import ArgumentParser

struct CompletionsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "completions",
        abstract: "Print the shell completion script for bertctl (subcommands, options and their choices).",
        discussion: """
        Deploy/install.sh installs all three. By hand:
          bertctl completions bash > /usr/share/bash-completion/completions/bertctl
          bertctl completions zsh > /usr/share/zsh/vendor-completions/_bertctl
          bertctl completions fish > /usr/share/fish/vendor_completions.d/bertctl.fish
          source <(bertctl completions bash)    # this bash session only
        """)

    enum Shell: String, CaseIterable, ExpressibleByArgument {
        case bash, zsh, fish

        var completionShell: CompletionShell {
            switch self {
            case .bash: return .bash
            case .zsh: return .zsh
            case .fish: return .fish
            }
        }
    }

    @Argument(help: "The shell.") var shell: Shell

    func run() {
        let script = BertCtl.completionScript(for: shell.completionShell)
        print(script, terminator: script.hasSuffix("\n") ? "" : "\n")
    }
}
