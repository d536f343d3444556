import BertProtocol
import COpenBLAS
import Foundation

/// The CPU a benchmark ran on, so a figure is never quoted without it: /proc/cpuinfo's model
/// name, vendor, family and model, the widest vector instructions it has, whether it runs
/// 256-bit AVX2 at half width (AMD family 17h models before 30h, Zen 1 and Zen+, split each
/// 256-bit operation in two), and the kernel set OpenBLAS chose for it.
struct CPUInfo {
    var model = "unknown"
    var vendor = "unknown"
    var family = 0
    var modelNumber = 0
    var flags: Set<String> = []

    init() {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return }
        // The first processor block describes them all (a VM's cores are one kind).
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2 else {
                if line.trimmingCharacters(in: .whitespaces).isEmpty, !flags.isEmpty { break }
                continue
            }
            switch parts[0] {
            case "model name": model = parts[1]
            case "vendor_id": vendor = parts[1]
            case "cpu family": family = Int(parts[1]) ?? 0
            case "model": modelNumber = Int(parts[1]) ?? 0
            case "flags": flags = Set(parts[1].split(separator: " ").map(String.init))
            default: break
            }
        }
    }

    /// The widest vector instruction set: avx512f, avx2 (with fma) or sse4.2 and below.
    var vectorISA: String {
        if flags.contains("avx512f") { return "AVX-512 (512-bit)" }
        if flags.contains("avx2") { return flags.contains("fma") ? "AVX2 + FMA (256-bit)" : "AVX2 (256-bit)" }
        return "SSE (128-bit)"
    }

    /// AMD Zen 1 / Zen+ execute each 256-bit AVX2 operation as two 128-bit halves.
    var avx2AtHalfWidth: Bool { vendor == "AuthenticAMD" && family == 0x17 && modelNumber < 0x30 && flags.contains("avx2") }

    /// /proc/loadavg's 1, 5 and 15 minute averages ("unknown" where there is none).
    static var loadAverage: String {
        guard let text = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8) else { return "unknown" }
        return text.split(separator: " ").prefix(3).joined(separator: " ")
    }

    var openBLASCore: String { openblas_get_corename().map { String(cString: $0) } ?? "unknown" }

    var json: [(String, JSON)] {
        [("model", .string(model)), ("vendor", .string(vendor)), ("family", .int(family)), ("model_number", .int(modelNumber)),
         ("vector_isa", .string(vectorISA)), ("avx2_half_width", .bool(avx2AtHalfWidth)), ("openblas_core", .string(openBLASCore))]
    }
}
