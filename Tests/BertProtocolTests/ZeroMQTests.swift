import Foundation
import XCTest
import ZeroMQ

/// The libzmq wrapper on real sockets: REQ and DEALER against a ROUTER, poll, PUB/SUB.
final class ZeroMQTests: XCTestCase {
    func testReqAndDealerThroughRouter() throws {
        let context = try Context()
        let router = try Socket(context, .router)
        try router.setLinger(0)
        try router.bind("tcp://127.0.0.1:*")
        let endpoint = router.lastEndpoint
        XCTAssertTrue(endpoint.hasPrefix("tcp://127.0.0.1:"), endpoint)

        let req = try Socket(context, .req)
        try req.setLinger(0)
        try req.connect(endpoint)
        try req.send(["hello"])
        var poller = Poller()
        poller.add(.socket(router))
        XCTAssertEqual(try poller.poll(timeoutMs: 2000), [0])
        let fromReq = try XCTUnwrap(try router.receive())
        XCTAssertEqual(fromReq.frames.count, 3)  // identity, empty delimiter, body
        XCTAssertEqual(fromReq.frames[1], [])
        try router.send([fromReq.frames[0], [], Array("world".utf8)])
        try req.setReceiveTimeout(2000)
        XCTAssertEqual(try req.receive()?.frames, [Array("world".utf8)])

        let dealer = try Socket(context, .dealer)
        try dealer.setLinger(0)
        try dealer.connect(endpoint)
        try dealer.send(["a", "b"])
        XCTAssertEqual(try poller.poll(timeoutMs: 2000), [0])
        let fromDealer = try XCTUnwrap(try router.receive())
        XCTAssertEqual(fromDealer.frames.count, 3)
        XCTAssertEqual(fromDealer.frames[1...].map { String(decoding: $0, as: UTF8.self) }, ["a", "b"])
        XCTAssertNil(try router.receive(dontWait: true))
        for s in [req, dealer, router] { s.close() }
    }

    func testRouterMandatoryReportsAGonePeer() throws {
        let context = try Context()
        let router = try Socket(context, .router)
        try router.setLinger(0)
        try router.setRouterMandatory(true)
        try router.bind("inproc://mandatory")
        XCTAssertThrowsError(try router.send([Array("nobody".utf8), [], Array("x".utf8)], dontWait: true)) { error in
            XCTAssertTrue((error as? ZMQError)?.isUnroutable ?? false, "\(error)")
        }
        router.close()
    }

    /// A message names the descriptor of its connection, and the monitor reports that
    /// descriptor's accept and disconnect, in order, for tcp and ipc alike.
    func testMonitorTiesMessagesToConnections() throws {
        let context = try Context()
        let path = NSTemporaryDirectory() + "bertd-monitor-\(getpid()).sock"
        defer { unlink(path) }
        for address in ["tcp://127.0.0.1:*", "ipc://" + path] {
            let router = try Socket(context, .router)
            try router.setLinger(0)
            let monitor = try SocketMonitor(context, watching: router)
            try router.bind(address)
            for round in 0..<3 {
                let req = try Socket(context, .req)
                try req.connect(router.lastEndpoint)
                try req.send(["round \(round)"])
                let message = try XCTUnwrap(try router.receive())
                let fd = try XCTUnwrap(message.sourceDescriptor, address)
                // `accepted` was queued before the message could be read.
                XCTAssertEqual(monitor.drain().map(\.kind), [.accepted], address)
                try req.setLinger(0)
                req.close()
                var events: [SocketMonitor.Event] = []
                let until = Date(timeIntervalSinceNow: 5)
                while events.isEmpty && Date() < until { events = monitor.drain(); usleep(1000) }
                XCTAssertEqual(events.map(\.kind), [.disconnected], address)
                XCTAssertEqual(events.first?.descriptor, fd, address)
            }
            monitor.close()
            router.close()
        }
    }

    func testFramesPastTheLimitAreDropped() throws {
        let context = try Context()
        let pull = try Socket(context, .pull), push = try Socket(context, .push)
        try pull.bind("inproc://frames"); try push.connect("inproc://frames")
        try push.send((0..<10).map { "f\($0)" })
        let message = try XCTUnwrap(try pull.receive(maxFrames: 4))
        XCTAssertEqual(message.frames.count, 4)
        XCTAssertTrue(message.truncated)
        try push.send(["next"])
        XCTAssertEqual(try pull.receive()?.frames.count, 1)  // the rest of the long message was consumed
        push.close(); pull.close()
    }

    func testCurveKeys() throws {
        let (pub, sec) = try Curve.keyPair()
        XCTAssertTrue(Curve.isValidKey(pub))
        XCTAssertEqual(try Curve.publicKey(secret: sec), pub)
        XCTAssertFalse(Curve.isValidKey("short"))
    }
}
