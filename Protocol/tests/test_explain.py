"""explain: integrated gradients, attention maps and rollout from a classifier (the tiny test
model), checked against the schema and against what they must satisfy (one attribution per token,
special tokens 0, words that slice the original text, completeness, batch independence, rows of
probabilities); zero-shot explanations (`labels`) on the default embedding model, MiniLM, against
classify's zero-shot classification and embed's cosines; its refusals, each with its code; the queue bounds (too_large, overloaded); and an
explanation's work running in chunks, so that other clients are served while it computes, dropped
when its deadline passes, and withdrawn when its client leaves."""

import json
import math

import pytest
import zmq

from bertd_client import BertdError
from conftest import CTX, SCHEMAS, TINY, Daemon, check_reply, expect_error, req, status, stop_and_check, wait_until

TINY_SET = f"models.tiny.path={TINY}"
# Punctuation, a contraction, a dash, accents, an emoji (one Unicode scalar, two UTF-16 units) and
# CJK characters (one word, three tokens): the words' offsets are Unicode-scalar offsets.
TEXT = "Café — naïve 😀 test, isn't it?"
PAIR = "Ünïcode: 日本語 ok!"
# 60 words: 62 tokens for the tiny model (one per word, plus [CLS] and [SEP]).
WORDS = "the quick brown fox jumps over a lazy dog".split()
LONG = " ".join(WORDS[i % len(WORDS)] for i in range(60))
# Longer than the tiny model's 64 tokens: truncated to exactly 64.
LONGER = " ".join(WORDS[i % len(WORDS)] for i in range(100))


@pytest.fixture(scope="module")
def tiny():
    """A daemon serving the tiny classifier as "tiny" (the default model stays MiniLM, without a head)."""
    daemon = Daemon(sets=[TINY_SET], name="bertd-explain")
    yield daemon
    stop_and_check(daemon)


def explain(daemon, rid="x", timeout_ms=60000, **fields):
    body = dict({"id": rid, "op": "explain", "model": "tiny"}, **fields)
    reply = req(daemon.tcp, body, timeout_ms=timeout_ms)
    assert reply is not None, f"no reply to {body!r:.200}"
    reply = check_reply(reply, "explain", rid)
    assert reply["ok"], reply
    return reply["result"]


def close(a, b, scale, rel=1e-6, abs_tol=1e-12):
    return abs(a - b) <= rel * scale + abs_tol


# MARK: what every method's explanation carries

def check_tokens_and_words(e, texts):
    """Tokens carry offsets into their own text; words slice the original text to their text, in
    token order, each a run of tokens of one sequence, and together cover every non-special token once."""
    tokens, words = e["tokens"], e["words"]
    assert tokens[0]["sequence"] == -1 and tokens[-1]["sequence"] == -1  # [CLS] … [SEP]
    for t in tokens:
        if t["sequence"] == -1:
            assert t["start"] == t["end"] == 0, t
        else:
            assert 0 <= t["start"] < t["end"] <= len(texts[t["sequence"]]), t
    covered = []
    for w in words:
        first, end = w["tokens"]
        assert 0 < first < end < len(tokens), w
        assert texts[w["sequence"]][w["start"]:w["end"]] == w["text"], (w, texts[w["sequence"]])
        assert all(tokens[t]["sequence"] == w["sequence"] for t in range(first, end)), w
        assert tokens[first]["start"] == w["start"] and tokens[end - 1]["end"] == w["end"], w
        covered += range(first, end)
    assert covered == [i for i, t in enumerate(tokens) if t["sequence"] != -1]


def check_classification(e, labels=("neg", "neu", "pos")):
    assert list(e["scores"]) == list(labels) and len(e["logits"]) == len(labels)
    z = [math.exp(x) for x in e["logits"]]
    for p, label in zip(z, labels):
        assert math.isclose(p / sum(z), e["scores"][label], rel_tol=1e-4)
    best = max(range(len(labels)), key=lambda i: e["logits"][i])
    assert e["label"] == labels[best] and e["score"] == e["scores"][e["label"]]


def word_sums(values, words):
    return [sum(values[w["tokens"][0]:w["tokens"][1]]) for w in words]


# MARK: integrated gradients

