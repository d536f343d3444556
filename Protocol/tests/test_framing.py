"""Transport: REQ, DEALER with and without the empty delimiter, extra envelope frames, a proxy,
and malformed multipart messages. After each abuse the daemon must still serve others."""

import json
import threading

import zmq

from conftest import CTX, check_reply, dealer, expect_error, req, wait_until

PING = json.dumps({"id": "f", "op": "ping"}).encode()


def test_req_client(bertd):
    assert check_reply(req(bertd.tcp, PING), "ping", "f")["ok"]


def test_req_over_ipc(bertd):
    assert check_reply(req(bertd.admin, PING), "ping", "f")["ok"]


def test_dealer_without_delimiter(bertd):
    frames = dealer(bertd.tcp, [PING])
    assert len(frames) == 1
    assert check_reply(frames[0], "ping", "f")["ok"]


def test_dealer_with_empty_delimiter(bertd):
    frames = dealer(bertd.tcp, [b"", PING])
    assert frames[0] == b"" and len(frames) == 2
    assert check_reply(frames[1], "ping", "f")["ok"]


def test_dealer_extra_envelope_frames_are_echoed(bertd):
    frames = dealer(bertd.tcp, [b"tag-1", b"tag-2", b"", PING])
    assert frames[:3] == [b"tag-1", b"tag-2", b""]
    assert check_reply(frames[3], "ping", "f")["ok"]


def test_dealer_pipelined_requests_are_matched_by_id(bertd):
    s = CTX.socket(zmq.DEALER)
    s.linger = 0
    s.connect(bertd.tcp)
    try:
        for i in range(20):
            op = "ping" if i % 2 else "classify"
            body = {"id": i, "op": op, "texts": [f"sentence number {i}"], "labels": ["a", "b"]}
            s.send_multipart([b"", json.dumps(body).encode()])
        seen = set()
        for _ in range(20):
            assert s.poll(60000)
            frames = s.recv_multipart()
            reply = check_reply(frames[-1])
            assert reply["ok"]
            seen.add(reply["id"])
        assert seen == set(range(20))
    finally:
        s.close()


def test_through_a_router_dealer_proxy(bertd):
    """bertd behind zmq_proxy (how several workers scale out): a REQ client through the proxy works."""
    front = "inproc://bertd-proxy-front"
    router, dealer_sock = CTX.socket(zmq.ROUTER), CTX.socket(zmq.DEALER)
    router.linger = dealer_sock.linger = 0
    router.bind(front)
    dealer_sock.connect(bertd.tcp)
    control = CTX.socket(zmq.PAIR)
    control.bind("inproc://bertd-proxy-control")

    def run():
        ctl = CTX.socket(zmq.PAIR)
        ctl.connect("inproc://bertd-proxy-control")
        try:
            zmq.proxy_steerable(router, dealer_sock, None, ctl)
        except zmq.ContextTerminated:
            pass
        finally:
            ctl.close(linger=0)

    t = threading.Thread(target=run, daemon=True)
    t.start()
    try:
        for i in range(3):
            reply = req(front, {"id": f"proxied-{i}", "op": "classify", "texts": ["via a proxy"], "labels": ["a", "b"]})
            assert check_reply(reply, "classify", f"proxied-{i}")["ok"]
    finally:
        control.send(b"TERMINATE")
        t.join(5)
        control.close(linger=0)
        router.close(linger=0)
        dealer_sock.close(linger=0)


def test_empty_body(bertd):
    frames = dealer(bertd.tcp, [b""])
    expect_error(frames[-1], "bad_request")
    frames = dealer(bertd.tcp, [b"", b""])
    assert frames[0] == b""
    expect_error(frames[-1], "bad_request")
    bertd.assert_serving()


def test_empty_req_message(bertd):
    expect_error(req(bertd.tcp, b""), "bad_request")
    bertd.assert_serving()


def test_too_many_frames(bertd):
    """More than 64 frames: bad_request (the frames past 64 are read and dropped)."""
    frames = dealer(bertd.tcp, [b"x"] * 5000 + [PING])
    assert frames is not None
    reply = expect_error(frames[-1], "bad_request")
    assert "frames" in reply["error"]["message"]
    bertd.assert_serving()


def test_request_in_a_non_final_frame_is_not_read(bertd):
    """The body is the last frame only: a request followed by junk frames is answered as junk."""
    frames = dealer(bertd.tcp, [b"", PING, b"junk"])
    expect_error(frames[-1], "bad_request")
    bertd.assert_serving()


def test_client_disconnects_mid_request(bertd):
    """Send work and close the socket at once, many times: the replies are dropped, nothing breaks."""
    for i in range(30):
        s = CTX.socket(zmq.DEALER)
        s.linger = 0
        s.connect(bertd.tcp)
        s.send_multipart([b"", json.dumps({"id": i, "op": "embed", "texts": ["a sentence that goes nowhere " * 8] * 4}).encode()])
        s.close(linger=0)
    for i in range(10):  # REQ clients too, with and without linger
        s = CTX.socket(zmq.REQ)
        s.linger = 100 if i % 2 else 0
        s.connect(bertd.tcp)
        s.send(json.dumps({"id": i, "op": "classify", "texts": ["gone"] * 8, "labels": ["a", "b"]}).encode())
        s.close()
    bertd.assert_serving()
    assert bertd.alive()


def _status(bertd):
    return check_reply(req(bertd.tcp, {"id": "s", "op": "status"}), "status", "s")["result"]


def test_work_of_a_vanished_client_is_withdrawn(bertd):
    """A client queues about ten seconds of work and disconnects: what was still queued is taken
    back unserved (status.abandoned counts it), and clients arriving on the freed connection
    slot get every reply."""
    before = _status(bertd)
    requests, per_request = 20, 200
    s = CTX.socket(zmq.DEALER)
    s.connect(bertd.tcp)
    for i in range(requests):
        texts = [f"text {i}.{j}: a sentence long enough to cost the encoder some real work" for j in range(per_request)]
        s.send_multipart([b"", json.dumps({"id": i, "op": "embed", "texts": texts}).encode()])
    # Close once the daemon holds the requests: work it had not read yet when the disconnect came
    # may be computed if a new connection already took the old one's descriptor (PROTOCOL.md).
    wait_until(lambda: _status(bertd)["queue"]["requests_in_flight"] >= requests, what=f"{requests} requests in flight")
    s.close(linger=5000)
    for i in range(5):
        reply = check_reply(req(bertd.tcp, {"id": f"live{i}", "op": "embed", "texts": ["still served"]}), "embed", f"live{i}")
        assert reply["ok"]

    def idle():
        st = _status(bertd)
        return st if st["queue"]["texts"] == 0 and st["queue"]["requests_in_flight"] == 0 else None

    status = wait_until(idle, interval_s=0.05, what="an empty queue")
    withdrawn = status["abandoned"]["texts"] - before["abandoned"]["texts"]
    computed = status["batched_texts"] - before["batched_texts"]
    # Requests read after the disconnect are dropped untokenized: counted, but not as texts.
    assert status["abandoned"]["requests"] > before["abandoned"]["requests"], status
    assert computed < requests * per_request // 2, (computed, withdrawn, status)
    assert computed + withdrawn <= requests * per_request + 5, (computed, withdrawn, status)
    bertd.assert_serving()
