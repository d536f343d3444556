"""The Python client (Protocol/clients/python) against a real daemon: every operation."""

import math

import pytest

from bertd_client import BertdClient, BertdError, BertdUnavailable
from conftest import SCHEMAS, TINY, check_reply, req


def valid(op, result):
    SCHEMAS[f"{op}.result"].validate(result)
    return result


def test_ping(client):
    result = valid("ping", client.ping())
    assert result["pong"] is True and result["version"]


def test_status(client):
    result = valid("status", client.status())
    assert result["protocol"] == 1 and result["models"] >= 1 and result["threads"] >= 1


def test_models(client):
    result = valid("models", client.models())
    assert result["default"] == "minilm"
    minilm = next(m for m in result["models"] if m["name"] == "minilm")
    assert minilm["family"] == "bert" and minilm["hidden_size"] == 384 and minilm["max_length"] == 512
    assert minilm["can_classify"] is False and minilm["zero_shot"] is True and minilm["labels"] == []


def test_embed(client):
    result = valid("embed", client.embed(["a first sentence", "another one"]))
    assert result["model"] == "minilm" and result["dimension"] == 384
    assert len(result["embeddings"]) == 2 and all(len(e) == 384 for e in result["embeddings"])
    for e in result["embeddings"]:  # sentence-transformers models are L2-normalised
        assert math.isclose(math.sqrt(sum(x * x for x in e)), 1.0, rel_tol=1e-3)
    assert result["tokens"] == [5, 4] and result["truncated"] == [False, False]
    one = valid("embed", client.embed("a first sentence"))
    assert max(abs(a - b) for a, b in zip(one["embeddings"][0], result["embeddings"][0])) < 1e-4


def test_classify_zero_shot(client):
    result = valid("classify", client.classify(["the team won the football match", "add flour and bake the cake"],
                                               labels=["sports", "cooking"]))
    a, b = result["results"]
    assert a["label"] == "sports" and b["label"] == "cooking"
    # cosine × 20 → softmax
    for r in (a, b):
        z = [math.exp(x) for x in r["logits"]]
        probs = [x / sum(z) for x in z]
        assert list(r["scores"]) == ["sports", "cooking"]
        assert all(math.isclose(p, r["scores"][k], rel_tol=1e-4) for p, k in zip(probs, ["sports", "cooking"]))
        assert all(-20.001 <= x <= 20.001 for x in r["logits"])
        assert r["score"] == max(r["scores"].values())


def test_classify_zero_shot_matches_embeddings(client):
    text, labels = "the soup was cold and the waiter rude", ["food", "service", "weather"]
    cls = client.classify(text, labels=labels)["results"][0]
    emb = client.embed([text] + labels)["embeddings"]
    cos = [sum(x * y for x, y in zip(emb[0], e)) for e in emb[1:]]
    assert all(abs(20 * c - l) < 1e-2 for c, l in zip(cos, cls["logits"]))


def test_classify_top_k(client):
    r = valid("classify", client.classify("a brilliant film", labels=["awful", "great", "okay"], top_k=2))["results"][0]
    assert len(r["scores"]) == 2 and len(r["logits"]) == 3
    values = list(r["scores"].values())
    assert values == sorted(values, reverse=True) and list(r["scores"])[0] == r["label"]


def test_classify_without_head_is_unsupported(client):
    with pytest.raises(BertdError) as e:
        client.classify("no labels and no head")
    assert e.value.code == "unsupported"


def test_classify_with_head_and_pairs(bertd, client, admin):
    loaded = valid("load", admin.load("tiny-client", TINY))["loaded"]
    assert loaded["labels"] == ["neg", "neu", "pos"] and loaded["can_classify"]
    try:
        r = valid("classify", client.classify(["first part", "another"], model="tiny-client", pairs=["second part", "more"]))
        assert r["model"] == "tiny-client" and len(r["results"]) == 2
        for x in r["results"]:
            assert list(x["scores"]) == ["neg", "neu", "pos"] and len(x["logits"]) == 3
            assert math.isclose(sum(x["scores"].values()), 1.0, rel_tol=1e-4)
        single = client.classify("first part", model="tiny-client")["results"][0]
        assert single["tokens"] < r["results"][0]["tokens"]  # the pair adds its tokens and a [SEP]
    finally:
        valid("unload", admin.unload("tiny-client"))


def test_load_with_long_documents(bertd, client, admin):
    loaded = valid("load", admin.load("tiny-windows", TINY, long_documents={"window": 16}))["loaded"]
    assert loaded["long_documents"] == {"window": 16, "stride": 4, "aggregate": "mean"}
    try:
        r = valid("classify", client.classify("word " * 40, model="tiny-windows"))["results"][0]
        assert r["windows"] > 1 and r["truncated"] is False
    finally:
        valid("unload", admin.unload("tiny-windows"))


def test_deadline_and_truncate_options(client):
    long_text = "word " * 1000
    r = client.classify(long_text, labels=["a", "b"], deadline_ms=60000)["results"][0]
    assert r["truncated"] is True and r["tokens"] == 512
    with pytest.raises(BertdError) as e:
        client.classify(long_text, labels=["a", "b"], truncate=False)
    assert e.value.code == "too_large"


def test_error_carries_code_and_message(client):
    with pytest.raises(BertdError) as e:
        client.classify("x", model="no-such-model", labels=["a"])
    assert e.value.code == "unknown_model" and "no-such-model" in e.value.message
    check_reply(e.value.reply)


def test_admin_ops_forbidden_on_tcp(client):
    with pytest.raises(BertdError) as e:
        client.load("x", TINY)
    assert e.value.code == "forbidden"
    with pytest.raises(BertdError) as e:
        client.unload("minilm")
    assert e.value.code == "forbidden"


def test_unavailable_after_retries(tmp_path):
    c = BertdClient(f"ipc://{tmp_path}/nobody.sock", timeout_ms=200, retries=2)
    try:
        with pytest.raises(BertdUnavailable) as e:
            c.ping()
        assert "3 attempts" in str(e.value)
        with pytest.raises(BertdUnavailable) as e:  # load is not idempotent: one attempt only
            c.load("x", "/nowhere")
        assert "attempts" not in str(e.value) and "may or may not" in str(e.value)
    finally:
        c.close()


def test_lazy_pirate_recovers_when_daemon_appears(bertd):
    """A retry opens a new socket; the daemon answering later is picked up."""
    c = BertdClient(bertd.tcp, timeout_ms=3000, retries=2)
    try:
        for _ in range(5):
            assert c.ping()["pong"]
    finally:
        c.close()


def test_raw_reply_schema_for_every_op(bertd):
    for op, body in [("ping", {}), ("status", {}), ("models", {}),
                     ("embed", {"texts": ["hi"]}), ("classify", {"texts": ["hi"], "labels": ["a", "b"]})]:
        reply = check_reply(req(bertd.tcp, dict(body, v=1, id=f"raw-{op}", op=op)), op, f"raw-{op}")
        assert reply["ok"] and reply["v"] == 1


def test_example_script(bertd):
    import subprocess
    import sys
    from conftest import PROTOCOL
    out = subprocess.run([sys.executable, "example.py", "--endpoint", bertd.tcp, "--timeout-ms", "60000"],
                         cwd=f"{PROTOCOL}/clients/python", capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "bertd" in out.stdout and "cosine(cat, kitten)" in out.stdout
