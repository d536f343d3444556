import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// bertd under a real systemd: ../shared/tools/systemd-sandbox boots one in private namespaces
/// (its own PID 1, loopback-only network, overlay root), Deploy/install.sh installs bertd, its
/// unit, bertd.toml and the default model into it, and the test drives it with systemctl and
/// bertctl, as an operator would:
///
///   start → ping and classify (tcp and the ipc admin socket) → reload → StatusText →
///   kill -9 → Restart= brings a new main PID → stop → Result=success.
///
/// Runs wherever it can, CI included (which runs as root): it needs root, the sandbox tool and
/// systemd's binaries (Deploy/setup.sh installs the `systemd` package as root), and a kernel
/// that lets it boot (namespaces, cgroup2, overlayfs). Skips with the reason where one is missing.
/// The binaries are this build's (they load libswift from /opt/swift, visible in the sandbox);
/// Deploy/install.sh without --binaries builds the statically linked ones a real install uses.
final class SystemdSandboxTests: XCTestCase {
    private static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
    private var sandboxTool = ""
    private var sandboxDirectory = ""
    private var sandboxUp = false

    private static var productsDirectory: URL {
        var directory = Bundle(for: SystemdSandboxTests.self).bundleURL
        while directory.pathExtension == "xctest" || directory.lastPathComponent == "Contents" {
            directory.deleteLastPathComponent()
        }
        return directory
    }

    override func setUpWithError() throws {
        let environment = ProcessInfo.processInfo.environment
        guard getuid() == 0 else {
            throw XCTSkip("the systemd sandbox test needs root (it boots systemd in new namespaces)")
        }
        sandboxTool = environment["BERTD_SYSTEMD_SANDBOX"]
            ?? Self.repository.deletingLastPathComponent().appendingPathComponent("shared/tools/systemd-sandbox").path
        guard FileManager.default.isExecutableFile(atPath: sandboxTool) else {
            throw XCTSkip("no systemd sandbox at \(sandboxTool) (set BERTD_SYSTEMD_SANDBOX)")
        }
        guard ["/lib/systemd/systemd", "/usr/lib/systemd/systemd"].contains(where: FileManager.default.isExecutableFile) else {
            throw XCTSkip("systemd is not installed (apt-get install systemd; Deploy/setup.sh does as root)")
        }
        for binary in ["bertd", "bertctl"] {
            let path = Self.productsDirectory.appendingPathComponent(binary).path
            guard FileManager.default.isExecutableFile(atPath: path) else {
                throw XCTSkip("\(path) is not built")
            }
        }
        let model = Self.repository.appendingPathComponent("models/all-MiniLM-L6-v2/model.safetensors").path
        guard FileManager.default.fileExists(atPath: model) else {
            throw XCTSkip("models/all-MiniLM-L6-v2 is absent: run Deploy/fetch-model.sh to enable this test")
        }
    }

    override func tearDown() {
        if sandboxUp {
            let down = run([sandboxTool, "down", sandboxDirectory], timeout: 60)
            if down.status != 0 { print("systemd-sandbox down: \(down.output)") }
        }
        if !sandboxDirectory.isEmpty { try? FileManager.default.removeItem(atPath: sandboxDirectory) }
    }

