"""Bad input of every kind gets an error reply with its stable code (and the request's id when it
could be read); the daemon keeps serving other clients after each."""

import json

import pytest

from conftest import check_reply, expect_error, req


def send(bertd, body, timeout_ms=20000):
    reply = req(bertd.tcp, body, timeout_ms=timeout_ms)
    assert reply is not None, f"no reply to {body!r:.200}"
    return reply


CASES = [
    # (name, body, error code, the id the reply must carry)
    ("not json", b"this is not json", "bad_request", None),
    ("truncated json", b'{"id": "t", "op": "ping"', "bad_request", None),
    ("json array", b"[1, 2, 3]", "bad_request", None),
    ("json string", b'"ping"', "bad_request", None),
    ("json null", b"null", "bad_request", None),
    ("invalid utf-8", b'{"id": "u", "op": "ping", "x": "\xff\xfe"}', "bad_request", None),
    ("overlong utf-8", b'{"id": "u", "op": "ping", "x": "\xc0\xaf"}', "bad_request", None),
    ("lone surrogate escaped", b'{"id": "s", "op": "classify", "texts": ["\\ud800"], "labels": ["a"]}', "bad_request", None),
    ("nul byte", b'{"id": "n", "op": "ping"}\x00', "bad_request", None),
    ("missing op", {"id": "m"}, "bad_request", "m"),
    ("op not a string", {"id": "m", "op": 3}, "bad_request", "m"),
    ("unknown op", {"id": "o", "op": "frobnicate"}, "unknown_op", "o"),
    ("op case", {"id": "o", "op": "PING"}, "unknown_op", "o"),
    ("id a float", {"id": 1.5, "op": "ping"}, "bad_request", None),
    ("id a bool", {"id": True, "op": "ping"}, "bad_request", None),
    ("id an object", {"id": {"a": 1}, "op": "ping"}, "bad_request", None),
    ("version 2", {"id": 5, "v": 2, "op": "ping"}, "unsupported_version", 5),
    ("version a string", {"id": 5, "v": "1", "op": "ping"}, "bad_request", 5),
    ("missing texts", {"id": "t", "op": "classify", "labels": ["a"]}, "bad_request", "t"),
    ("texts a string", {"id": "t", "op": "embed", "texts": "hello"}, "bad_request", "t"),
    ("texts with a number", {"id": "t", "op": "embed", "texts": ["a", 1]}, "bad_request", "t"),
    ("texts with null", {"id": "t", "op": "embed", "texts": ["a", None]}, "bad_request", "t"),
    ("texts nested", {"id": "t", "op": "embed", "texts": [["a"]]}, "bad_request", "t"),
    ("empty texts", {"id": "t", "op": "embed", "texts": []}, "bad_request", "t"),
    ("empty text", {"id": "t", "op": "embed", "texts": ["ok", ""]}, "bad_request", "t"),
    ("empty single text", {"id": "t", "op": "embed", "text": ""}, "bad_request", "t"),
    ("text and texts", {"id": "t", "op": "embed", "text": "a", "texts": ["a"]}, "bad_request", "t"),
    ("model a number", {"id": "t", "op": "embed", "texts": ["a"], "model": 3}, "bad_request", "t"),
    ("unknown model", {"id": "t", "op": "embed", "texts": ["a"], "model": "nope"}, "unknown_model", "t"),
    ("pairs count", {"id": "t", "op": "classify", "texts": ["a"], "pairs": ["b", "c"]}, "bad_request", "t"),
    ("pairs with labels", {"id": "t", "op": "classify", "texts": ["a"], "pairs": ["b"], "labels": ["x"]}, "bad_request", "t"),
    ("labels empty", {"id": "t", "op": "classify", "texts": ["a"], "labels": []}, "bad_request", "t"),
    ("labels duplicate", {"id": "t", "op": "classify", "texts": ["a"], "labels": ["x", "x"]}, "bad_request", "t"),
    ("labels empty string", {"id": "t", "op": "classify", "texts": ["a"], "labels": ["x", ""]}, "bad_request", "t"),
    ("labels not strings", {"id": "t", "op": "classify", "texts": ["a"], "labels": [1, 2]}, "bad_request", "t"),
    ("labels on embed", {"id": "t", "op": "embed", "texts": ["a"], "labels": ["x"]}, "bad_request", "t"),
    ("top_k zero", {"id": "t", "op": "classify", "texts": ["a"], "labels": ["x"], "top_k": 0}, "bad_request", "t"),
    ("top_k string", {"id": "t", "op": "classify", "texts": ["a"], "labels": ["x"], "top_k": "2"}, "bad_request", "t"),
    ("top_k float", {"id": "t", "op": "classify", "texts": ["a"], "labels": ["x"], "top_k": 1.5}, "bad_request", "t"),
    ("deadline negative", {"id": "t", "op": "embed", "texts": ["a"], "deadline_ms": -1}, "bad_request", "t"),
    ("deadline string", {"id": "t", "op": "embed", "texts": ["a"], "deadline_ms": "100"}, "bad_request", "t"),
    ("truncate a number", {"id": "t", "op": "embed", "texts": ["a"], "truncate": 1}, "bad_request", "t"),
    ("truncate a string", {"id": "t", "op": "embed", "texts": ["a"], "truncate": "false"}, "bad_request", "t"),
    ("classify without head", {"id": "t", "op": "classify", "texts": ["a"]}, "unsupported", "t"),
    # The request is parsed (and refused as bad) before the endpoint's operations are checked.
    ("load missing path", {"id": "l", "op": "load", "name": "x"}, "bad_request", "l"),
    ("load on tcp", {"id": "l", "op": "load", "name": "x", "path": "/x"}, "forbidden", "l"),
    ("unload on tcp", {"id": "l", "op": "unload", "name": "minilm"}, "forbidden", "l"),
]