def test_integrated_gradients(tiny):
    result = explain(tiny, text=TEXT, pairs=[PAIR], steps=64)
    assert result["model"] == "tiny" and result["version"] >= 1 and result["method"] == "integrated_gradients"
    (e,) = result["explanations"]
    assert e["steps"] == 64 and e["rule"] == "gauss_legendre" and e["baseline"] == "pad" and e["truncated"] is False
    check_classification(e)
    check_tokens_and_words(e, [TEXT, PAIR])
    assert [w["text"] for w in e["words"]] == ["Café", "—", "naïve", "😀", "test", ",", "isn", "'", "t", "it", "?",
                                               "Ünïcode", ":", "日本語", "ok", "!"]
    first, end = next(w for w in e["words"] if w["text"] == "日本語")["tokens"]
    assert end - first == 3  # one word, three tokens
    (a,) = e["attributions"]  # default: the predicted label
    assert a["label"] == e["label"]
    assert a["logit"] == e["logits"][["neg", "neu", "pos"].index(a["label"])]
    check_attribution(a, e)


def check_attribution(a, e):
    tokens = a["tokens"]
    assert len(tokens) == len(e["tokens"]) and len(a["words"]) == len(e["words"])
    for t, value in zip(e["tokens"], tokens):
        if t["sequence"] == -1:
            assert value == 0.0, (t, value)  # special tokens are not attributed
    scale = sum(abs(x) for x in tokens)
    assert scale > 0
    for got, want in zip(a["words"], word_sums(tokens, e["words"])):
        assert close(got, want, scale, rel=1e-5), (got, want)
    # Completeness: the attributions add up to the logit's change, up to the reported gap.
    delta = a["logit"] - a["baseline_logit"]
    assert close(sum(tokens) - delta, a["completeness_gap"], scale + abs(a["logit"]) + abs(a["baseline_logit"]), abs_tol=1e-9), \
        (sum(tokens) - delta, a["completeness_gap"])


def test_labels_rules_and_baselines(tiny):
    """Several labels give one attribution each, in the order asked; the trapezoid rule's gap
    shrinks with more steps, and at 256 steps either rule's gap is tiny."""
    gaps = {}
    for rule in ("gauss_legendre", "trapezoid"):
        for baseline in ("pad", "zero"):
            for steps in (2, 256):
                result = explain(tiny, texts=[TEXT], pairs=[PAIR], label=["pos", "neg", "neu"], steps=steps,
                                 rule=rule, baseline=baseline)
                (e,) = result["explanations"]
                assert (e["steps"], e["rule"], e["baseline"]) == (steps, rule, baseline)
                assert [a["label"] for a in e["attributions"]] == ["pos", "neg", "neu"]
                for a in e["attributions"]:
                    assert a["logit"] == e["logits"][["neg", "neu", "pos"].index(a["label"])]
                    check_attribution(a, e)
                gaps[rule, baseline, steps] = max(abs(a["completeness_gap"]) for a in e["attributions"])
    for rule in ("gauss_legendre", "trapezoid"):
        for baseline in ("pad", "zero"):
            # The tiny model's logits move by ~1e-5 between input and baseline: an absolute bound.
            assert gaps[rule, baseline, 256] <= 1e-6, gaps
    for baseline in ("pad", "zero"):
        assert gaps["trapezoid", baseline, 2] > 10 * gaps["trapezoid", baseline, 256], gaps
    # A single label may be given as a string.
    (e,) = explain(tiny, text=TEXT, label="neg", steps=16)["explanations"]
    assert [a["label"] for a in e["attributions"]] == ["neg"]


def test_batch_independence(tiny):
    """A text explained alone and among others (batched together, in chunks) gets the same attributions."""
    alone = explain(tiny, text=TEXT, steps=64)["explanations"][0]
    among = explain(tiny, texts=["a short one", TEXT, LONG], steps=64)["explanations"]
    assert len(among) == 3 and among[1]["tokens"] == alone["tokens"] and among[1]["words"] == alone["words"]
    a, b = alone["attributions"][0], among[1]["attributions"][0]
    assert a["label"] == b["label"]
    scale = max(abs(x) for x in a["tokens"])
    for x, y in zip(a["tokens"] + a["words"], b["tokens"] + b["words"]):
        assert abs(x - y) <= 1e-6 * scale, (x, y)
    assert abs(a["logit"] - b["logit"]) <= 1e-6 * max(abs(a["logit"]), 1e-3)
    for text, other in (("a short one", among[0]), (LONG, among[2])):
        check_tokens_and_words(other, [text])
        check_attribution(other["attributions"][0], other)


def test_truncated_text(tiny):
    (e,) = explain(tiny, text=LONGER, steps=4)["explanations"]
    assert e["truncated"] is True and len(e["tokens"]) == 64 and len(e["attributions"][0]["tokens"]) == 64
    check_tokens_and_words(e, [LONGER])


# MARK: zero-shot (labels)

ZS_LABELS = ["film", "restaurant", "sports"]
ZS_TEXTS = ["The soup was cold and the waiter was rude.", "The plot was gripping from start to finish.",
            "the striker scored twice"]


