"""Admin operations on the ipc endpoint: hot load/unload of a model directory, the events they
publish on the PUB socket, and forbidden on the tcp endpoint."""

import json
import os
import shutil

import pytest
import zmq

from conftest import CTX, TINY, Subscription, check_event, check_reply, expect_error, req, subscribe, subscribed


@pytest.fixture
def events(bertd):
    """The Python client's subscription, in place at the daemon (probed, not slept on)."""
    with subscribe(bertd, ["model."]) as subscription:
        yield subscription


def next_event(events, timeout_ms=10000):
    got = events.next(timeout_ms)
    assert got is not None, "no event"
    topic, body = got
    return check_event([topic.encode(), json.dumps(body).encode()])


def admin(bertd, body, timeout_ms=60000):
    return check_reply(req(bertd.admin, body, timeout_ms=timeout_ms), body["op"] if body["op"] in ("load", "unload") else None,
                       body.get("id"))


def test_admin_ops_forbidden_on_tcp(bertd):
    for body in [{"id": "f1", "op": "load", "name": "tiny", "path": TINY}, {"id": "f2", "op": "unload", "name": "minilm"}]:
        reply = expect_error(req(bertd.tcp, body), "forbidden", request_id=body["id"])
        assert body["op"] in reply["error"]["message"]
    names = [m["name"] for m in check_reply(req(bertd.tcp, {"op": "models"}), "models")["result"]["models"]]
    assert "tiny" not in names and "minilm" in names
    bertd.assert_serving()


def test_load_classify_reload_unload_with_events(bertd, events, tmp_path):
    model_dir = tmp_path / "tiny-model"
    shutil.copytree(TINY, model_dir)

    loaded = admin(bertd, {"id": "L1", "op": "load", "name": "tiny", "path": str(model_dir)})["result"]["loaded"]
    assert loaded["name"] == "tiny" and loaded["version"] == 1 and loaded["labels"] == ["neg", "neu", "pos"]
    ev = next_event(events)
    assert ev["event"] == "model.loaded" and ev["model"] == "tiny" and ev["version"] == 1 and ev["path"] == str(model_dir)

    # served at once, from the tcp endpoint
    reply = check_reply(req(bertd.tcp, {"id": "c", "op": "classify", "model": "tiny", "texts": ["hello"]}), "classify", "c")
    assert reply["ok"] and reply["result"]["version"] == 1
    models = check_reply(req(bertd.tcp, {"op": "models"}), "models")["result"]["models"]
    assert [m["version"] for m in models if m["name"] == "tiny"] == [1]

    # hot reload under the same name: requests in flight finish, new ones see version 2
    s = CTX.socket(zmq.DEALER)
    s.linger = 0
    s.connect(bertd.tcp)
    for i in range(20):
        s.send_multipart([b"", json.dumps({"id": i, "op": "classify", "model": "tiny", "texts": [f"text {i}"] * 8}).encode()])
    reloaded = admin(bertd, {"id": "L2", "op": "load", "name": "tiny", "path": str(model_dir)})["result"]["loaded"]
    assert reloaded["version"] == 2
    ev = next_event(events)
    assert ev["event"] == "model.loaded" and ev["version"] == 2
    got = {}
    for _ in range(20):
        assert s.poll(60000)
        r = check_reply(s.recv_multipart()[-1], "classify")
        assert r["ok"], r
        got[r["id"]] = r["result"]["version"]
    s.close()
    assert set(got) == set(range(20)) and set(got.values()) <= {1, 2}
    reply = check_reply(req(bertd.tcp, {"id": "c2", "op": "classify", "model": "tiny", "texts": ["hello"]}), "classify", "c2")
    assert reply["result"]["version"] == 2

    unloaded = admin(bertd, {"id": "U", "op": "unload", "name": "tiny"})["result"]["unloaded"]
    assert unloaded["name"] == "tiny" and unloaded["version"] == 2
    ev = next_event(events)
    assert ev["event"] == "model.unloaded" and ev["model"] == "tiny" and ev["version"] == 2
    expect_error(req(bertd.tcp, {"id": "c3", "op": "classify", "model": "tiny", "texts": ["hello"]}), "unknown_model", "c3")
    expect_error(req(bertd.admin, {"id": "U2", "op": "unload", "name": "tiny"}), "unknown_model", "U2")
    bertd.assert_serving()


def test_load_failed_event(bertd, events, tmp_path):
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "config.json").write_text("{ not json")
    for path in [str(tmp_path / "missing"), str(broken)]:
        reply = expect_error(req(bertd.admin, {"id": "bad", "op": "load", "name": "broken", "path": path}, timeout_ms=60000),
                             "load_failed", request_id="bad")
        ev = next_event(events)
        assert ev["event"] == "model.load_failed" and ev["model"] == "broken" and ev["path"] == path
        assert ev["message"] == reply["error"]["message"]
    names = [m["name"] for m in check_reply(req(bertd.tcp, {"op": "models"}), "models")["result"]["models"]]
    assert "broken" not in names
    bertd.assert_serving()


def test_events_by_topic_prefix(bertd, tmp_path):
    """BertdEvents: every topic by default, only the prefixes asked for otherwise; the iterator
    and next() yield (topic, object); next() times out with None."""
    with Subscription(bertd.events) as everything, Subscription(bertd.events, topics=["model.unloaded"]) as unloads:
        subscribed(bertd, everything, unloads)
        admin(bertd, {"id": "L", "op": "load", "name": "prefix-test", "path": TINY})
        admin(bertd, {"id": "U", "op": "unload", "name": "prefix-test"})
        stream = iter(everything)
        assert [next(stream)[0], next(stream)[0]] == ["model.loaded", "model.unloaded"]
        topic, body = unloads.next(timeout_ms=10000)
        assert topic == "model.unloaded" and body["model"] == "prefix-test" and body["event"] == topic
        assert unloads.next(timeout_ms=200) is None  # the load was not for this subscriber
    bertd.assert_serving()


def test_bertctl_against_daemon(bertd):
    """bertctl (the CLI companion) speaks the same protocol; a smoke check when it is built."""
    import subprocess
    from conftest import REPO
    bertctl = os.environ.get("BERTCTL_BIN", os.path.join(REPO, ".build", "release", "bertctl"))
    if not os.access(bertctl, os.X_OK):
        pytest.skip("bertctl is not built")
    out = subprocess.run([bertctl, "ping", "--endpoint", bertd.tcp], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
