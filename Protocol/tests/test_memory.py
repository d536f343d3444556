"""Memory: a daemon of its own takes the abuse and the load the other tests give the shared
daemon (oversized and malformed messages, the largest requests allowed, many concurrent clients,
a client vanishing with queued work, a model loaded and unloaded), then its memory is bounded and
it still serves. Independent of the other tests and of their order."""

import json

import zmq

from conftest import CTX, MIB, TINY, check_reply, dealer, expect_error, req, req_watching_connection

LIMIT_MIB = 500


def abuse(d):
    """Messages over each size limit, and malformed ones: each refused, none kept."""
    expect_error(req(d.tcp, json.dumps({"id": "big", "op": "embed", "texts": ["word " * 300_000]}).encode()), "too_large")
    expect_error(req(d.tcp, b'{"id": "huge", "op": "ping", "pad": "' + b"a" * (5 * MIB) + b'"}'), "too_large")
    body = json.dumps({"id": "10mb", "op": "classify", "texts": ["a" * (10 * 1000 * 1000)], "labels": ["a"]}).encode()
    expect_error(req(d.tcp, body, timeout_ms=30000), "too_large")
    body = b'{"id": "huge", "op": "ping", "pad": "' + b"a" * (70 * MIB) + b'"}'
    reply, events = req_watching_connection(d.tcp, body, timeout_ms=60000)  # past the hard cap: dropped
    assert reply is None or check_reply(reply)["error"]["code"] == "too_large", (reply, events)
    del body
    expect_error(req(d.tcp, {"id": "many", "op": "embed", "texts": ["hi"] * 100_000}), "too_large", "many")
    expect_error(dealer(d.tcp, [b"x"] * 5000 + [b'{"op": "ping"}'])[-1], "bad_request")
    expect_error(req(d.tcp, b"\xff\xfe not json"), "bad_request")


def largest_requests(d):
    """The largest requests the limits allow: 256 texts, a 64 KiB text, 200 zero-shot labels."""
    r = check_reply(req(d.tcp, {"id": 1, "op": "embed", "texts": [f"text {i}" for i in range(256)]}, timeout_ms=60000), "embed", 1)
    assert len(r["result"]["embeddings"]) == 256
    r = check_reply(req(d.tcp, {"id": 2, "op": "embed", "texts": ["ab " * 21_845]}, timeout_ms=60000), "embed", 2)
    assert r["result"]["tokens"] == [512]
    labels = [f"label number {i}" for i in range(200)]
    r = check_reply(req(d.tcp, {"id": 3, "op": "classify", "texts": ["number seven"], "labels": labels, "top_k": 3},
                        timeout_ms=60000), "classify", 3)
    assert len(r["result"]["results"][0]["logits"]) == 200


def concurrent_clients(d, clients=64, per_client=8):
    """Many connections at once, each with several requests in flight: every one answered."""
    sockets = []
    for c in range(clients):
        s = CTX.socket(zmq.DEALER)
        s.linger = 0
        s.connect(d.tcp)
        sockets.append(s)
        for j in range(per_client):
            body = {"id": f"{c}-{j}", "op": "classify", "texts": [f"client {c} says sentence {j} about a film"],
                    "labels": ["positive", "negative"]}
            s.send_multipart([b"", json.dumps(body).encode()])
    answered = set()
    try:
        for c, s in enumerate(sockets):
            for _ in range(per_client):
                assert s.poll(120000), f"client {c}: a request got no reply"
                reply = check_reply(s.recv_multipart()[-1], "classify")
                assert reply["ok"] and reply["id"].startswith(f"{c}-"), reply
                answered.add(reply["id"])
    finally:
        for s in sockets:
            s.close(linger=0)
    assert len(answered) == clients * per_client


def vanishing_client(d):
    """A client queues work and disconnects: the daemon holds it until it is withdrawn or done."""
    s = CTX.socket(zmq.DEALER)
    s.connect(d.tcp)
    for i in range(20):
        texts = [f"text {i}.{j}: a sentence long enough to cost the encoder some real work" for j in range(50)]
        s.send_multipart([b"", json.dumps({"id": i, "op": "embed", "texts": texts}).encode()])
    s.close(linger=5000)


def load_and_unload(d):
    assert check_reply(req(d.admin, {"id": "l", "op": "load", "name": "tiny", "path": TINY}, timeout_ms=60000), "load", "l")["ok"]
    r = check_reply(req(d.tcp, {"id": "c", "op": "classify", "model": "tiny", "texts": ["hello"] * 8}), "classify", "c")
    assert r["ok"], r
    assert check_reply(req(d.admin, {"id": "u", "op": "unload", "name": "tiny"}), "unload", "u")["ok"]


def test_memory_stays_bounded_after_abuse_and_load(daemon_factory):
    d = daemon_factory(name="bertd-memory")
    at_start = d.rss_mib()
    for _ in range(2):  # twice: what the first round leaves behind must not grow in the second
        abuse(d)
        largest_requests(d)
        concurrent_clients(d)
        vanishing_client(d)
        load_and_unload(d)
    d.assert_serving()
    now, peak = d.rss_mib(), d.peak_rss_mib()
    print(f"\nbertd RSS: {at_start:.0f} MiB at start, {now:.0f} MiB now, peak {peak:.0f} MiB")
    assert now < LIMIT_MIB, f"RSS {now:.0f} MiB after the abuse and the load"
    assert peak < LIMIT_MIB, f"peak RSS {peak:.0f} MiB during the abuse and the load"