def zero_shot(daemon, rid="z", **fields):
    """explain on the default model (MiniLM, no head): "model" absent."""
    body = dict({"id": rid, "op": "explain"}, **fields)
    reply = req(daemon.tcp, body, timeout_ms=120000)
    assert reply is not None, f"no reply to {body!r:.200}"
    reply = check_reply(reply, "explain", rid)
    assert reply["ok"], reply
    return reply["result"]


def classified(daemon, texts, labels, model=None):
    body = {"id": "c", "op": "classify", "texts": texts, "labels": labels}
    if model:
        body["model"] = model
    reply = check_reply(req(daemon.tcp, body, timeout_ms=60000), "classify", "c")
    assert reply["ok"], reply
    return reply["result"]["results"]


def cosine(daemon, text, label):
    """The cosine of two embed vectors (L2-normalised: their dot product)."""
    reply = check_reply(req(daemon.tcp, {"id": "e", "op": "embed", "texts": [text, label]}, timeout_ms=60000), "embed", "e")
    a, b = reply["result"]["embeddings"]
    return sum(x * y for x, y in zip(a, b))


def test_zero_shot_explains_classify_zero_shot(tiny):
    """On MiniLM (no head) with labels: each text's label, scores and logits are classify's zero-shot
    ones for the same text and labels; the explained label is the predicted one, and its logit is
    the cosine of the text's and the label's embeddings (as embed gives them), 1/20 of its entry in
    logits; the attributions add up to cosine(x) − cosine(x′) up to the reported gap."""
    result = zero_shot(tiny, texts=ZS_TEXTS, labels=ZS_LABELS, steps=32)
    assert result["model"] == "minilm" and result["method"] == "integrated_gradients"
    expected = classified(tiny, ZS_TEXTS, ZS_LABELS)
    assert [e["label"] for e in result["explanations"]] == [c["label"] for c in expected] == ["restaurant", "film", "sports"]
    for text, e, c in zip(ZS_TEXTS, result["explanations"], expected):
        check_classification(e, labels=ZS_LABELS)
        check_tokens_and_words(e, [text])
        assert e["truncated"] is False and (e["steps"], e["rule"], e["baseline"]) == (32, "gauss_legendre", "pad")
        for got, want in zip(e["logits"], c["logits"]):
            assert abs(got - want) <= 1e-4, (e["logits"], c["logits"])
        for label in ZS_LABELS:
            assert abs(e["scores"][label] - c["scores"][label]) <= 1e-5, (e["scores"], c["scores"])
        (a,) = e["attributions"]  # default: the most similar candidate
        assert a["label"] == e["label"] == c["label"]
        assert close(20 * a["logit"], e["logits"][ZS_LABELS.index(a["label"])], abs(e["logits"][ZS_LABELS.index(a["label"])]), rel=1e-5)
        assert abs(a["logit"] - cosine(tiny, text, a["label"])) <= 1e-5
        assert -1 <= a["baseline_logit"] <= 1
        check_attribution(a, e)
        # Completeness, exactly as the reply states it.
        delta = a["logit"] - a["baseline_logit"]
        assert abs(sum(a["tokens"]) - delta - a["completeness_gap"]) <= 1e-6 * (sum(abs(x) for x in a["tokens"]) + abs(delta) + 1)


def test_zero_shot_label_picks_candidates(tiny):
    """`label` names the candidates to explain, in the order given, whatever the prediction."""
    text = ZS_TEXTS[0]
    (e,) = zero_shot(tiny, text=text, labels=ZS_LABELS, label="film", steps=16)["explanations"]
    assert e["label"] == "restaurant" and [a["label"] for a in e["attributions"]] == ["film"]
    (both,) = zero_shot(tiny, text=text, labels=ZS_LABELS, label=["sports", "film"], steps=16)["explanations"]
    assert [a["label"] for a in both["attributions"]] == ["sports", "film"]
    for a in both["attributions"]:
        assert close(20 * a["logit"], both["logits"][ZS_LABELS.index(a["label"])], 20, rel=1e-5)
        assert abs(a["logit"] - cosine(tiny, text, a["label"])) <= 1e-5
        check_attribution(a, both)
    # The same candidate explained alone or among others: the same attributions.
    alone, among = e["attributions"][0], both["attributions"][1]
    assert abs(alone["logit"] - among["logit"]) <= 1e-6 and abs(alone["baseline_logit"] - among["baseline_logit"]) <= 1e-6
    for x, y in zip(alone["tokens"], among["tokens"]):
        assert abs(x - y) <= 1e-6 * max(abs(v) for v in alone["tokens"]), (x, y)


