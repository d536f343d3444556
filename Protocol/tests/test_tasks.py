"""Serving every task a Hugging Face config declares: a multi-label model (problem_type
multi_label_classification) answers a sigmoid per label and the labels at or above their
decision thresholds (config.json `decision_thresholds`); a regression model (problem_type
regression, one output) answers its value, with no softmax. Both made from the tiny BERT
classifier here; the reply validates against classify.result."""

import json
import math
import os
import shutil
import struct

import pytest

from conftest import TINY, Daemon, check_reply, expect_error, req, stop_and_check


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    body = data[8 + n:]
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        assert info["dtype"] == "F32", (name, info["dtype"])
        start, end = info["data_offsets"]
        tensors[name] = (info["shape"], body[start:end])
    return tensors


def write_safetensors(path, tensors):
    header, body, offset = {}, b"", 0
    for name, (shape, raw) in sorted(tensors.items()):
        header[name] = {"dtype": "F32", "shape": shape, "data_offsets": [offset, offset + len(raw)]}
        body += raw
        offset += len(raw)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + body)


def model_copy(tmp_path, name, **config_changes):
    directory = tmp_path / name
    shutil.copytree(TINY, directory)
    config = json.loads((directory / "config.json").read_text())
    config.update(config_changes)
    (directory / "config.json").write_text(json.dumps(config))
    return directory


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("tasks")
    multi = model_copy(tmp, "multi", problem_type="multi_label_classification",
                       decision_thresholds={"neg": 0.3, "neu": 0.9, "pos": 0.3})
    regression = model_copy(tmp, "regression", problem_type="regression", id2label={"0": "rating"}, label2id={"rating": 0})
    tensors = read_safetensors(regression / "model.safetensors")
    weight_shape, weight = tensors["classifier.weight"]
    bias_shape, bias = tensors["classifier.bias"]
    hidden = weight_shape[1]
    tensors["classifier.weight"] = ([1, hidden], weight[:4 * hidden])           # label 0's row
    tensors["classifier.bias"] = ([1], struct.pack("<f", 2.5))                 # a value far from [0, 1]
    write_safetensors(regression / "model.safetensors", tensors)
    return {"multi": str(multi), "regression": str(regression)}


def classify(bertd_daemon, model, texts, **fields):
    reply = json.loads(req(bertd_daemon.tcp, {"id": "c", "op": "classify", "model": model, "texts": texts, **fields}))
    check_reply(reply, "classify", "c")
    return reply


@pytest.fixture(scope="module")
def served(models):
    d = Daemon(sets=[f"models.multi.path={models['multi']}", f"models.regression.path={models['regression']}"], name="bertd-tasks")
    yield d
    stop_and_check(d)


def test_multi_label_answers_every_label_at_or_above_its_threshold(served):
    reply = classify(served, "multi", ["one text", "another text"])
    for r in reply["result"]["results"]:
        assert list(r["scores"]) == ["neg", "neu", "pos"]
        for label, logit in zip(r["scores"], r["logits"]):
            assert r["scores"][label] == pytest.approx(1 / (1 + math.exp(-logit)), abs=1e-6)  # a sigmoid, not a softmax
        assert r["labels"] == ["neg", "pos"]  # ~0.5 each: above 0.3, below 0.9
        assert "value" not in r
    # top_k limits the scores shown, not the thresholded labels.
    r = classify(served, "multi", ["one text"], top_k=1)["result"]["results"][0]
    assert len(r["scores"]) == 1 and r["labels"] == ["neg", "pos"]


def test_regression_answers_its_value_without_softmax(served):
    reply = classify(served, "regression", ["one text", "a second, longer text"])
    for r in reply["result"]["results"]:
        assert len(r["logits"]) == 1
        assert r["value"] == pytest.approx(r["logits"][0], abs=1e-6)
        assert r["value"] == pytest.approx(2.5, abs=0.1)  # the bias dominates the tiny head
        assert r["label"] == "rating" and r["score"] == r["value"] and r["scores"] == {"rating": r["value"]}
        assert "labels" not in r


def test_single_label_replies_are_unchanged(bertd):
    reply = classify(bertd, "minilm", ["the striker scored"], labels=["sports", "cooking"])
    r = reply["result"]["results"][0]
    assert "labels" not in r and "value" not in r


def test_a_bad_threshold_is_a_load_error(tmp_path, served):
    for name, thresholds, mention in [("unknown", {"nope": 0.5}, "not in id2label"), ("range", {"neg": 1.5}, "(0, 1)")]:
        bad = model_copy(tmp_path, name, problem_type="multi_label_classification", decision_thresholds=thresholds)
        reply = json.loads(req(served.admin, {"id": "l", "op": "load", "name": name, "path": str(bad)}))
        expect_error(reply, "load_failed", "l")
        assert mention in reply["error"]["message"], reply
    served.assert_serving()


def test_a_job_without_a_task_reads_it_from_the_data(bertd, tmp_path):
    """Rows with several labels make a multi-label job even when `task` is not named: the job's
    metrics are multi-label ones and its model answers a sigmoid per label."""
    from test_jobs import admin, classify_when_served, wait_until_done
    path = tmp_path / "emotions.tsv"
    with open(path, "w") as f:
        f.write("text\tlabel\n")
        for i in range(24):
            f.write(f"sample {i}\t{['anger|disgust', 'joy', '', 'anger'][i % 4]}\n")
    admin(bertd, {"id": "l", "op": "load", "name": "tiny-detect", "path": TINY}, "load")
    try:
        job = admin(bertd, {"id": "t", "op": "train", "name": "detected", "model": "tiny-detect", "train": str(path),
                            "options": {"epochs": 1, "batch_size": 8}}, "train")["result"]["job"]["id"]
        record = wait_until_done(bertd, job)
        assert record["state"] == "finished", record
        assert "multi_label" in record["metrics"], record["metrics"]
        r = classify_when_served(bertd, "detected")["result"]["results"][0]
        assert "labels" in r and sorted(r["scores"]) == ["anger", "disgust", "joy"]
    finally:
        admin(bertd, {"id": "u", "op": "unload", "name": "tiny-detect"}, "unload")
        admin(bertd, {"id": "u2", "op": "unload", "name": "detected"}, "unload")
