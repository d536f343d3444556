/// SHA-1 (FIPS 180-4), for comparing id lists with the fixtures' hashes: Foundation on Linux
/// has no CryptoKit, and the project takes no crypto dependency for a test.
struct SHA1 {
    private var state: (UInt32, UInt32, UInt32, UInt32, UInt32) = (0x6745_2301, 0xEFCD_AB89, 0x98BA_DCFE, 0x1032_5476, 0xC3D2_E1F0)

    static func hexDigest(_ bytes: [UInt8]) -> String {
        var sha = SHA1()
        var message = bytes
        let bitLength = UInt64(bytes.count) * 8
        message.append(0x80)
        while message.count % 64 != 56 { message.append(0) }
        for shift in stride(from: 56, through: 0, by: -8) { message.append(UInt8(truncatingIfNeeded: bitLength >> UInt64(shift))) }
        message.withUnsafeBufferPointer { buffer in
            for block in stride(from: 0, to: buffer.count, by: 64) { sha.process(buffer.baseAddress! + block) }
        }
        let words = [sha.state.0, sha.state.1, sha.state.2, sha.state.3, sha.state.4]
        let digits = Array("0123456789abcdef".utf8)
        var hex: [UInt8] = []
        for word in words {
            for shift in stride(from: 28, through: 0, by: -4) { hex.append(digits[Int((word >> UInt32(shift)) & 0xF)]) }
        }
        return String(decoding: hex, as: UTF8.self)
    }

    private mutating func process(_ block: UnsafePointer<UInt8>) {
        var w = [UInt32](repeating: 0, count: 80)
        for t in 0..<16 {
            w[t] = UInt32(block[4 * t]) << 24 | UInt32(block[4 * t + 1]) << 16 | UInt32(block[4 * t + 2]) << 8 | UInt32(block[4 * t + 3])
        }
        for t in 16..<80 {
            let x = w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16]
            w[t] = x << 1 | x >> 31
        }
        var (a, b, c, d, e) = state
        for t in 0..<80 {
            let f: UInt32, k: UInt32
            switch t {
            case 0..<20: f = (b & c) | (~b & d); k = 0x5A82_7999
            case 20..<40: f = b ^ c ^ d; k = 0x6ED9_EBA1
            case 40..<60: f = (b & c) | (b & d) | (c & d); k = 0x8F1B_BCDC
            default: f = b ^ c ^ d; k = 0xCA62_C1D6
            }
            let temp = (a << 5 | a >> 27) &+ f &+ e &+ k &+ w[t]
            e = d; d = c; c = b << 30 | b >> 2; b = a; a = temp
        }
        state = (state.0 &+ a, state.1 &+ b, state.2 &+ c, state.3 &+ d, state.4 &+ e)
    }
}

/// The fixtures' hash input: ids as decimals joined by ",".
func idString(_ ids: [Int32]) -> [UInt8] {
    var out: [UInt8] = []
    out.reserveCapacity(ids.count * 6)
    var digits: [UInt8] = []
    for (index, id) in ids.enumerated() {
        if index > 0 { out.append(UInt8(ascii: ",")) }
        var value = Int(id)
        if value < 0 { out.append(UInt8(ascii: "-")); value = -value }
        digits.removeAll(keepingCapacity: true)
        repeat { digits.append(UInt8(48 + value % 10)); value /= 10 } while value > 0
        out.append(contentsOf: digits.reversed())
    }
    return out
}