def test_zero_shot_gap_at_256_steps(tiny):
    """With 256 steps the completeness gap is at most 1 % of the cosine's change, for every candidate."""
    (e,) = zero_shot(tiny, text=ZS_TEXTS[0], labels=ZS_LABELS, label=ZS_LABELS, steps=256)["explanations"]
    assert e["steps"] == 256 and [a["label"] for a in e["attributions"]] == ZS_LABELS
    for a in e["attributions"]:
        delta = a["logit"] - a["baseline_logit"]
        assert abs(delta) > 1e-3, a["label"]
        assert abs(sum(a["tokens"]) - delta - a["completeness_gap"]) <= 1e-5 * (sum(abs(x) for x in a["tokens"]) + 1)
        assert abs(a["completeness_gap"]) <= 0.01 * abs(delta), (a["label"], a["completeness_gap"], delta)


def test_zero_shot_on_a_model_with_a_head(tiny):
    """labels on a classifier explain its embeddings' cosines with the candidates, not its head."""
    result = explain(tiny, text="what a film!", labels=["good", "bad"], steps=8)
    (e,) = result["explanations"]
    assert list(e["scores"]) == ["good", "bad"] and e["label"] in ("good", "bad")
    (c,) = classified(tiny, ["what a film!"], ["good", "bad"], model="tiny")
    for got, want in zip(e["logits"], c["logits"]):
        assert abs(got - want) <= 1e-4
    (a,) = e["attributions"]
    assert close(20 * a["logit"], e["logits"][["good", "bad"].index(a["label"])], 20, rel=1e-5)
    check_attribution(a, e)


# MARK: attention and rollout

def test_attention(tiny):
    result = explain(tiny, texts=[TEXT, "hello world"], pairs=[PAIR, "again"], method="attention")
    assert result["method"] == "attention" and len(result["explanations"]) == 2
    for e, texts in zip(result["explanations"], [[TEXT, PAIR], ["hello world", "again"]]):
        check_classification(e)
        check_tokens_and_words(e, texts)
        n = len(e["tokens"])
        assert e["layers"] == [0, 1] and e["heads"] == [0, 1, 2, 3]  # the tiny model: 2 layers, 4 heads
        assert len(e["attention"]) == 2 and all(len(layer) == 4 for layer in e["attention"])
        for layer in e["attention"]:
            for head in layer:
                assert len(head) == n and all(len(row) == n for row in head)
                for row in head:
                    assert all(0 <= p <= 1 for p in row) and math.isclose(sum(row), 1, abs_tol=1e-5), row
    full = result["explanations"][0]
    picked = explain(tiny, text=TEXT, pairs=[PAIR], method="attention", layers=[1], heads=[2, 0])["explanations"][0]
    assert picked["layers"] == [1] and picked["heads"] == [2, 0]
    assert len(picked["attention"]) == 1 and len(picked["attention"][0]) == 2
    for h, head in zip([2, 0], picked["attention"][0]):
        want = full["attention"][1][h]
        assert all(abs(x - y) <= 1e-6 for r, s in zip(head, want) for x, y in zip(r, s))
    only_layer = explain(tiny, text=TEXT, method="attention", layers=[0])["explanations"][0]
    assert only_layer["layers"] == [0] and only_layer["heads"] == [0, 1, 2, 3] and len(only_layer["attention"][0]) == 4
    only_head = explain(tiny, text=TEXT, method="attention", heads=[3])["explanations"][0]
    assert only_head["layers"] == [0, 1] and only_head["heads"] == [3] and [len(l) for l in only_head["attention"]] == [1, 1]


def test_rollout(tiny):
    result = explain(tiny, texts=[TEXT], pairs=[PAIR], method="rollout")
    assert result["method"] == "rollout"
    (e,) = result["explanations"]
    check_classification(e)
    check_tokens_and_words(e, [TEXT, PAIR])
    n = len(e["tokens"])
    assert len(e["rollout"]) == n and all(len(row) == n for row in e["rollout"])
    for row in e["rollout"]:
        assert all(p >= 0 for p in row) and math.isclose(sum(row), 1, abs_tol=1e-5), row
    assert e["token_scores"] == e["rollout"][0]
    for got, want in zip(e["word_scores"], word_sums(e["token_scores"], e["words"])):
        assert abs(got - want) <= 1e-6
    assert len(e["word_scores"]) == len(e["words"])
    for absent in ("attributions", "attention", "steps"):
        assert absent not in e


# MARK: the Python client

