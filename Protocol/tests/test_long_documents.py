"""Long documents over the wire: a model whose config.json says `long_documents` reads a text
longer than its window as overlapping windows and answers the aggregate, saying how many
windows it used; `truncate: false` no longer refuses such a text. Models without the key keep
truncating (or refusing). bertd.toml (`window`, `stride`, `aggregate` in a model's table) and the
`load` request (`long_documents`) set or change the policy of any model. Made from the tiny BERT
classifier (64 positions) here."""

import json
import math

import pytest

from conftest import Daemon, check_reply, expect_error, req, stop_and_check
from test_tasks import model_copy

WINDOW, STRIDE = 16, 4
BUDGET = WINDOW - 2  # [CLS] … [SEP]


def expected_windows(tokens):
    """Windows of a text of `tokens` tokens (special tokens included) when read whole."""
    content = tokens - 2
    if content <= BUDGET:
        return 1
    return math.ceil((content - BUDGET) / (BUDGET - STRIDE)) + 1


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("long")
    policy = {"window": WINDOW, "stride": STRIDE}
    mean = model_copy(tmp, "mean", long_documents=dict(policy, aggregate="mean"))
    top = model_copy(tmp, "max", long_documents=dict(policy, aggregate="max"))
    plain = model_copy(tmp, "plain")
    d = Daemon(sets=[f"models.mean.path={mean}", f"models.max.path={top}", f"models.plain.path={plain}",
                     # bertd.toml gives the plain model the max model's policy, and changes only the
                     # aggregation of the mean model's (its window and stride stay config.json's).
                     f"models.toml.path={plain}", f"models.toml.window={WINDOW}", f"models.toml.stride={STRIDE}",
                     'models.toml.aggregate="max"', f"models.changed.path={mean}", 'models.changed.aggregate="max"'],
               name="bertd-long")
    yield d
    stop_and_check(d)


def call(daemon, op, model, texts, **fields):
    reply = json.loads(req(daemon.tcp, {"id": "x", "op": op, "model": model, "texts": texts, **fields}))
    check_reply(reply, op, "x")
    return reply["result"]


def words(n):
    return " ".join(f"w{i % 10}" for i in range(n))


def test_a_long_text_is_read_in_windows(served):
    text = words(40)
    plain = call(served, "classify", "plain", [text], truncate=False)["results"][0]
    assert "windows" not in plain
    n = plain["tokens"]
    assert 30 < n <= 64, "the text fits the plain model whole, so its token count is known"
    r = call(served, "classify", "mean", [text])["results"][0]
    w = expected_windows(n)
    assert w >= 3 and r["windows"] == w
    # Every window carries its special tokens and shares STRIDE tokens with the next.
    assert r["tokens"] == (n - 2) + (w - 1) * STRIDE + 2 * w
    assert r["truncated"] is False


def test_max_is_at_least_the_mean_per_label(served):
    text = words(50)
    mean = call(served, "classify", "mean", [text])["results"][0]
    top = call(served, "classify", "max", [text])["results"][0]
    assert mean["windows"] == top["windows"] > 1
    assert all(m <= t + 1e-6 for m, t in zip(mean["logits"], top["logits"]))
    assert any(t - m > 1e-6 for m, t in zip(mean["logits"], top["logits"]))


def test_a_text_that_fits_is_one_window_with_the_plain_answer(served):
    text = words(6)
    r = call(served, "classify", "mean", [text])["results"][0]
    plain = call(served, "classify", "plain", [text])["results"][0]
    assert r["windows"] == 1
    assert r["tokens"] == plain["tokens"]
    assert r["logits"] == pytest.approx(plain["logits"], abs=1e-6)


def test_truncate_false_refuses_only_without_windows(served):
    long = words(200)  # far beyond the model's 64 positions
    reply = json.loads(req(served.tcp, {"id": "t", "op": "classify", "model": "plain", "texts": [long], "truncate": False}))
    expect_error(reply, "too_large", "t")
    r = call(served, "classify", "mean", [long], truncate=False)["results"][0]
    assert r["windows"] > 10 and r["truncated"] is False
    # The plain model truncates by default; the windowed one reads everything.
    assert call(served, "classify", "plain", [long])["results"][0]["truncated"] is True


