"""Few-shot training (SetFit's recipe) as a daemon job and as a served model: from 8 texts per class
the job tunes MiniLM's encoder on sentence pairs and fits a logistic regression on its embeddings;
the result is served under the job's name with softmax scores, answers as `bertctl classify
--local` does on the directory, is listed by `models` and explained like any classifier; bad
settings and data are refused and the daemon keeps serving."""

import json
import os
import subprocess

import pytest

from conftest import REPO, check_reply, expect_error, req
from test_jobs import admin, classify_when_served, wait_until_done

BERTCTL = os.environ.get("BERTCTL_BIN", os.path.join(REPO, ".build", "release", "bertctl"))

GOOD = ["wonderful", "delightful", "excellent", "brilliant", "superb", "lovely", "fantastic", "charming"]
BAD = ["awful", "dreadful", "terrible", "horrible", "boring", "miserable", "dull", "disappointing"]
SUBJECTS = ["the film", "the meal", "this book", "the concert", "our trip", "the service", "the hotel", "the album"]


def write_data(path):
    with open(path, "w") as f:
        f.write("text\tlabel\n")
        for s, good, bad in zip(SUBJECTS, GOOD, BAD):
            f.write(f"{s} was {good}\tpos\n{s} was {bad}\tneg\n")
    return str(path)


@pytest.fixture(scope="module")
def few_shot(bertd, tmp_path_factory):
    """A few-shot model trained by a daemon job and served as "few-shot-job"; its job record."""
    data = write_data(tmp_path_factory.mktemp("few-shot") / "train.tsv")
    reply = admin(bertd, {"id": "t", "op": "train", "name": "few-shot-job", "train": data, "validation": data,
                          "options": {"method": "few-shot", "epochs": 2}}, "train")
    record = wait_until_done(bertd, reply["result"]["job"]["id"], timeout_s=600)
    assert record["state"] == "finished", record
    assert record["metrics"]["accuracy"] == 1.0, record["metrics"]
    for name in ("embedding_head.safetensors", "few_shot_report.json", "config.json", "model.safetensors"):
        assert os.path.isfile(os.path.join(record["output"], name)), name
    classify_when_served(bertd, "few-shot-job")
    yield record
    admin(bertd, {"id": "u", "op": "unload", "name": "few-shot-job"}, "unload")


def classify(bertd, model, texts, **fields):
    return check_reply(req(bertd.tcp, {"id": "c", "op": "classify", "model": model, "texts": texts, **fields}), "classify", "c")


def test_the_job_reported_its_steps(few_shot):
    with open(os.path.join(few_shot["output"], "few_shot_report.json")) as f:
        report = json.load(f)
    # 16 texts: 2 × 8·9/2 = 72 positive pairs, 64 negative ones oversampled to 72; 9 steps of 16 per epoch.
    assert report["pairs"] == 144 and report["positive_pairs"] == 72 and report["steps"] == 18
    assert report["examples_per_class"] == [8, 8] and report["labels"] == ["neg", "pos"]
    assert len(report["losses"]) == 18


def test_served_as_bertctl_classifies_the_directory(bertd, few_shot):
    texts = ["the museum was superb", "the lecture was dreadful", "the play was charming"]
    served = classify(bertd, "few-shot-job", texts)["result"]["results"]
    assert [r["label"] for r in served] == ["pos", "neg", "pos"]
    local = subprocess.run([BERTCTL, "classify", "--local", few_shot["output"], "--json", *texts],
                           capture_output=True, text=True, timeout=120)
    assert local.returncode == 0, local.stderr
    for r, line in zip(served, local.stdout.splitlines()):
        mine = json.loads(line)
        assert r["label"] == mine["label"]
        assert r["logits"] == pytest.approx(mine["logits"], abs=1e-5)
        assert sum(r["scores"].values()) == pytest.approx(1, abs=1e-5)


def test_models_lists_it_as_a_classifier(bertd, few_shot):
    models = check_reply(req(bertd.tcp, {"id": "m", "op": "models"}), "models", "m")["result"]["models"]
    m = next(m for m in models if m["name"] == "few-shot-job")
    assert m["labels"] == ["neg", "pos"] and m["can_classify"] and m["zero_shot"] and m["scoring"] == "softmax"
    assert m["family"] == "bert" and m["hidden_size"] == 384


def test_it_still_embeds_and_classifies_zero_shot(bertd, few_shot):
    vector = check_reply(req(bertd.tcp, {"id": "e", "op": "embed", "model": "few-shot-job", "texts": ["x y"]}), "embed", "e")
    assert len(vector["result"]["embeddings"][0]) == 384
    r = classify(bertd, "few-shot-job", ["the film was superb"], labels=["praise", "complaint"])["result"]["results"][0]
    assert set(r["scores"]) == {"praise", "complaint"}