def test_python_client(tiny):
    c = tiny.client(timeout_ms=60000)
    try:
        r = c.explain(TEXT, model="tiny", pairs=PAIR, label="pos", steps=8, rule="trapezoid", baseline="zero")
        SCHEMAS["explain.result"].validate(r)
        (e,) = r["explanations"]
        assert (e["steps"], e["rule"], e["baseline"]) == (8, "trapezoid", "zero") and e["attributions"][0]["label"] == "pos"
        r = c.explain([TEXT, "hello"], model="tiny", label=["neg", "neu"])
        SCHEMAS["explain.result"].validate(r)
        assert [[a["label"] for a in e["attributions"]] for e in r["explanations"]] == [["neg", "neu"]] * 2
        assert r["explanations"][0]["steps"] == 32  # the default
        r = c.explain("hello", model="tiny", method="attention", layers=(1,), heads=[0], deadline_ms=60000, truncate=True)
        SCHEMAS["explain.result"].validate(r)
        assert r["explanations"][0]["layers"] == [1] and r["explanations"][0]["heads"] == [0]
        r = c.explain("hello", model="tiny", method="rollout")
        SCHEMAS["explain.result"].validate(r)
        with pytest.raises(BertdError) as error:
            c.explain(LONGER, model="tiny", truncate=False)
        assert error.value.code == "too_large"
        with pytest.raises(BertdError) as error:
            c.explain("hello")  # the default model has no head, and no labels are given
        assert error.value.code == "unsupported"
        r = c.explain(ZS_TEXTS[:2], labels=ZS_LABELS, label=["film"], steps=8)  # zero-shot on the default model
        SCHEMAS["explain.result"].validate(r)
        assert r["model"] == "minilm" and [e["label"] for e in r["explanations"]] == ["restaurant", "film"]
        assert [[a["label"] for a in e["attributions"]] for e in r["explanations"]] == [["film"]] * 2
        with pytest.raises(BertdError) as error:
            c.explain("hello", labels=ZS_LABELS, method="rollout")
        assert error.value.code == "unsupported"
    finally:
        c.close()


# MARK: refusals

BAD = [
    # (name, fields, error code)
    ("unknown label", {"label": "nope"}, "bad_request"),
    ("unknown label in a list", {"label": ["pos", "nope"]}, "bad_request"),
    ("label empty list", {"label": []}, "bad_request"),
    ("label a number", {"label": 1}, "bad_request"),
    ("steps 0", {"steps": 0}, "bad_request"),
    ("steps 1025", {"steps": 1025}, "bad_request"),
    ("steps a string", {"steps": "32"}, "bad_request"),
    ("steps a fraction", {"steps": 1.5}, "bad_request"),
    ("trapezoid with 1 step", {"steps": 1, "rule": "trapezoid"}, "bad_request"),
    ("unknown method", {"method": "lime"}, "bad_request"),
    ("unknown rule", {"rule": "simpson"}, "bad_request"),
    ("unknown baseline", {"baseline": "mask"}, "bad_request"),
    ("top_k given", {"top_k": 1}, "bad_request"),
    ("17 texts", {"texts": ["a"] * 17}, "too_large"),
    ("layers out of range", {"method": "attention", "layers": [2]}, "bad_request"),
    ("heads out of range", {"method": "attention", "heads": [4]}, "bad_request"),
    ("layers negative", {"method": "attention", "layers": [-1]}, "bad_request"),
    ("layers empty", {"method": "attention", "layers": []}, "bad_request"),
    ("layers not integers", {"method": "attention", "layers": ["0"]}, "bad_request"),
    ("heads with integrated_gradients", {"heads": [0]}, "bad_request"),
    ("steps with attention", {"method": "attention", "steps": 16}, "bad_request"),
    ("rule with rollout", {"method": "rollout", "rule": "trapezoid"}, "bad_request"),
    ("baseline with attention", {"method": "attention", "baseline": "zero"}, "bad_request"),
    ("layers with integrated_gradients", {"method": "integrated_gradients", "layers": [0]}, "bad_request"),
    ("layers with rollout", {"method": "rollout", "layers": [0]}, "bad_request"),
    ("label with attention", {"method": "attention", "label": "pos"}, "bad_request"),
    ("label with rollout", {"method": "rollout", "label": "pos"}, "bad_request"),
    ("no text", {"text": None, "texts": None}, "bad_request"),
    ("too long without truncation", {"text": LONGER, "truncate": False}, "too_large"),
    ("deadline 0", {"deadline_ms": 0}, "deadline_exceeded"),
    ("model without a head", {"model": None}, "unsupported"),
    ("model without a head, attention", {"model": None, "method": "attention"}, "unsupported"),
    ("zero-shot: label not a candidate", {"model": None, "labels": ["film", "sports"], "label": "restaurant"}, "bad_request"),
    ("zero-shot: a label of the head", {"labels": ["film", "sports"], "label": "pos"}, "bad_request"),
    ("zero-shot: labels with pairs", {"model": None, "labels": ["film", "sports"], "pairs": ["a pair"]}, "bad_request"),
    ("zero-shot: labels with pairs on a classifier", {"labels": ["film", "sports"], "pairs": ["a pair"]}, "bad_request"),
    ("zero-shot: labels with attention", {"model": None, "labels": ["film", "sports"], "method": "attention"}, "unsupported"),
    ("zero-shot: labels with rollout", {"model": None, "labels": ["film", "sports"], "method": "rollout"}, "unsupported"),
    ("zero-shot: labels with attention on a classifier", {"labels": ["film", "sports"], "method": "attention"}, "unsupported"),
    ("zero-shot: labels empty", {"model": None, "labels": []}, "bad_request"),
    ("zero-shot: labels duplicate", {"model": None, "labels": ["film", "film"]}, "bad_request"),
    ("zero-shot: labels with an empty label", {"model": None, "labels": ["film", ""]}, "bad_request"),
    ("zero-shot: labels a string", {"model": None, "labels": "film"}, "bad_request"),
    ("zero-shot: top_k", {"model": None, "labels": ["film", "sports"], "top_k": 1}, "bad_request"),
    ("zero-shot: layers", {"model": None, "labels": ["film", "sports"], "layers": [0]}, "bad_request"),
    ("zero-shot: 16 texts and 241 labels", {"model": None, "texts": ["a"] * 16, "labels": [f"l{i}" for i in range(241)]},
     "too_large"),
    ("unknown model", {"model": "nope"}, "unknown_model"),
]
# Refusals that depend on the model or the daemon's state: the request schema accepts them.
SERVER_SIDE = {"unknown label", "unknown label in a list", "layers out of range", "heads out of range",
               "too long without truncation", "deadline 0", "model without a head", "model without a head, attention",
               "unknown model", "zero-shot: label not a candidate", "zero-shot: a label of the head",
               "zero-shot: 16 texts and 241 labels"}