def test_texts_of_one_request_keep_their_own_windows(served):
    texts = [words(6), words(60), words(25)]
    together = call(served, "classify", "mean", texts)["results"]
    for text, r in zip(texts, together):
        alone = call(served, "classify", "mean", [text])["results"][0]
        assert r["windows"] == alone["windows"]
        assert r["logits"] == pytest.approx(alone["logits"], abs=1e-5)


def test_embeddings_and_zero_shot_aggregate_windows(served):
    texts = [words(60), words(5)]
    e = call(served, "embed", "mean", texts)
    assert e["windows"][0] > 1 and e["windows"][1] == 1
    for v in e["embeddings"]:
        assert sum(x * x for x in v) == pytest.approx(1, abs=1e-5)
    z = call(served, "classify", "mean", texts, labels=["w1 w2", "w3"])["results"]
    assert [r["windows"] for r in z] == e["windows"]


def test_models_report_the_policy(served):
    reply = json.loads(req(served.tcp, {"id": "m", "op": "models"}))
    check_reply(reply, "models", "m")
    by_name = {m["name"]: m for m in reply["result"]["models"]}
    assert by_name["mean"]["long_documents"] == {"window": WINDOW, "stride": STRIDE, "aggregate": "mean"}
    assert by_name["max"]["long_documents"]["aggregate"] == "max"
    assert by_name["plain"]["long_documents"] is None
    for name in ("toml", "changed"):
        assert by_name[name]["long_documents"] == {"window": WINDOW, "stride": STRIDE, "aggregate": "max"}, name


def test_bertd_toml_sets_and_changes_the_policy(served):
    text = words(50)
    top = call(served, "classify", "max", [text])["results"][0]
    for name in ("toml", "changed"):
        r = call(served, "classify", name, [text])["results"][0]
        assert r["windows"] == top["windows"] > 1, name
        assert r["logits"] == pytest.approx(top["logits"], abs=1e-6), name


def test_load_sets_the_policy(served):
    reply = json.loads(req(served.admin, {"id": "l", "op": "load", "name": "loaded", "path": str(served_plain(served)),
                                          "long_documents": {"window": WINDOW, "stride": STRIDE}}))
    check_reply(reply, "load", "l")
    assert reply["result"]["loaded"]["long_documents"] == {"window": WINDOW, "stride": STRIDE, "aggregate": "mean"}
    text = words(50)
    mean = call(served, "classify", "mean", [text])["results"][0]
    r = call(served, "classify", "loaded", [text])["results"][0]
    assert r["windows"] == mean["windows"] > 1
    assert r["logits"] == pytest.approx(mean["logits"], abs=1e-6)
    # Only the aggregation: the model's own window (its 64 positions) and a quarter of it shared.
    reply = json.loads(req(served.admin, {"id": "l", "op": "load", "name": "loaded", "path": str(served_plain(served)),
                                          "long_documents": {"aggregate": "max"}}))
    check_reply(reply, "load", "l")
    assert reply["result"]["loaded"]["long_documents"] == {"window": 64, "stride": 16, "aggregate": "max"}


def served_plain(daemon):
    reply = json.loads(req(daemon.tcp, {"id": "m", "op": "models"}))
    return next(m["path"] for m in reply["result"]["models"] if m["name"] == "plain")


def test_a_bad_load_policy_is_refused(served):
    path = served_plain(served)
    for policy, code, mention in [({"aggregate": "median"}, "bad_request", "aggregate"), ({"window": "16"}, "bad_request", "window"),
                                  ({"window": -1}, "bad_request", "window"), ({"windows": 16}, "bad_request", "windows"),
                                  ([16], "bad_request", "long_documents"), ({"window": 65}, "load_failed", "window"),
                                  ({"window": 16, "stride": 12}, "load_failed", "stride")]:
        reply = json.loads(req(served.admin, {"id": "l", "op": "load", "name": "bad", "path": path, "long_documents": policy}))
        expect_error(reply, code, "l")
        assert mention in reply["error"]["message"], (policy, reply)
    reply = json.loads(req(served.tcp, {"id": "m", "op": "models"}))
    assert "bad" not in {m["name"] for m in reply["result"]["models"]}
    served.assert_serving()


