"""SIGTERM: work in flight is answered, new work is refused `unavailable`, ping and status still
answer, and the daemon exits 0 (the fixture checks the exit status).

No step waits a fixed time: the work is in flight once status says the daemon holds it, the
daemon is draining once it has logged "stopping", and it has stopped once the process exited."""

import json
import signal

import zmq

from conftest import CTX, check_reply, req, status, wait_until


def send_in_flight(d, n, texts_per_request):
    """A DEALER with n embed requests that the daemon holds (queued or computing) on return."""
    s = CTX.socket(zmq.DEALER)
    s.linger = 0
    s.connect(d.tcp)
    for i in range(n):
        s.send_multipart([b"", json.dumps({"id": i, "op": "embed",
                                           "texts": ["a sentence for the encoder " * 20] * texts_per_request}).encode()])
    wait_until(lambda: status(d)["queue"]["requests_in_flight"] >= n, what=f"{n} requests in flight")
    return s


def test_sigterm_drains_in_flight_work(daemon_factory):
    d = daemon_factory(sets=["server.shutdown_grace_ms=20000"], name="bertd-term")
    n = 8
    s = send_in_flight(d, n, texts_per_request=4)
    d.proc.send_signal(signal.SIGTERM)
    stopping = d.wait_for_log(r"stopping: (\d+) requests in flight")
    assert int(stopping.group(1)) >= 1, stopping.group(0)  # some of the work was still in flight
    # Draining: new work is refused, ping and status are answered.
    assert d.alive(), f"bertd exited before its in-flight work was answered:\n{d.log_text()[-3000:]}"
    late = req(d.tcp, {"id": "late", "op": "embed", "texts": ["too late"]}, timeout_ms=30000)
    assert late is not None, "no reply to a request sent while draining"
    reply = check_reply(late, "embed", "late")
    assert not reply["ok"] and reply["error"]["code"] == "unavailable", reply
    pong = req(d.tcp, {"id": "p", "op": "ping"}, timeout_ms=30000)
    assert pong is not None, "no reply to a ping while draining"
    assert check_reply(pong, "ping", "p")["ok"]
    draining = req(d.tcp, {"id": "st", "op": "status"}, timeout_ms=30000)
    assert draining is not None, "no reply to status while draining"
    assert check_reply(draining, "status", "st")["ok"]
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
    n = 20
    s = send_in_flight(d, n, texts_per_request=8)
    d.proc.send_signal(signal.SIGTERM)
    codes = []
    for _ in range(n):
        assert s.poll(30000), f"only {len(codes)} of {n} answered"
        reply = check_reply(s.recv_multipart()[-1])
        codes.append("ok" if reply["ok"] else reply["error"]["code"])
    s.close()
    assert len(codes) == n, f"only {len(codes)} of {n} answered"
    assert "unavailable" in codes and set(codes) <= {"ok", "unavailable"}, codes
    assert d.stop() == 0