def bad_body(fields):
    body = {"id": "bad", "op": "explain", "model": "tiny", "text": "is this a question?"}
    for key, value in fields.items():
        if value is None:
            body.pop(key, None)
        else:
            body[key] = value
    if "texts" in body:
        body.pop("text")
    return body


@pytest.mark.parametrize("name,fields,code", BAD, ids=[b[0] for b in BAD])
def test_refused(tiny, name, fields, code):
    reply = req(tiny.tcp, bad_body(fields))
    assert reply is not None, name
    expect_error(reply, code, request_id="bad")
    # The daemon keeps serving.
    ok = check_reply(req(tiny.tcp, {"id": "after", "op": "classify", "model": "tiny", "texts": ["still here"]}), "classify", "after")
    assert ok["ok"]


@pytest.mark.parametrize("name,fields,code", BAD, ids=[b[0] for b in BAD])
def test_request_schema_refuses_what_the_daemon_refuses(name, fields, code):
    body = bad_body(fields)
    if name in SERVER_SIDE:
        SCHEMAS["request"].validate(body)
    else:
        assert not SCHEMAS["request"].is_valid(body), f"the schema accepts {body} which the daemon answers {code}"


def test_messages_name_the_problem(tiny):
    reply = expect_error(req(tiny.tcp, bad_body({"label": "nope"})), "bad_request", "bad")
    assert "nope" in reply["error"]["message"] and "neg, neu, pos" in reply["error"]["message"]
    reply = expect_error(req(tiny.tcp, bad_body({"method": "attention", "layers": [0, 5]})), "bad_request", "bad")
    assert "layer 5" in reply["error"]["message"]
    reply = expect_error(req(tiny.tcp, bad_body({"texts": ["a"] * 17})), "too_large", "bad")
    assert "16" in reply["error"]["message"]
    reply = expect_error(req(tiny.tcp, bad_body({"model": None})), "unsupported", "bad")
    assert "minilm" in reply["error"]["message"] and '"labels"' in reply["error"]["message"]
    reply = expect_error(req(tiny.tcp, bad_body({"model": None, "labels": ["film", "sports"], "label": "cooking"})),
                         "bad_request", "bad")
    assert "cooking" in reply["error"]["message"] and "film, sports" in reply["error"]["message"]
    tiny.assert_serving()


# MARK: the queue

