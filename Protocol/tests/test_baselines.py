"""A linear baseline (TF-IDF + logistic regression) as a daemon job and as a served model: the
job trains in seconds and its result is served under its name; `classify` answers with the
baseline's own scores (the same as `bertctl classify --local` on the directory); `models` lists it
as family linear-tfidf; what a baseline cannot do (embed, zero-shot labels, pairs, explain) is
refused with `unsupported`, and the daemon keeps serving."""

import json
import os
import subprocess

import pytest

import random
import time

from conftest import REPO, check_reply, expect_error, req, subscribe
from test_jobs import admin, classify_when_served, job_record, wait_for, wait_until_done

BERTCTL = os.environ.get("BERTCTL_BIN", os.path.join(REPO, ".build", "release", "bertctl"))


def write_data(path, count=120):
    good, bad = ["good", "great", "fine"], ["bad", "awful", "poor"]
    with open(path, "w") as f:
        f.write("text\tlabel\n")
        for i in range(count):
            positive = i % 2 == 0
            f.write(f"the {['film', 'meal', 'trip'][i % 3]} was {(good if positive else bad)[(i // 2) % 3]}\t{'pos' if positive else 'neg'}\n")
    return str(path)


@pytest.fixture(scope="module")
def baseline(bertd, tmp_path_factory):
    """A baseline trained by a daemon job and served as "baseline-job"; its directory."""
    data = write_data(tmp_path_factory.mktemp("baseline") / "train.tsv")
    reply = admin(bertd, {"id": "t", "op": "train", "name": "baseline-job", "train": data,
                          "options": {"method": "baseline-linear", "c": 10.0, "min_df": 1}}, "train")
    job = reply["result"]["job"]["id"]
    record = wait_until_done(bertd, job)
    assert record["state"] == "finished", record
    assert record["metrics"]["accuracy"] == 1.0, record["metrics"]
    assert os.path.isfile(os.path.join(record["output"], "baseline.json"))
    classify_when_served(bertd, "baseline-job")
    yield record["output"]
    admin(bertd, {"id": "u", "op": "unload", "name": "baseline-job"}, "unload")


def classify(bertd, model, texts, **fields):
    return check_reply(req(bertd.tcp, {"id": "c", "op": "classify", "model": model, "texts": texts, **fields}), "classify", "c")


def test_a_served_baseline_answers_as_bertctl_does(bertd, baseline):
    texts = ["the film was great", "the trip was awful", "the meal was fine and the film was poor"]
    served = classify(bertd, "baseline-job", texts)["result"]["results"]
    assert [r["label"] for r in served[:2]] == ["pos", "neg"]
    local = subprocess.run([BERTCTL, "classify", "--local", baseline, "--json", *texts], capture_output=True, text=True, timeout=60)
    assert local.returncode == 0, local.stderr
    for r, line in zip(served, local.stdout.splitlines()):
        mine = json.loads(line)
        assert r["label"] == mine["label"]
        assert r["logits"] == pytest.approx(mine["logits"], abs=1e-6)
        assert sum(r["scores"].values()) == pytest.approx(1, abs=1e-5)
        assert r["truncated"] is False


def test_models_lists_the_baseline(bertd, baseline):
    models = check_reply(req(bertd.tcp, {"id": "m", "op": "models"}), "models", "m")["result"]["models"]
    m = next(m for m in models if m["name"] == "baseline-job")
    assert m["family"] == "linear-tfidf" and m["labels"] == ["neg", "pos"] and m["can_classify"] and not m["zero_shot"]
    assert m["parameters"] > 0 and m["hidden_size"] == 0 and m["max_length"] == 0 and m["scoring"] == "softmax"


@pytest.mark.parametrize("body, mention", [
    ({"op": "embed", "texts": ["x"]}, "does not embed"),
    ({"op": "classify", "texts": ["x"], "labels": ["a", "b"]}, "zero-shot"),
    ({"op": "classify", "texts": ["x"], "pairs": ["y"]}, "pairs"),
    ({"op": "explain", "texts": ["x"]}, "explanations are for transformers"),
])
def test_what_a_baseline_cannot_do_is_unsupported(bertd, baseline, body, mention):
    reply = json.loads(req(bertd.tcp, {"id": "u", "model": "baseline-job", **body}))
    expect_error(reply, "unsupported", "u")
    assert mention in reply["error"]["message"], reply
    bertd.assert_serving()


def test_a_long_text_is_not_truncated(bertd, baseline):
    text = "the film was great " * 400
    r = classify(bertd, "baseline-job", [text], truncate=False)["result"]["results"][0]
    assert r["label"] == "pos" and r["truncated"] is False


def test_loading_a_baseline_directory_by_path(bertd, baseline):
    admin(bertd, {"id": "l", "op": "load", "name": "baseline-copy", "path": baseline}, "load")
    try:
        a = classify(bertd, "baseline-copy", ["the meal was bad"])["result"]["results"][0]
        b = classify(bertd, "baseline-job", ["the meal was bad"])["result"]["results"][0]
        assert a["logits"] == b["logits"] and a["label"] == "neg"
    finally:
        admin(bertd, {"id": "u", "op": "unload", "name": "baseline-copy"}, "unload")


def test_a_damaged_baseline_is_a_load_error(bertd, baseline, tmp_path):
    broken = tmp_path / "broken"
    broken.mkdir()
    for name in os.listdir(baseline):
        (broken / name).write_bytes(open(os.path.join(baseline, name), "rb").read())
    (broken / "weights.safetensors").write_bytes(b"\x00" * 16)
    reply = json.loads(req(bertd.admin, {"id": "l", "op": "load", "name": "broken", "path": str(broken)}))
    expect_error(reply, "load_failed", "l")
    bertd.assert_serving()


def test_a_baseline_job_is_cancelled_mid_fit(bertd, tmp_path):
    """20 000 random texts with random labels and C 1e6: L-BFGS would take its 1 000 iterations
    (seconds); a cancel ends it at the next iteration, and the daemon keeps serving."""
    rng = random.Random(5)
    words = [f"w{i}" for i in range(3000)]
    path = tmp_path / "noise.tsv"
    with open(path, "w") as f:
        f.write("text\tlabel\n")
        for _ in range(20000):
            f.write(" ".join(rng.choice(words) for _ in range(12)) + "\t" + rng.choice(["a", "b", "c"]) + "\n")
    with subscribe(bertd, ["job."]) as events:
        job = admin(bertd, {"id": "t", "op": "train", "name": "noise-baseline", "train": str(path),
                            "options": {"method": "baseline-linear", "c": 1e6, "min_df": 1}}, "train")["result"]["job"]["id"]
        wait_for(events, job, "job.started")
        time.sleep(0.5)
        assert admin(bertd, {"id": "c", "op": "cancel", "job": job}, "cancel")["result"]["job"]["cancel_requested"]
        wait_for(events, job, "job.cancelled", timeout_s=30)
    record = job_record(bertd, job)
    assert record["state"] == "cancelled", record
    bertd.assert_serving()