def test_explained_like_any_classifier(bertd, few_shot):
    text = "the museum was superb"
    served = classify(bertd, "few-shot-job", [text])["result"]["results"][0]
    reply = check_reply(req(bertd.tcp, {"id": "x", "op": "explain", "model": "few-shot-job", "texts": [text], "steps": 64}),
                        "explain", "x")
    e = reply["result"]["explanations"][0]
    assert e["label"] == served["label"] == "pos"
    assert e["logits"] == pytest.approx(served["logits"], abs=1e-4)
    target = e["attributions"][0]
    words = dict(zip([w["text"] for w in e["words"]], target["words"]))
    assert max(words, key=lambda w: abs(words[w])) == "superb", words
    maps = check_reply(req(bertd.tcp, {"id": "a", "op": "explain", "model": "few-shot-job", "texts": [text],
                                       "method": "attention"}), "explain", "a")
    assert maps["result"]["explanations"][0]["label"] == "pos"


@pytest.mark.parametrize("options, mention", [
    ({"method": "few-shot", "pair_iterations": 0}, "pair_iterations"),
    ({"method": "few-shot", "learning_rate": -1}, "learning_rate"),
])
def test_bad_settings_are_refused_at_submission(bertd, tmp_path, options, mention):
    data = write_data(tmp_path / "train.tsv")
    reply = json.loads(req(bertd.admin, {"id": "t", "op": "train", "name": "bad-few-shot", "train": data, "options": options}))
    expect_error(reply, "bad_request", "t")
    assert mention in reply["error"]["message"], reply
    bertd.assert_serving()


def test_data_few_shot_cannot_train_fails_the_job_clearly(bertd, tmp_path):
    path = tmp_path / "one-class.tsv"
    path.write_text("text\tlabel\n" + "".join(f"text {i}\tonly\n" for i in range(6)))
    reply = admin(bertd, {"id": "t", "op": "train", "name": "one-class", "train": str(path), "validation": str(path),
                          "options": {"method": "few-shot", "labels": "only,other"}}, "train")
    record = wait_until_done(bertd, reply["result"]["job"]["id"])
    assert record["state"] == "failed", record
    assert "other" in record["error"], record
    bertd.assert_serving()


MINILM = os.environ.get("BERTD_TEST_MODEL", os.path.join(REPO, "models", "all-MiniLM-L6-v2"))


def test_bertctl_trains_few_shot_locally_and_evaluates_it(tmp_path):
    data = write_data(tmp_path / "train.tsv")
    out = tmp_path / "model"
    run = subprocess.run([BERTCTL, "train", "--local", "--model", MINILM, "--train", data, "--validation", data,
                          "--method", "few-shot", "--pair-iterations", "2", "--seed", "3", "--out", str(out), "--json"],
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    # --pair-iterations 2: 2 × 16 positive and 2 × 16 negative pairs, 4 steps of 16.
    assert report["pairs"] == 64 and report["pair_iterations"] == 2 and report["steps"] == 4 and report["seed"] == 3
    assert report["learning_rate"] == pytest.approx(2e-5) and report["batch_size"] == 16, "SetFit's defaults"
    evaluated = subprocess.run([BERTCTL, "eval", "--local", str(out), "--data", data, "--json"],
                               capture_output=True, text=True, timeout=120)
    assert evaluated.returncode == 0, evaluated.stderr
    assert json.loads(evaluated.stdout)["accuracy"] == pytest.approx(report["validation"]["accuracy"])


@pytest.mark.parametrize("extra, mention", [
    (["--kfold", "3"], "--kfold"),
    (["--pair-iterations", "0"], "pair_iterations"),
])
def test_bertctl_refuses_what_few_shot_does_not_take(tmp_path, extra, mention):
    data = write_data(tmp_path / "train.tsv")
    run = subprocess.run([BERTCTL, "train", "--local", "--model", MINILM, "--train", data, "--method", "few-shot",
                          "--out", str(tmp_path / "m"), *extra], capture_output=True, text=True, timeout=120)
    assert run.returncode != 0 and mention in run.stderr, run.stderr
    assert not (tmp_path / "m").exists()


def test_compare_names_the_few_shot_run(tmp_path):
    data = write_data(tmp_path / "train.tsv")
    out = tmp_path / "model"
    run = subprocess.run([BERTCTL, "train", "--local", "--model", MINILM, "--train", data, "--validation", data,
                          "--method", "few-shot", "--pair-iterations", "1", "--out", str(out)],
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    compared = subprocess.run([BERTCTL, "compare", str(out), "--data", data, "--json"], capture_output=True, text=True, timeout=120)
    assert compared.returncode == 0, compared.stderr
    rows = json.loads(compared.stdout)
    row = rows[0] if isinstance(rows, list) else rows["models"][0]
    assert row["kind"] == "bert few-shot 16 texts" and row["training_seconds"] > 0, row


def test_without_validation_every_text_trains(tmp_path):
    """A handful per class is too few to hold some out: with no --validation the run keeps all 16."""
    data = write_data(tmp_path / "train.tsv")
    run = subprocess.run([BERTCTL, "train", "--local", "--model", MINILM, "--train", data, "--method", "few-shot",
                          "--pair-iterations", "1", "--out", str(tmp_path / "m"), "--json"], capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    assert report["examples_per_class"] == [8, 8] and report.get("validation") is None, report