def test_larger_than_the_queue_could_ever_hold_is_too_large(daemon_factory):
    """steps × tokens past batching.max_queue_tokens is too_large at once, even on an idle daemon
    (unlike classify, whose one request an empty queue always admits); exactly the bound is admitted."""
    # "hello world": 4 tokens; 1024 steps: 4 × 1026 = 4104 tokens of work.
    d = daemon_factory(sets=[TINY_SET, "batching.max_queue_tokens=4104"], name="bertd-ex-bound")
    reply = expect_error(req(d.tcp, {"id": "big", "op": "explain", "model": "tiny", "texts": ["hello world", "hello"],
                                     "steps": 1024}), "too_large", "big")
    assert "4104" in reply["error"]["message"]
    expect_error(req(d.tcp, {"id": "labels", "op": "explain", "model": "tiny", "text": "hello world", "steps": 1024,
                             "label": ["neg", "pos"]}), "too_large", "labels")  # 2 + 2 × 1024 sequences
    ok = check_reply(req(d.tcp, {"id": "fits", "op": "explain", "model": "tiny", "text": "hello world", "steps": 1024},
                         timeout_ms=60000), "explain", "fits")
    assert ok["ok"] and ok["result"]["explanations"][0]["steps"] == 1024
    # classify: an empty queue admits any one request, however large.
    ok = check_reply(req(d.tcp, {"id": "c", "op": "classify", "model": "tiny", "texts": [LONG] * 100}, timeout_ms=60000), "classify", "c")
    assert ok["ok"]
    assert status(d)["errors"]["too_large"] == 2
    d.assert_serving()


def test_explanation_that_does_not_fit_now_is_overloaded(daemon_factory):
    """With one sequence per batch, three of a running four-text explanation's texts always wait in
    the queue; a second explanation of the whole bound is overloaded until it has drained."""
    # 4 texts of 64 tokens × (510 + 2) sequences = 131 072 tokens: exactly the bound.
    bound = 4 * 64 * 512
    d = daemon_factory(sets=[TINY_SET, f"batching.max_queue_tokens={bound}", "batching.max_batch_requests=1"],
                       name="bertd-ex-busy")
    body = {"op": "explain", "model": "tiny", "texts": [LONGER] * 4, "steps": 510}
    first = CTX.socket(zmq.DEALER)
    first.linger = 0
    first.connect(d.tcp)
    try:
        first.send_multipart([b"", json.dumps(dict(body, id="first")).encode()])
        busy = wait_until(lambda: (lambda s: s if s["queue"]["texts"] >= 1 and s["queue"]["requests_in_flight"] == 1 else None)(status(d)),
                          what="the explanation's texts queued")
        assert busy["queue"]["tokens"] > 0
        reply = expect_error(req(d.tcp, dict(body, id="second")), "overloaded", "second")
        assert str(bound) in reply["error"]["message"]
        assert not first.poll(0), "the first explanation finished before the second was refused: the test proves nothing"
        # Once the queue has drained, the same explanation is admitted.
        assert first.poll(120000), "no reply to the first explanation"
        check_reply(first.recv_multipart()[-1], "explain", "first")
        wait_until(lambda: status(d)["queue"]["requests_in_flight"] == 0, what="an idle daemon")
        ok = check_reply(req(d.tcp, dict(body, id="third", steps=16), timeout_ms=60000), "explain", "third")
        assert ok["ok"] and all(e["truncated"] for e in ok["result"]["explanations"])
        assert status(d)["errors"]["overloaded"] == 1
    finally:
        first.close(linger=0)
    d.assert_serving()


# MARK: fairness and departures

def start_long_explanation(d, socket, rid="long"):
    """Sends 4 texts × 1024 steps (4 × 1026 sequences of 62 tokens) from a DEALER; returns once it computes."""
    before = status(d)
    socket.send_multipart([b"", json.dumps({"id": rid, "op": "explain", "model": "tiny", "texts": [LONG] * 4,
                                            "steps": 1024}).encode()])
    wait_until(lambda: (lambda s: s if s["queue"]["requests_in_flight"] == 1 and s["batches"] > before["batches"] + 2 else None)(status(d)),
               what="the explanation computing")
    return before


def dealer(d):
    s = CTX.socket(zmq.DEALER)
    s.linger = 0
    s.connect(d.tcp)
    return s