    func testInstallStartReloadRestartStop() throws {
        // Boot.
        sandboxDirectory = "/tmp/bertd-sandbox-\(getpid())-\(UInt16.random(in: 0...UInt16.max))"
        var clock = ContinuousClock.now
        let up = run([sandboxTool, "up", sandboxDirectory], timeout: 90)
        sandboxUp = true
        if up.status != 0 {
            // The kernel or container does not let systemd boot here (no namespaces, cgroup2 or
            // overlayfs): nothing of bertd's was tried.
            throw XCTSkip("systemd-sandbox cannot boot on this machine: \(up.output)")
        }
        guard let initPID = Int32(up.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            return XCTFail("systemd-sandbox up printed no PID: \(up.output)")
        }
        report("boot", since: &clock)

        // Install into its root, then let its systemd see the unit.
        let install = run(["/bin/bash", Self.repository.appendingPathComponent("Deploy/install.sh").path,
                           "--root", "/proc/\(initPID)/root",
                           "--binaries", Self.productsDirectory.path, "--allow-dynamic"], timeout: 300)
        XCTAssertEqual(install.status, 0, "install.sh: \(install.output)")
        guard install.status == 0 else { return }
        try inside("systemctl", "daemon-reload")
        let verify = inside(["systemd-analyze", "verify", "/etc/systemd/system/bertd.service"])
        XCTAssertEqual(verify.output, "", "systemd-analyze verify prints nothing")
        report("install", since: &clock)

        // Start: Type=notify, so this returns once bertd sent READY=1 (models loaded, sockets bound).
        let start = inside(["systemctl", "start", "bertd"], timeout: 150)
        XCTAssertEqual(start.status, 0, "systemctl start bertd: \(start.output)\n\(journal())")
        guard start.status == 0 else { return }
        XCTAssertEqual(property("ActiveState"), "active")
        report("start", since: &clock)

        // Requests through both default endpoints.
        for endpoint in ["tcp://127.0.0.1:5555", "ipc:///run/bertd/bertd.sock"] {
            let ping = inside(["bertctl", "ping", "--endpoint", endpoint])
            XCTAssertEqual(ping.status, 0, "bertctl ping --endpoint \(endpoint): \(ping.output)\n\(journal())")
        }
        let classify = inside(["bertctl", "classify", "--endpoint", "tcp://127.0.0.1:5555", "--labels", "sports,cooking",
                               "--json", "the striker scored twice in the final"])
        XCTAssertEqual(classify.status, 0, "bertctl classify: \(classify.output)")
        XCTAssertTrue(classify.stdout.contains("\"label\":\"sports\""), "classify answered: \(classify.stdout)")
        report("requests", since: &clock)

        // A training job under the hardened unit: the data in /srv (readable by the dynamic user),
        // followed to its end by bertctl, then served.
        let srv = "/proc/\(initPID)/root/srv/bertd-test"
        try FileManager.default.createDirectory(atPath: srv, withIntermediateDirectories: true)
        try ("text\tlabel\n" + (0..<96).map { "the film was \(["wonderful", "dreadful"][$0 % 2]) \($0)\t\(["pos", "neg"][$0 % 2])" }
            .joined(separator: "\n") + "\n").write(toFile: srv + "/train.tsv", atomically: true, encoding: .utf8)
        let trained = inside(["bertctl", "train", "--name", "sandboxed", "--train", "/srv/bertd-test/train.tsv",
                              "--epochs", "1", "--batch-size", "16"], timeout: 300)
        XCTAssertEqual(trained.status, 0, "bertctl train in bertd: \(trained.output)\n\(journal())")
        XCTAssertTrue(trained.stdout.contains("serving as sandboxed"), trained.output)
        XCTAssertTrue(waitFor { self.inside(["bertctl", "classify", "--model", "sandboxed", "the film was wonderful"]).status == 0 },
                      "the trained model is served\n\(journal())")
        report("training job", since: &clock)

        // Reload (SIGHUP → RELOADING=1 … READY=1): same process, active again.
        let mainPID = property("MainPID")
        try inside("systemctl", "reload", "bertd")
        XCTAssertTrue(waitFor { self.property("ActiveState") == "active" }, "active after reload\n\(journal())")
        XCTAssertEqual(property("MainPID"), mainPID, "a reload keeps the process")
        XCTAssertEqual(inside(["bertctl", "ping", "--endpoint", "tcp://127.0.0.1:5555"]).status, 0, "answers after reload")
        report("reload", since: &clock)

        // The STATUS= line.
        XCTAssertTrue(waitFor { (self.property("StatusText") ?? "").contains(" models, queue ") }, "StatusText is set")
        print("StatusText=\(property("StatusText") ?? "")")

        // kill -9: Restart=on-failure starts a new process.
        try inside("kill", "-9", mainPID ?? "0")
        let restarted = waitFor(seconds: 30) {
            guard self.property("ActiveState") == "active", let pid = self.property("MainPID") else { return false }
            return pid != mainPID && pid != "0"
        }
        XCTAssertTrue(restarted, "Restart= brought bertd back with a new MainPID\n\(journal())")
        XCTAssertEqual(property("NRestarts"), "1")
        XCTAssertEqual(inside(["bertctl", "ping", "--endpoint", "ipc:///run/bertd/bertd.sock"]).status, 0,
                       "answers after the restart")
        report("restart after kill -9", since: &clock)

        // Graceful stop: SIGTERM → STOPPING=1 → exit 0.
        try inside("systemctl", "stop", "bertd")
        XCTAssertEqual(property("ActiveState"), "inactive")
        XCTAssertEqual(property("Result"), "success", journal())
        XCTAssertEqual(property("ExecMainStatus"), "0")
        report("stop", since: &clock)
    }

