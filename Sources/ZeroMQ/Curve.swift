import CZeroMQ

/// CurveZMQ keys as Z85 text (40 characters for 32 bytes).
public enum Curve {
    public static func keyPair() throws -> (publicKey: String, secretKey: String) {
        var pub = [CChar](repeating: 0, count: 41), sec = [CChar](repeating: 0, count: 41)
        guard zmq_curve_keypair(&pub, &sec) == 0 else { throw ZMQError.last("zmq_curve_keypair (is libzmq built with libsodium?)") }
        return (String(cString: pub), String(cString: sec))
    }

    /// The public key of a secret key.
    public static func publicKey(secret: String) throws -> String {
        var pub = [CChar](repeating: 0, count: 41)
        guard zmq_curve_public(&pub, secret) == 0 else { throw ZMQError.last("zmq_curve_public") }
        return String(cString: pub)
    }

    /// 32 raw bytes → Z85 text (ZAP hands the client's key over raw).
    public static func z85(_ bytes: [UInt8]) -> String {
        var out = [CChar](repeating: 0, count: bytes.count * 5 / 4 + 1)
        _ = bytes.withUnsafeBufferPointer { zmq_z85_encode(&out, $0.baseAddress, $0.count) }
        return String(cString: out)
    }

    public static func isValidKey(_ key: String) -> Bool {
        guard key.utf8.count == 40 else { return false }
        var raw = [UInt8](repeating: 0, count: 32)
        return zmq_z85_decode(&raw, key) != nil
    }

    /// Makes `socket` a CURVE server with `secretKey`; client authorisation goes through ZAP
    /// (see ZAPHandler) under `domain`.
    public static func makeServer(_ socket: Socket, secretKey: String, domain: String = "bertd") throws {
        try socket.set(ZMQ_CURVE_SERVER, Int32(1))
        try socket.set(ZMQ_CURVE_SECRETKEY, secretKey)
        try socket.set(ZMQ_ZAP_DOMAIN, domain)
    }

    /// Makes `socket` a CURVE client of the server with `serverKey`.
    public static func makeClient(_ socket: Socket, serverKey: String, publicKey: String, secretKey: String) throws {
        try socket.set(ZMQ_CURVE_SERVERKEY, serverKey)
        try socket.set(ZMQ_CURVE_PUBLICKEY, publicKey)
        try socket.set(ZMQ_CURVE_SECRETKEY, secretKey)
    }
}