def test_other_clients_are_served_while_a_long_explanation_runs(daemon_factory):
    """An explanation runs in chunks of one batch's tokens and goes back to the queue between them:
    classify requests sent after it was queued are answered before it finishes."""
    d = daemon_factory(sets=[TINY_SET, "batching.max_batch_tokens=256"], name="bertd-ex-fair")
    long, other = dealer(d), dealer(d)
    try:
        before = start_long_explanation(d, long)
        for i in range(5):
            other.send_multipart([b"", json.dumps({"id": f"c{i}", "op": "classify", "model": "tiny",
                                                   "texts": [f"a short text {i}"]}).encode()])
            assert other.poll(30000), "no reply to a classify while an explanation runs"
            assert check_reply(other.recv_multipart()[-1], "classify", f"c{i}")["ok"]
            assert not long.poll(0), f"the explanation finished before classify {i} was answered"
        assert long.poll(120000), "no reply to the long explanation"
        reply = check_reply(long.recv_multipart()[-1], "explain", "long")
        assert reply["ok"] and len(reply["result"]["explanations"]) == 4
        after = status(d)
        # 4 × 1026 sequences of 62 tokens, 4 per batch of at most 256 tokens: about a thousand chunks.
        assert after["batches"] - before["batches"] >= 1000, (before, after)
        assert after["batched_tokens"] - before["batched_tokens"] >= 4 * 62 * 1026
    finally:
        long.close(linger=0)
        other.close(linger=0)
    d.assert_serving()


def test_a_client_that_leaves_mid_explanation_does_not_stop_the_daemon(daemon_factory):
    d = daemon_factory(sets=[TINY_SET, "batching.max_batch_tokens=256"], name="bertd-ex-left")
    gone = dealer(d)
    start_long_explanation(d, gone)
    gone.close(linger=0)
    ok = check_reply(req(d.tcp, {"id": "after", "op": "classify", "model": "tiny", "texts": ["still served"]}), "classify", "after")
    assert ok["ok"]
    again = explain(d, rid="again", text=TEXT, steps=8)
    check_attribution(again["explanations"][0]["attributions"][0], again["explanations"][0])
    wait_until(lambda: status(d)["queue"]["requests_in_flight"] == 0, what="the departed client's explanation gone")
    d.assert_serving()


def test_a_client_that_leaves_mid_explanation_withdraws_its_work(daemon_factory):
    """With one sequence per batch, three of the four texts wait in the queue at any time. When the
    client disconnects, the request is abandoned, its queued texts are taken back, and no chunk of
    it is computed after the one computing then."""
    d = daemon_factory(sets=[TINY_SET, "batching.max_batch_tokens=256", "batching.max_batch_requests=1"],
                       name="bertd-ex-gone")
    gone = dealer(d)
    before = start_long_explanation(d, gone)
    gone.close(linger=0)

    def left():
        s = status(d)
        return s if s["abandoned"]["requests"] > before["abandoned"]["requests"] or s["queue"]["requests_in_flight"] == 0 else None

    seen = wait_until(left, what="the departure noticed (or the explanation finished)")
    assert seen["abandoned"]["requests"] == before["abandoned"]["requests"] + 1, (before, seen)
    assert seen["abandoned"]["texts"] - before["abandoned"]["texts"] >= 3, (before, seen)
    last = {}

    def settled():
        s = status(d)
        stable = last.get("batches") == s["batches"] and s["queue"]["texts"] == 0 and s["queue"]["requests_in_flight"] == 0
        last["batches"] = s["batches"]
        return s if stable else None

    idle = wait_until(settled, interval_s=0.05, what="an idle daemon")
    assert idle["batches"] - seen["batches"] <= 2, (
        f"{idle['batches'] - seen['batches']} batches computed for a client that had left", seen, idle)
    d.assert_serving()


def test_deadline_stops_an_explanation_between_chunks(daemon_factory):
    """The deadline is checked before every chunk: an explanation that outlives it is dropped
    part-way (deadline_exceeded), not computed to the end."""
    d = daemon_factory(sets=[TINY_SET, "batching.max_queue_tokens=2000000"], name="bertd-ex-late")
    before = status(d)
    # 16 texts of 64 tokens × 1026 sequences: seconds of work.
    reply = expect_error(req(d.tcp, {"id": "late", "op": "explain", "model": "tiny", "texts": [LONGER] * 16, "steps": 1024,
                                     "deadline_ms": 100}, timeout_ms=60000), "deadline_exceeded", "late")
    assert "100 ms" in reply["error"]["message"]
    after = wait_until(lambda: (lambda s: s if s["queue"]["requests_in_flight"] == 0 and s["queue"]["texts"] == 0 else None)(status(d)),
                       what="an idle daemon")
    assert after["expired"] - before["expired"] == 16, (before, after)
    assert after["batched_tokens"] - before["batched_tokens"] < 16 * 64 * 1026 // 2, (before, after)
    d.assert_serving()