@pytest.mark.parametrize("name,body,code,rid", CASES, ids=[c[0] for c in CASES])
def test_bad_request(bertd, name, body, code, rid):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    reply = check_reply(send(bertd, raw))
    assert reply["id"] == rid
    expect_error(reply, code)


def test_bad_requests_on_admin_endpoint(bertd):
    for body, code in [({"id": 1, "op": "load", "name": "x"}, "bad_request"),
                       ({"id": 1, "op": "load", "path": "/x"}, "bad_request"),
                       ({"id": 1, "op": "load", "name": 3, "path": "/x"}, "bad_request"),
                       ({"id": 1, "op": "unload"}, "bad_request"),
                       ({"id": 1, "op": "unload", "name": "never-loaded"}, "unknown_model"),
                       ({"id": 1, "op": "load", "name": "bad", "path": "/nonexistent/model"}, "load_failed"),
                       ({"id": 1, "op": "load", "name": "bad", "path": "/etc"}, "load_failed")]:
        expect_error(req(bertd.admin, body), code, request_id=1)
    bertd.assert_serving()


def test_unknown_fields_are_ignored(bertd):
    reply = check_reply(send(bertd, {"id": "x", "op": "ping", "extra": {"nested": [1, 2]}}), "ping", "x")
    assert reply["ok"]


def test_id_forms_are_echoed(bertd):
    for rid in ["", "abc", "ünïcødé ✓", 0, -7, 2 ** 53]:
        assert check_reply(send(bertd, {"id": rid, "op": "ping"}), "ping")["id"] == rid
    assert check_reply(send(bertd, {"op": "ping"}), "ping")["id"] is None
    assert check_reply(send(bertd, {"id": None, "op": "ping"}), "ping")["id"] is None


def test_unicode_texts(bertd):
    texts = ["café crème brûlée", "日本語のテキスト", "emoji 😀🎬", "mixed\ttabs\nand newlines", "\u200b zero width"]
    reply = check_reply(send(bertd, {"id": "u", "op": "classify", "texts": texts, "labels": ["food", "film"]}), "classify", "u")
    assert reply["ok"] and len(reply["result"]["results"]) == len(texts)


def test_daemon_serves_after_bad_input(bertd):
    bertd.assert_serving()