def test_a_bad_bertd_toml_policy_keeps_bertd_from_starting(tmp_path):
    plain = model_copy(tmp_path, "plain")
    for setting, mention in [('models.m.aggregate="median"', "aggregate"), ("models.m.window=3", "window"),
                             ("models.m.window=65", "window")]:
        with pytest.raises(RuntimeError, match="bertd exited") as refused:
            Daemon(sets=[f"models.m.path={plain}", setting], name="bertd-badlong")
        assert mention in str(refused.value), (setting, str(refused.value))


def test_a_bad_policy_is_a_load_error(tmp_path, served):
    for name, policy, mention in [("wide", {"window": 65}, "window"), ("overlap", {"window": 16, "stride": 12}, "stride"),
                                  ("agg", {"aggregate": "median"}, "aggregate")]:
        bad = model_copy(tmp_path, name, long_documents=policy)
        reply = json.loads(req(served.admin, {"id": "l", "op": "load", "name": name, "path": str(bad)}))
        expect_error(reply, "load_failed", "l")
        assert "long_documents" in reply["error"]["message"] and mention in reply["error"]["message"], reply
    served.assert_serving()


# MARK: explanations of long texts

def explain(daemon, model, text, rid="e", **fields):
    reply = json.loads(req(daemon.tcp, {"id": rid, "op": "explain", "model": model, "texts": [text], **fields}, timeout_ms=120000))
    check_reply(reply, "explain", rid)
    assert reply["ok"], reply
    return reply["result"]["explanations"][0]


def test_explain_covers_every_window_of_a_long_text(served):
    from test_explain import check_attribution, check_tokens_and_words
    text = words(50)
    n = call(served, "classify", "plain", [text])["results"][0]["tokens"]
    for model in ("mean", "max"):
        c = call(served, "classify", model, [text])["results"][0]
        e = explain(served, model, text, steps=64)
        # The decision classify makes, over the whole text: every token once, in its windows.
        assert e["windows"] == c["windows"] > 1 and e["truncated"] is False, model
        assert len(e["tokens"]) == n, model
        check_tokens_and_words(e, [text])
        assert e["label"] == c["label"] and e["logits"] == pytest.approx(c["logits"], abs=1e-5), model
        (a,) = e["attributions"]
        assert a["label"] == c["label"]
        check_attribution(a, e)
        assert abs(a["completeness_gap"]) <= 0.05 * abs(a["logit"] - a["baseline_logit"]) + 1e-6, (model, a["completeness_gap"])
        # Every part of the text carries weight under the mean; under max only the deciding window's tokens do.
        attributed = [i for i, v in enumerate(a["tokens"]) if v != 0]
        if model == "mean":
            assert attributed[0] == 1 and attributed[-1] == n - 2, model
        else:
            assert len(attributed) <= WINDOW - 2, model
    e = explain(served, "mean", text, steps=32, label=["neg", "pos"])
    assert [a["label"] for a in e["attributions"]] == ["neg", "pos"]


def test_explain_of_a_text_that_fits_is_the_plain_models(served):
    text = words(6)
    e = explain(served, "mean", text, steps=32)
    plain = explain(served, "plain", text, steps=32)
    assert e["windows"] == 1 and "windows" not in plain
    assert e["tokens"] == plain["tokens"] and e["logits"] == pytest.approx(plain["logits"], abs=1e-6)
    assert e["attributions"][0]["tokens"] == pytest.approx(plain["attributions"][0]["tokens"], abs=1e-6)
    assert explain(served, "mean", text, method="attention")["windows"] == 1


def test_explain_refuses_what_windows_cannot_show(served):
    text = words(50)
    for fields, mention in [({"method": "attention"}, "integrated_gradients"), ({"method": "rollout"}, "integrated_gradients"),
                            ({"labels": ["w1", "w2"]}, "zero-shot")]:
        reply = json.loads(req(served.tcp, {"id": "r", "op": "explain", "model": "mean", "texts": [text], **fields}))
        expect_error(reply, "unsupported", "r")
        assert mention in reply["error"]["message"] and "windows" in reply["error"]["message"], reply
    served.assert_serving()
