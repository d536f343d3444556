import CZeroMQ
import Foundation

/// The ZAP (ZeroMQ Authentication Protocol, RFC 27) handler that decides which CURVE clients a
/// server socket accepts: a thread answering libzmq on inproc://zeromq.zap.01. A client whose
/// public key is not listed gets status 400 and its connection is closed before any message.
public final class ZAPHandler: @unchecked Sendable {
    private let context: Context
    private let authorized: Set<String>
    private let stopFlag = NSLock()
    private var stopping = false
    private var thread: Thread?
    private let done = DispatchSemaphore(value: 0)

    /// authorizedKeys: Z85 public keys of the clients allowed in.
    public init(context: Context, authorizedKeys: Set<String>) throws {
        self.context = context
        authorized = authorizedKeys
        let socket = try Socket(context, .rep)
        try socket.setLinger(0)
        try socket.setReceiveTimeout(200)
        try socket.bind("inproc://zeromq.zap.01")
        let t = Thread { [self] in serve(socket) }
        t.name = "bertd-zap"
        thread = t
        t.start()
    }

    public func stop() {
        stopFlag.lock()
        let wasStopping = stopping
        stopping = true
        stopFlag.unlock()
        if !wasStopping { done.wait() }
    }

    private var isStopping: Bool {
        stopFlag.lock()
        defer { stopFlag.unlock() }
        return stopping
    }

    private func serve(_ socket: Socket) {
        defer { socket.close(); done.signal() }
        while !isStopping {
            guard let message = try? socket.receive() else { continue }  // timeout: check the flag
            let f = message.frames
            // version, request id, domain, address, identity, mechanism, credentials…
            guard f.count >= 6 else { continue }
            let version = f[0], requestId = f[1]
            let mechanism = String(decoding: f[5], as: UTF8.self)
            var status = "400", text = "not authorized", user = ""
            if mechanism == "CURVE", f.count >= 7, f[6].count == 32 {
                let key = Curve.z85(f[6])
                if authorized.contains(key) { status = "200"; text = "OK"; user = key }
            } else if mechanism == "NULL" {
                status = "200"; text = "OK"  // plain endpoints (ipc, unencrypted tcp) are not CURVE's to judge
            }
            try? socket.send([version, requestId, Array(status.utf8), Array(text.utf8), Array(user.utf8), []])
        }
    }
}
