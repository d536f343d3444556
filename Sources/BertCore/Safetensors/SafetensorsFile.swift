import Foundation

/// A safetensors file, memory-mapped.
///
/// Layout (https://github.com/huggingface/safetensors): 8-byte little-endian header length N,
/// N bytes of JSON `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {...}}`,
/// then the data; offsets are relative to the end of the header. Tensors are read lazily and
/// converted to Float32 on request (F32, F16, BF16); integer tensors can be read as Int64.
public final class SafetensorsFile: @unchecked Sendable {
    public struct TensorInfo: Sendable {
        public let dtype: DType
        public let shape: [Int]
        public let byteRange: Range<Int>  // relative to the data section
        public var count: Int { shape.reduce(1, *) }
    }

    public enum DType: String, Sendable {
        case f32 = "F32", f16 = "F16", bf16 = "BF16", f64 = "F64"
        case i64 = "I64", i32 = "I32", i16 = "I16", i8 = "I8", u8 = "U8", bool = "BOOL"

        var byteSize: Int {
            switch self {
            case .f64, .i64: return 8
            case .f32, .i32: return 4
            case .f16, .bf16, .i16: return 2
            case .i8, .u8, .bool: return 1
            }
        }

        public var isFloatingPoint: Bool { self == .f32 || self == .f16 || self == .bf16 || self == .f64 }
    }

    public let path: String
    public let tensors: [String: TensorInfo]
    public let metadata: [String: String]
    private let mapping: UnsafeMutableRawPointer
    private let mappedLength: Int
    private let dataStart: Int

    public init(path: String) throws {
        self.path = path
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw BertError(.fileNotFound, "cannot open \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw BertError(.ioError, "cannot stat \(path)") }
        let length = Int(st.st_size)
        guard length >= 8 else { throw BertError(.invalidSafetensors, "\(path) is \(length) bytes, too short for a safetensors header") }
        guard let map = mmap(nil, length, PROT_READ, MAP_PRIVATE, fd, 0), map != MAP_FAILED else {
            throw BertError(.ioError, "cannot mmap \(path)")
        }
        var headerLength: UInt64 = 0
        memcpy(&headerLength, map, 8)
        // Checked as UInt64 first: a garbage length above Int.max must be an error, not a trap.
        let raw = UInt64(littleEndian: headerLength)
        let n = raw < 100_000_000 ? Int(raw) : -1
        guard n > 0, n <= length - 8 else {
            munmap(map, length)
            throw BertError(.invalidSafetensors, "\(path): header length \(raw) does not fit a file of \(length) bytes")
        }
        let headerData = Data(bytes: map + 8, count: n)
        do {
            (tensors, metadata) = try Self.parseHeader(headerData, dataLength: length - 8 - n, path: path)
        } catch {
            munmap(map, length)
            throw error
        }
        mapping = map
        mappedLength = length
        dataStart = 8 + n
    }

    deinit { munmap(mapping, mappedLength) }

    private static func parseHeader(_ data: Data, dataLength: Int, path: String) throws -> ([String: TensorInfo], [String: String]) {
        guard let object = try? JSONSerialization.jsonObject(with: data), let header = object as? [String: Any] else {
            throw BertError(.invalidSafetensors, "\(path): the header is not a JSON object")
        }
        var tensors: [String: TensorInfo] = [:]
        var metadata: [String: String] = [:]
        for (name, value) in header {
            if name == "__metadata__" {
                for (k, v) in (value as? [String: Any]) ?? [:] { metadata[k] = v as? String ?? "\(v)" }
                continue
            }
            guard let entry = value as? [String: Any],
                  let dtypeName = entry["dtype"] as? String,
                  let shape = entry["shape"] as? [Int],
                  let offsets = entry["data_offsets"] as? [Int], offsets.count == 2
            else { throw BertError(.invalidSafetensors, "\(path): tensor \(name) has a malformed header entry") }
            guard let dtype = DType(rawValue: dtypeName) else {
                throw BertError(.invalidSafetensors, "\(path): tensor \(name) has unsupported dtype \(dtypeName)")
            }
            let count = shape.reduce(1, *)
            guard shape.allSatisfy({ $0 >= 0 }), offsets[0] >= 0, offsets[0] <= offsets[1], offsets[1] <= dataLength,
                  offsets[1] - offsets[0] == count * dtype.byteSize
            else { throw BertError(.invalidSafetensors, "\(path): tensor \(name) (\(dtypeName) \(shape)) has data offsets \(offsets) outside the file or of the wrong size") }
            tensors[name] = TensorInfo(dtype: dtype, shape: shape, byteRange: offsets[0]..<offsets[1])
        }
        return (tensors, metadata)
    }

    /// Copies tensor `name` into `destination` (count elements) as Float32.
    public func readFloats(_ name: String, into destination: UnsafeMutablePointer<Float>) throws {
        guard let info = tensors[name] else { throw BertError(.weightMismatch, "\(path): no tensor \(name)") }
        let source = UnsafeRawPointer(mapping + dataStart + info.byteRange.lowerBound)
        let n = info.count
        switch info.dtype {
        case .f32:
            memcpy(destination, source, n * 4)  // safetensors is little-endian, like x86-64 and arm64
        case .f16:
            let s = source.assumingMemoryBound(to: UInt16.self)
            for i in 0..<n { destination[i] = Float(Float16(bitPattern: UInt16(littleEndian: s[i]))) }
        case .bf16:
            let s = source.assumingMemoryBound(to: UInt16.self)
            for i in 0..<n { destination[i] = Float(bitPattern: UInt32(UInt16(littleEndian: s[i])) << 16) }
        case .f64:
            for i in 0..<n { destination[i] = Float(source.loadUnaligned(fromByteOffset: i * 8, as: Double.self)) }
        default:
            throw BertError(.weightMismatch, "\(path): tensor \(name) is \(info.dtype.rawValue), not a floating-point tensor")
        }
    }

    /// Tensor `name` as Float32 values.
    public func floats(_ name: String) throws -> [Float] {
        guard let info = tensors[name] else { throw BertError(.weightMismatch, "\(path): no tensor \(name)") }
        var out = [Float](repeating: 0, count: info.count)
        try out.withUnsafeMutableBufferPointer { try readFloats(name, into: $0.baseAddress!) }
        return out
    }

    /// Integer tensor `name` (I64, I32, I16, I8, U8, BOOL) as Int values.
    public func integers(_ name: String) throws -> [Int] {
        guard let info = tensors[name] else { throw BertError(.weightMismatch, "\(path): no tensor \(name)") }
        let source = UnsafeRawPointer(mapping + dataStart + info.byteRange.lowerBound)
        let n = info.count
        switch info.dtype {
        case .i64: return (0..<n).map { Int(Int64(littleEndian: source.loadUnaligned(fromByteOffset: $0 * 8, as: Int64.self))) }
        case .i32: return (0..<n).map { Int(Int32(littleEndian: source.loadUnaligned(fromByteOffset: $0 * 4, as: Int32.self))) }
        case .i16: return (0..<n).map { Int(Int16(littleEndian: source.loadUnaligned(fromByteOffset: $0 * 2, as: Int16.self))) }
        case .i8: return (0..<n).map { Int(source.load(fromByteOffset: $0, as: Int8.self)) }
        case .u8, .bool: return (0..<n).map { Int(source.load(fromByteOffset: $0, as: UInt8.self)) }
        default: throw BertError(.weightMismatch, "\(path): tensor \(name) is \(info.dtype.rawValue), not an integer tensor")
        }
    }
}