    // MARK: Helpers

    private struct Outcome {
        var status: Int32
        var stdout: String
        var stderr: String
        var output: String { (stdout + stderr).trimmingCharacters(in: .whitespacesAndNewlines) }
    }

    /// Runs a command inside the sandbox's namespaces.
    private func inside(_ arguments: [String], timeout: TimeInterval = 60) -> Outcome {
        run([sandboxTool, "x", sandboxDirectory] + arguments, timeout: timeout)
    }

    /// Runs a command inside the sandbox and fails the test (throwing) when it fails.
    private func inside(_ arguments: String..., file: StaticString = #filePath, line: UInt = #line) throws {
        let outcome = inside(arguments)
        if outcome.status != 0 {
            XCTFail("\(arguments.joined(separator: " ")) exited \(outcome.status): \(outcome.output)\n\(journal())",
                    file: file, line: line)
            throw XCTSkip("stopping after a failed step")
        }
    }

    private func property(_ name: String) -> String? {
        let outcome = inside(["systemctl", "show", "-p", name, "--value", "bertd"])
        return outcome.status == 0 ? outcome.stdout.trimmingCharacters(in: .whitespacesAndNewlines) : nil
    }

    private func journal() -> String {
        "journal:\n" + inside(["journalctl", "-u", "bertd", "--no-pager", "-n", "40"]).output
    }

    private func waitFor(seconds: Double = 20, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition() { return true }
            usleep(100_000)
        }
        return condition()
    }

    private func report(_ step: String, since clock: inout ContinuousClock.Instant) {
        let now = ContinuousClock.now
        print("systemd sandbox: \(step) took \(now - clock)")
        clock = now
    }

    /// Runs a process with a time limit; its output goes through temporary files.
    /// Not Foundation's Process: it notices the end of a child through a socket the child
    /// inherits, and `systemd-sandbox up` leaves a grandchild (the namespaces' init) holding it,
    /// so waitUntilExit would never return. posix_spawn + waitpid, and no descriptor but 0–2
    /// passed on.
    private func run(_ arguments: [String], timeout: TimeInterval) -> Outcome {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("bertd-sandbox-run-\(UUID().uuidString)").path
        let outPath = base + ".out", errPath = base + ".err"
        defer {
            unlink(outPath)
            unlink(errPath)
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, errPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        // closefrom(3) for the child (glibc's posix_spawn ignores a close of a descriptor closed since).
        let open = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        for fd in open.compactMap(Int32.init) where fd > 2 { posix_spawn_file_actions_addclose(&actions, fd) }
        let argv = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, arguments[0], &actions, nil, argv, environ)
        guard spawned == 0 else {
            return Outcome(status: -1, stdout: "", stderr: "cannot run \(arguments[0]): \(String(cString: strerror(spawned)))")
        }
        var status: Int32 = 0
        let deadline = Date().addingTimeInterval(timeout)
        var timedOut = false
        while waitpid(pid, &status, WNOHANG) == 0 {
            if Date() > deadline {
                kill(pid, SIGKILL)
                waitpid(pid, &status, 0)
                timedOut = true
                break
            }
            usleep(20_000)
        }
        let stdout = (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
        var stderr = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
        if timedOut { stderr += "\n\(arguments.joined(separator: " ")) timed out after \(timeout) s" }
        // waitpid status: exit code in bits 8–15 when the low 7 bits (the signal) are 0.
        let exitStatus: Int32 = timedOut ? -1 : (status & 0x7f == 0 ? (status >> 8) & 0xff : -(status & 0x7f))
        return Outcome(status: exitStatus, stdout: stdout, stderr: stderr)
    }
}
