import BertCore
import Foundation

/// Makes a whole directory appear at once: its files are written into a sibling
/// `NAME.tmp-PID-RANDOM`, each fsynced (BertCore's `AtomicFile`), the temporary directory is
/// fsynced, then swapped into place with renameat2(RENAME_EXCHANGE) — a reader sees the old
/// directory or the new one, never a mixture and never nothing. A crash leaves at worst a
/// stale temporary directory beside an intact old one; the next write removes it.
public enum AtomicDirectory {
    public static func write(_ directory: URL, _ fill: (URL) throws -> Void) throws {
        let fm = FileManager.default
        let parent = directory.deletingLastPathComponent()
        do {
            try fm.createDirectory(at: parent, withIntermediateDirectories: true)
        } catch {
            throw TrainingDataError(.ioError, "cannot create \(parent.path): \(error.localizedDescription)")
        }
        removeStaleTemporaries(of: directory)
        let temp = parent.appendingPathComponent("\(directory.lastPathComponent).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        guard mkdir(temp.path, 0o755) == 0 else {
            throw TrainingDataError(.ioError, "cannot create \(temp.path): \(String(cString: strerror(errno)))")
        }
        do {
            try fill(temp)
            try syncPath(temp)
            try swapIntoPlace(temp, directory)
        } catch {
            try? fm.removeItem(at: temp)
            throw error
        }
        try? syncPath(parent)
    }

    /// Writes one file inside a directory being filled (temp file, fsync, rename).
    public static func writeFile(_ data: Data, to url: URL) throws {
        do { try AtomicFile.write(data, to: url) } catch let error as BertError {
            throw TrainingDataError(.ioError, error.message)
        }
    }

    /// Puts `temp` at `target`: exchanged with an existing directory (which is then deleted),
    /// or renamed when there is none.
    private static func swapIntoPlace(_ temp: URL, _ target: URL) throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: target.path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else {
                throw TrainingDataError(.ioError, "\(target.path) exists and is not a directory; remove it or choose another output")
            }
            if exchange(temp, target) {
                try? FileManager.default.removeItem(at: temp)  // now holds the old directory
                return
            }
            // No RENAME_EXCHANGE here (old kernel or file system): move the old directory
            // aside first. A crash between the two renames leaves it as NAME.old-PID.
            let aside = target.deletingLastPathComponent().appendingPathComponent("\(target.lastPathComponent).old-\(getpid())")
            try? FileManager.default.removeItem(at: aside)
            guard rename(target.path, aside.path) == 0 else {
                throw TrainingDataError(.ioError, "cannot replace \(target.path): \(String(cString: strerror(errno)))")
            }
            guard rename(temp.path, target.path) == 0 else {
                let reason = String(cString: strerror(errno))
                _ = rename(aside.path, target.path)
                throw TrainingDataError(.ioError, "cannot rename \(temp.path) to \(target.path): \(reason)")
            }
            try? FileManager.default.removeItem(at: aside)
            return
        }
        guard rename(temp.path, target.path) == 0 else {
            throw TrainingDataError(.ioError, "cannot rename \(temp.path) to \(target.path): \(String(cString: strerror(errno)))")
        }
    }

    private typealias RenameAt2 = @convention(c) (Int32, UnsafePointer<CChar>, Int32, UnsafePointer<CChar>, UInt32) -> Int32

    /// renameat2(…, RENAME_EXCHANGE), looked up at run time: glibc declares it only under
    /// _GNU_SOURCE, which the Swift Glibc module does not see.
    private static func exchange(_ a: URL, _ b: URL) -> Bool {
        guard let symbol = dlsym(nil, "renameat2") else { return false }
        let renameat2 = unsafeBitCast(symbol, to: RenameAt2.self)
        let renameExchange: UInt32 = 2  // linux/fs.h
        return renameat2(AT_FDCWD, a.path, AT_FDCWD, b.path, renameExchange) == 0
    }

    /// Restores an old directory a fallback swap left aside, and removes `NAME.tmp-PID-*` left by writers that no longer run (a crash mid-write); a
    /// directory of a live process is left alone.
    static func removeStaleTemporaries(of directory: URL) {
        let parent = directory.deletingLastPathComponent()
        let prefix = directory.lastPathComponent + ".tmp-"
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: parent.path) else { return }
        // The fallback swap was interrupted between its renames: the old directory is aside.
        if !FileManager.default.fileExists(atPath: directory.path),
           let aside = names.first(where: { $0.hasPrefix(directory.lastPathComponent + ".old-") }) {
            _ = rename(parent.appendingPathComponent(aside).path, directory.path)
        }
        for name in names where name.hasPrefix(prefix) {
            let pidText = name.dropFirst(prefix.count).prefix { $0.isNumber }
            if let pid = Int32(pidText), pid != getpid(), kill(pid, 0) == 0 || errno == EPERM { continue }
            try? FileManager.default.removeItem(at: parent.appendingPathComponent(name))
        }
    }

    static func syncPath(_ url: URL) throws {
        let fd = open(url.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw TrainingDataError(.ioError, "cannot open \(url.path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw TrainingDataError(.ioError, "cannot fsync \(url.path): \(String(cString: strerror(errno)))") }
    }
}
