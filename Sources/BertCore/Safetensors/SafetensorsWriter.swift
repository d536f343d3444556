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

    public func serialized() -> Data {
        var header: [String: Any] = [:]
        var offset = 0
        var body = Data()
        for entry in entries.sorted(by: { $0.name < $1.name }) {
            let bytes: Data
            let dtype: String
            switch entry.payload {
            case .f32(let v): bytes = v.withUnsafeBytes { Data($0) }; dtype = "F32"
            case .i64(let v): bytes = v.withUnsafeBytes { Data($0) }; dtype = "I64"
            case .raw(let d, let b): bytes = Data(b); dtype = d
            }
            header[entry.name] = ["dtype": dtype, "shape": entry.shape, "data_offsets": [offset, offset + bytes.count]]
            body.append(bytes)
            offset += bytes.count
        }
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var json = try! JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        while json.count % 8 != 0 { json.append(0x20) }  // pad with spaces so data starts 8-aligned
        var out = Data()
        var n = UInt64(json.count).littleEndian
        withUnsafeBytes(of: &n) { out.append(contentsOf: $0) }
        out.append(json)
        out.append(body)
        return out
    }

    public func write(to url: URL) throws {
        try AtomicFile.write(serialized(), to: url)
    }
}

/// Temp file + fsync + rename + fsync of the directory: the file is either the old one or the
/// whole new one, even across a crash or power loss.
public enum AtomicFile {
    public static func write(_ data: Data, to url: URL) throws {
        let dir = url.deletingLastPathComponent()
        let temp = dir.appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        let fd = open(temp.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw BertError(.ioError, "cannot create \(temp.path): \(String(cString: strerror(errno)))") }
        var ok = data.withUnsafeBytes { raw -> Bool in
            var written = 0
            while written < raw.count {
                let n = Glibc.write(fd, raw.baseAddress! + written, raw.count - written)
                if n < 0 { if errno == EINTR { continue }; return false }
                written += n
            }
            return true
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
