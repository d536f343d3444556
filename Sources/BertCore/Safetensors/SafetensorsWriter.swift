import Foundation

/// Writes Float32 (and Int64) tensors as a safetensors file, atomically: a temporary file in
/// the same directory, fsync, then rename — a reader never sees half a file.
public struct SafetensorsWriter {
    private enum Payload {
        case f32([Float])
        case i64([Int64])
        case raw(dtype: String, bytes: [UInt8])
    }

    private var entries: [(name: String, shape: [Int], payload: Payload)] = []
    public var metadata: [String: String] = [:]

    public init() {}

    public mutating func add(_ name: String, shape: [Int], values: [Float]) {
        precondition(shape.reduce(1, *) == values.count, "\(name): shape \(shape) does not hold \(values.count) values")
        entries.append((name, shape, .f32(values)))
    }

    public mutating func add(_ name: String, shape: [Int], integers: [Int64]) {
        precondition(shape.reduce(1, *) == integers.count, "\(name): shape \(shape) does not hold \(integers.count) values")
        entries.append((name, shape, .i64(integers)))
    }

    /// Raw little-endian bytes of another dtype (e.g. "F16", "BF16"), for tests and conversions.
    public mutating func add(_ name: String, shape: [Int], dtype: String, bytes: [UInt8]) {
        entries.append((name, shape, .raw(dtype: dtype, bytes: bytes)))
    }

    private var sortedEntries: [(name: String, shape: [Int], payload: Payload)] { entries.sorted { $0.name < $1.name } }

    /// The 8-byte header length and the JSON header (padded so the data starts 8-aligned).
    private func prefix() -> Data {
        var header: [String: Any] = [:]
        var offset = 0
        for entry in sortedEntries {
            let (dtype, count) = Self.describe(entry.payload)
            header[entry.name] = ["dtype": dtype, "shape": entry.shape, "data_offsets": [offset, offset + count]]
            offset += count
        }
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var json = try! JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        while json.count % 8 != 0 { json.append(0x20) }  // pad with spaces so data starts 8-aligned
        var out = Data()
        var n = UInt64(json.count).littleEndian
        withUnsafeBytes(of: &n) { out.append(contentsOf: $0) }
        out.append(json)
        return out
    }

    private static func describe(_ payload: Payload) -> (dtype: String, bytes: Int) {
        switch payload {
        case .f32(let v): return ("F32", v.count * 4)
        case .i64(let v): return ("I64", v.count * 8)
        case .raw(let d, let b): return (d, b.count)
        }
    }

    private static func withBytes<R>(_ payload: Payload, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        switch payload {
        case .f32(let v): return try v.withUnsafeBytes(body)
        case .i64(let v): return try v.withUnsafeBytes(body)
        case .raw(_, let b): return try b.withUnsafeBytes(body)
        }
    }

    public func serialized() -> Data {
        var out = prefix()
        for entry in sortedEntries { Self.withBytes(entry.payload) { out.append(contentsOf: $0) } }
        return out
    }

    /// Streams the header and each tensor's bytes to the file: no copy of the whole file is
    /// built in memory (a MiniLM checkpoint is 90 MB; concatenating it took most of a second).
    public func write(to url: URL) throws {
        let head = prefix()
        try AtomicFile.write(to: url) { write in
            try head.withUnsafeBytes(write)
            for entry in sortedEntries { try Self.withBytes(entry.payload, write) }
        }
    }
}

/// Temp file + fsync + rename + fsync of the directory: the file is either the old one or the
/// whole new one, even across a crash or power loss.
public enum AtomicFile {
    public static func write(_ data: Data, to url: URL) throws {
        try write(to: url) { write in try data.withUnsafeBytes(write) }
    }

    private struct WriteFailed: Error {}

    /// The file's contents come from `fill`, which hands byte ranges to the writer it is given.
    public static func write(to url: URL, _ fill: ((UnsafeRawBufferPointer) throws -> Void) throws -> Void) throws {
        let dir = url.deletingLastPathComponent()
        let temp = dir.appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        let fd = open(temp.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw BertError(.ioError, "cannot create \(temp.path): \(String(cString: strerror(errno)))") }
        var ok = true
        do {
            try fill { raw in
                var written = 0
                while written < raw.count {
                    let n = Glibc.write(fd, raw.baseAddress! + written, raw.count - written)
                    if n < 0 { if errno == EINTR { continue }; throw WriteFailed() }
                    written += n
                }
            }
        } catch {
            ok = false
        }
        ok = ok && fsync(fd) == 0
        close(fd)
        guard ok, rename(temp.path, url.path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temp.path)
            throw BertError(.ioError, "cannot write \(url.path): \(reason)")
        }
        let dfd = open(dir.path, O_RDONLY | O_DIRECTORY)
        if dfd >= 0 { fsync(dfd); close(dfd) }
    }
}
