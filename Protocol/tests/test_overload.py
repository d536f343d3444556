"""Admission control: a daemon with tiny queue bounds, flooded from several sockets, answers some
requests `overloaded` at once and every request gets exactly one reply."""

import collections
import json
import threading
import time

import zmq

from bertd_client import BertdClient
from conftest import CTX, check_reply, req


def connected_dealer(endpoint):
    """A DEALER whose connection is up: a ping went through it (instead of sleeping after connect)."""
    s = CTX.socket(zmq.DEALER)
    s.linger = 0
    s.connect(endpoint)
    s.send_multipart([b"", json.dumps({"id": "connected", "op": "ping"}).encode()])
    assert s.poll(30000), "no reply to a ping"
    assert check_reply(s.recv_multipart()[-1], "ping", "connected")["ok"]
    return s


def test_flood_past_queue_bounds(daemon_factory):
    d = daemon_factory(sets=["batching.max_queue_tokens=2000", "batching.max_queue_requests=32"], name="bertd-flood")
    sockets = [connected_dealer(d.tcp) for _ in range(6)]
    text = "an ordinary sentence about a film that was better than expected"
    per_socket = 60
    sent = set()
    for i, s in enumerate(sockets):
        for j in range(per_socket):
            rid = f"{i}-{j}"
            body = {"id": rid, "op": "classify", "texts": [text] * 4, "labels": ["good", "bad"]}
            s.send_multipart([b"", json.dumps(body).encode()])
            sent.add(rid)
    codes = collections.Counter()
    answered = collections.Counter()
    poller = zmq.Poller()
    for s in sockets:
        poller.register(s, zmq.POLLIN)
    until = time.monotonic() + 120
    while sum(answered.values()) < len(sent) and time.monotonic() < until:
        for s, _ in poller.poll(1000):
            reply = check_reply(s.recv_multipart()[-1], "classify")
            answered[reply["id"]] += 1
            codes["ok" if reply["ok"] else reply["error"]["code"]] += 1
    for s in sockets:
        s.close()
    assert set(answered) == sent, f"{len(sent) - len(answered)} requests got no reply"
    assert all(n == 1 for n in answered.values())
    assert codes["overloaded"] > 0, codes
    assert codes["ok"] > 0, codes
    assert set(codes) <= {"ok", "overloaded"}, codes
    status = check_reply(req(d.tcp, {"id": "s", "op": "status"}), "status")["result"]
    assert status["errors"]["overloaded"] == codes["overloaded"]
    d.assert_serving()


def test_client_backs_off_on_overloaded(daemon_factory):
    """The queue bounds count texts waiting for a batch (an empty queue admits any one request).
    Under a flood, a client with overload_retries backs off and gets through."""
    d = daemon_factory(sets=["batching.max_queue_tokens=64", "batching.max_queue_requests=2"], name="bertd-tiny-q")
    s = connected_dealer(d.tcp)
    t = time.monotonic()
    for i in range(40):
        s.send_multipart([b"", json.dumps({"id": i, "op": "embed", "texts": ["a sentence to keep the engine busy " * 4] * 2}).encode()])
    # The flood's replies are read (and timed) as they come, while the client below backs off: the
    # time of the first refusal is when it arrived, not when the client was done.
    arrivals = []

    def read_replies():
        for _ in range(40):
            if not s.poll(60000):
                return
            arrivals.append((time.monotonic() - t, s.recv_multipart()[-1]))

    reader = threading.Thread(target=read_replies)
    reader.start()
    c = BertdClient(d.tcp, timeout_ms=30000, overload_retries=10)
    try:
        assert c.embed("one sentence")["dimension"] == 384
    finally:
        c.close()
        reader.join(120)
    assert not reader.is_alive() and len(arrivals) == 40, f"{len(arrivals)} of 40 replies"
    codes, first_overloaded = collections.Counter(), None
    for arrived, frame in arrivals:
        reply = check_reply(frame, "embed")
        code = "ok" if reply["ok"] else reply["error"]["code"]
        if code == "overloaded" and first_overloaded is None:
            first_overloaded = arrived
        codes[code] += 1
    s.close()
    assert codes["overloaded"] > 0 and set(codes) <= {"ok", "overloaded"}, codes
    assert first_overloaded < 5  # refused at once, not after waiting (a generous bound: it takes milliseconds)
    d.assert_serving()
