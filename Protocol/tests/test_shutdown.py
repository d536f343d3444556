"""SIGTERM: work in flight is answered, new work is refused `unavailable`, ping and status still
answer, and the daemon exits 0 (the fixture checks the exit status)."""

import json
import signal
import time

import zmq

from conftest import CTX, check_reply, req


def test_sigterm_drains_in_flight_work(daemon_factory):
    d = daemon_factory(sets=["server.shutdown_grace_ms=20000"], name="bertd-term")
    s = CTX.socket(zmq.DEALER)
    s.linger = 0
    s.connect(d.tcp)
    n = 8
    for i in range(n):
        s.send_multipart([b"", json.dumps({"id": i, "op": "embed", "texts": ["a sentence for the encoder " * 20] * 8}).encode()])
    time.sleep(0.2)
    d.proc.send_signal(signal.SIGTERM)
    time.sleep(0.2)
    if d.alive():  # still draining: new work is refused, ping and status are answered
        late = req(d.tcp, {"id": "late", "op": "embed", "texts": ["too late"]}, timeout_ms=5000)
        if late is not None:
            reply = check_reply(late, "embed", "late")
            assert reply["ok"] or reply["error"]["code"] == "unavailable", reply
        pong = req(d.tcp, {"id": "p", "op": "ping"}, timeout_ms=5000)
        if pong is not None:
            assert check_reply(pong, "ping", "p")["ok"]
    codes = {}
    for _ in range(n):
        assert s.poll(60000), f"in-flight requests not answered: got {len(codes)} of {n}"
        reply = check_reply(s.recv_multipart()[-1])
        codes[reply["id"]] = "ok" if reply["ok"] else reply["error"]["code"]
    s.close()
    assert set(codes) == set(range(n))
    assert set(codes.values()) <= {"ok", "unavailable"}, codes
    assert d.stop() == 0


def test_refused_after_grace_period(daemon_factory):
    """A grace period too short for the queue: the rest is answered `unavailable`, still exit 0."""
    d = daemon_factory(sets=["server.shutdown_grace_ms=0"], name="bertd-term0")
    s = CTX.socket(zmq.DEALER)
    s.linger = 0
    s.connect(d.tcp)
    n = 20
    for i in range(n):
        s.send_multipart([b"", json.dumps({"id": i, "op": "embed", "texts": ["a sentence for the encoder " * 20] * 16}).encode()])
    time.sleep(0.3)
    d.proc.send_signal(signal.SIGTERM)
    codes = []
    for _ in range(n):
        if not s.poll(30000):
            break
        reply = check_reply(s.recv_multipart()[-1])
        codes.append("ok" if reply["ok"] else reply["error"]["code"])
    s.close()
    assert len(codes) == n, f"only {len(codes)} of {n} answered"
    assert "unavailable" in codes and set(codes) <= {"ok", "unavailable"}, codes
    assert d.stop() == 0
