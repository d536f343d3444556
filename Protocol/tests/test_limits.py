"""Limits and their error codes: message size, texts per request, text size, truncation,
deadlines. Each abuse is followed by a check that the daemon still serves."""

import json
import time

import zmq

from conftest import MIB, check_reply, dealer, expect_error, req, req_watching_connection, status


def test_message_over_max_message_bytes(bertd):
    """Between 1× and 4× server.max_message_bytes (1 MiB): read, refused with too_large."""
    body = json.dumps({"id": "big", "op": "embed", "texts": ["word " * 300_000]}).encode()
    assert MIB < len(body) < 4 * MIB
    reply = expect_error(req(bertd.tcp, body), "too_large")
    assert reply["id"] is None  # refused before it is parsed
    assert str(1 << 20) in reply["error"]["message"]
    bertd.assert_serving()


def test_message_far_over_the_limit_is_dropped_or_refused(bertd):
    """Up to a hard cap (max(4 x max_message_bytes, 64 MiB)) the daemon reads an oversized message and
    answers too_large; past it libzmq drops the connection before allocating anything (no reply).
    Either way the daemon is unaffected and other clients are served."""
    body = b'{"id": "huge", "op": "ping", "pad": "' + b"a" * (5 * MIB) + b'"}'
    expect_error(req(bertd.tcp, body), "too_large")
    body = b'{"id": "huge", "op": "ping", "pad": "' + b"a" * (70 * MIB) + b'"}'
    # Past the cap: waits for the too_large reply or for the connection to be dropped, not for a timeout.
    reply, events = req_watching_connection(bertd.tcp, body, timeout_ms=60000)
    if reply is not None:
        expect_error(reply, "too_large")
    else:
        assert zmq.EVENT_DISCONNECTED in events, events
    del body
    bertd.assert_serving()


def test_100k_texts_in_one_request(bertd):
    body = {"id": "many", "op": "embed", "texts": ["hi"] * 100_000}
    reply = expect_error(req(bertd.tcp, body), "too_large", request_id="many")
    assert "256" in reply["error"]["message"]
    bertd.assert_serving()


def test_texts_per_request_limit_boundary(bertd):
    ok = check_reply(req(bertd.tcp, {"id": 1, "op": "embed", "texts": ["x"] * 256}, timeout_ms=60000), "embed", 1)
    assert ok["ok"] and len(ok["result"]["embeddings"]) == 256
    expect_error(req(bertd.tcp, {"id": 2, "op": "embed", "texts": ["x"] * 257}), "too_large", request_id=2)


def test_text_over_max_text_bytes(bertd):
    expect_error(req(bertd.tcp, {"id": 3, "op": "embed", "texts": ["a" * 65_537]}), "too_large", request_id=3)
    expect_error(req(bertd.tcp, {"id": 4, "op": "classify", "texts": ["ok"], "pairs": ["b" * 70_000]}),
                 "too_large", request_id=4)
    # 65 536 bytes is allowed (and truncated to the model's 512 tokens)
    reply = check_reply(req(bertd.tcp, {"id": 5, "op": "embed", "texts": ["ab " * 21_845]}, timeout_ms=60000), "embed", 5)
    assert reply["ok"] and reply["result"]["truncated"] == [True] and reply["result"]["tokens"] == [512]
    bertd.assert_serving()


def test_10mb_text_with_default_limits_gets_too_large(bertd):
    """A 10 MB message is over max_message_bytes (1 MiB) but under the hard cap: too_large."""
    body = json.dumps({"id": "10mb", "op": "classify", "texts": ["a" * (10 * 1000 * 1000)], "labels": ["a"]}).encode()
    reply = req(bertd.tcp, body, timeout_ms=5000)
    try:
        assert reply is not None, "no reply to a 10 MB text"
        expect_error(reply, "too_large")
    finally:
        bertd.assert_serving()


def test_10mb_text_with_large_message_limit(daemon_factory):
    """With server.max_message_bytes raised past 10 MB the message is read and the text is refused
    by server.max_text_bytes; memory goes back down."""
    d = daemon_factory(sets=["server.max_message_bytes=16000000"], name="bertd-10mb")
    before = d.rss_mib()
    for i in range(3):
        body = json.dumps({"id": f"10mb-{i}", "op": "classify", "texts": ["ok", "a" * (10 * 1000 * 1000)], "labels": ["a", "b"]})
        reply = expect_error(req(d.tcp, body.encode(), timeout_ms=30000), "too_large", request_id=f"10mb-{i}")
        assert "text 1" in reply["error"]["message"]
    d.assert_serving()
    assert d.rss_mib() < before + 200
    assert d.peak_rss_mib() < 500


def test_truncate_false_refuses_long_text(bertd):
    reply = expect_error(req(bertd.tcp, {"id": "nt", "op": "embed", "texts": ["word " * 600], "truncate": False}),
                         "too_large", request_id="nt")
    assert "512" in reply["error"]["message"]
    reply = check_reply(req(bertd.tcp, {"id": "t", "op": "embed", "texts": ["word " * 600, "short"]}, timeout_ms=60000), "embed", "t")
    assert reply["result"]["truncated"] == [True, False] and reply["result"]["tokens"] == [512, 3]


def test_deadline_zero_with_big_request(bertd):
    body = {"id": "late", "op": "embed", "texts": ["a long sentence for the encoder " * 40] * 64, "deadline_ms": 0}
    before = status(bertd)
    t = time.monotonic()
    reply = expect_error(req(bertd.tcp, body), "deadline_exceeded", request_id="late")
    assert time.monotonic() - t < 10  # dropped before compute, not computed (a generous bound)
    after = status(bertd)
    assert after["expired"] - before["expired"] == 64, (before, after)  # dropped before compute, not computed
    assert after["batched_texts"] == before["batched_texts"], (before, after)
    assert after["expired"] >= 64 and after["errors"].get("deadline_exceeded", 0) >= 1
    assert reply["error"]["message"]
    bertd.assert_serving()


def test_generous_deadline_is_met(bertd):
    reply = check_reply(req(bertd.tcp, {"id": "d", "op": "embed", "texts": ["quick"], "deadline_ms": 60000}), "embed", "d")
    assert reply["ok"]


def test_long_label_list_zero_shot(bertd):
    labels = [f"label number {i}" for i in range(200)]
    reply = check_reply(req(bertd.tcp, {"id": "L", "op": "classify", "texts": ["number seven"], "labels": labels, "top_k": 3},
                            timeout_ms=60000), "classify", "L")
    r = reply["result"]["results"][0]
    assert len(r["logits"]) == 200 and len(r["scores"]) == 3
