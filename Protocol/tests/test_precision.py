"""int8 serving: a model loads with precision int8 only when its directory records a passed quality
gate (bertctl quantize) for its weights, or with force; its precision shows in the load reply,
models, status and every classify/embed result; a bertd.toml model entry can ask for int8 too."""

import json
import os
import shutil
import subprocess

from conftest import MINILM, REPO, TINY, Daemon, check_reply, expect_error, req, stop_and_check

BERTCTL = os.environ.get("BERTCTL_BIN", os.path.join(REPO, ".build", "release", "bertctl"))


def admin(bertd, body, timeout_ms=60000):
    return check_reply(req(bertd.admin, body, timeout_ms=timeout_ms), body["op"], body.get("id"))


def validation_file(directory):
    """30 short texts labelled with tiny-bert's labels in turn."""
    words = ["the", "film", "was", "good", "bad", "and", "it", "a", "long", "day"]
    path = directory / "validation.tsv"
    rows = ["text\tlabel"] + [" ".join(words[(j * 7 + i * 3) % len(words)] for j in range(3 + i % 7)) + "\t" + ["neg", "neu", "pos"][i % 3]
                              for i in range(30)]
    path.write_text("\n".join(rows) + "\n")
    return str(path)


def quantize(model_dir, validation):
    done = subprocess.run([BERTCTL, "quantize", "--local", str(model_dir), "--validation", validation],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    with open(model_dir / "quantization.json") as f:
        record = json.load(f)
    assert record["passed"] and record["precision"] == "int8", record
    return record


def test_precision_int8_needs_a_passed_gate(bertd, tmp_path):
    model_dir = tmp_path / "tiny"
    shutil.copytree(TINY, model_dir)
    body = {"id": "q1", "op": "load", "name": "tiny8", "path": str(model_dir), "precision": "int8"}

    refused = expect_error(req(bertd.admin, body, timeout_ms=60000), "quantization_gate", "q1")
    assert "quantization.json" in refused["error"]["message"] and "bertctl quantize" in refused["error"]["message"]
    expect_error(req(bertd.admin, dict(body, id="q2", precision="int4")), "bad_request", "q2")
    assert "tiny8" not in {m["name"] for m in admin(bertd, {"id": "m0", "op": "models"})["result"]["models"]}

    record = quantize(model_dir, validation_file(tmp_path))
    # A gate passed for the first int8 scheme (dense layers only, no "scheme") does not vouch for this one.
    assert record["scheme"].endswith("(v2)"), record
    older = dict(record)
    del older["scheme"]
    (model_dir / "quantization.json").write_text(json.dumps(older))
    stale = expect_error(req(bertd.admin, dict(body, id="q2b"), timeout_ms=60000), "quantization_gate", "q2b")
    assert "earlier int8 scheme" in stale["error"]["message"], stale
    (model_dir / "quantization.json").write_text(json.dumps(record))
    loaded = admin(bertd, dict(body, id="q3"))["result"]["loaded"]
    assert loaded["name"] == "tiny8" and loaded["precision"] == "int8"

    classified = check_reply(req(bertd.tcp, {"id": "c", "op": "classify", "model": "tiny8", "texts": ["a good film"]}), "classify", "c")
    assert classified["result"]["precision"] == "int8" and classified["result"]["model"] == "tiny8"
    embedded = check_reply(req(bertd.tcp, {"id": "e", "op": "embed", "model": "tiny8", "texts": ["a good film"]}), "embed", "e")
    assert embedded["result"]["precision"] == "int8"
    default = check_reply(req(bertd.tcp, {"id": "d", "op": "embed", "texts": ["a good film"]}), "embed", "d")
    assert default["result"]["precision"] == "fp32"

    models = {m["name"]: m for m in check_reply(req(bertd.tcp, {"id": "m", "op": "models"}), "models", "m")["result"]["models"]}
    assert models["tiny8"]["precision"] == "int8" and models["minilm"]["precision"] == "fp32"
    status = check_reply(req(bertd.tcp, {"id": "s", "op": "status"}), "status", "s")["result"]
    assert status["model_precision"]["tiny8"] == "int8" and status["model_precision"]["minilm"] == "fp32"

    # Weights changed after the gate (retrained, copied over): refused again, unless forced.
    with open(model_dir / "model.safetensors", "r+b") as f:
        f.seek(-1, os.SEEK_END)
        last = f.read(1)
        f.seek(-1, os.SEEK_END)
        f.write(bytes([last[0] ^ 1]))
    changed = expect_error(req(bertd.admin, dict(body, id="q4"), timeout_ms=60000), "quantization_gate", "q4")
    assert "changed since" in changed["error"]["message"]
    forced = admin(bertd, dict(body, id="q5", force=True))["result"]["loaded"]
    assert forced["precision"] == "int8" and forced["version"] == 2
    admin(bertd, {"id": "u", "op": "unload", "name": "tiny8"})


def test_int8_model_is_explained_on_its_fp32_weights(bertd):
    """MiniLM served in int8 (forced past the gate) keeps only its int8 dense weights; explaining
    it loads the directory in fp32 on the first explanation, so its explanations are those of the
    fp32 model: the same zero-shot attributions as the default fp32 MiniLM."""
    admin(bertd, {"id": "l", "op": "load", "name": "mini8", "path": MINILM, "precision": "int8", "force": True})
    try:
        def explain(model, rid, **more):
            body = dict({"id": rid, "op": "explain", "model": model, "text": "The soup was cold and the waiter was rude."}, **more)
            reply = check_reply(req(bertd.tcp, body, timeout_ms=120000), "explain", rid)
            assert reply["ok"], reply
            return reply["result"]["explanations"][0]
        labels = ["film", "restaurant"]
        int8, fp32 = explain("mini8", "x8", labels=labels, steps=8), explain("minilm", "x32", labels=labels, steps=8)
        assert int8["label"] == fp32["label"] == "restaurant"
        (a8,), (a32,) = int8["attributions"], fp32["attributions"]
        assert abs(a8["logit"] - a32["logit"]) <= 1e-6 and a8["tokens"] == a32["tokens"], (a8, a32)
        # Serving stays int8.
        reply = check_reply(req(bertd.tcp, {"id": "e", "op": "embed", "model": "mini8", "texts": ["hello"]}), "embed", "e")
        assert reply["result"]["precision"] == "int8"
    finally:
        admin(bertd, {"id": "u", "op": "unload", "name": "mini8"})


def test_configured_int8_model(tmp_path):
    model_dir = tmp_path / "tiny"
    shutil.copytree(TINY, model_dir)
    quantize(model_dir, validation_file(tmp_path))
    daemon = Daemon(sets=[f"models.tiny.path={model_dir}", "models.tiny.precision=int8"], name="bertd-int8")
    try:
        models = {m["name"]: m for m in check_reply(req(daemon.tcp, {"id": "m", "op": "models"}), "models", "m")["result"]["models"]}
        assert models["tiny"]["precision"] == "int8" and models["minilm"]["precision"] == "fp32"
        reply = check_reply(req(daemon.tcp, {"id": "c", "op": "classify", "model": "tiny", "texts": ["hello"]}), "classify", "c")
        assert reply["result"]["precision"] == "int8"
    finally:
        stop_and_check(daemon)


def test_configured_int8_model_without_a_gate_stops_the_start(tmp_path):
    model_dir = tmp_path / "tiny"
    shutil.copytree(TINY, model_dir)
    try:
        daemon = Daemon(sets=[f"models.tiny.path={model_dir}", "models.tiny.precision=int8"], name="bertd-int8-refused")
    except RuntimeError as e:
        assert "exited with 1" in str(e) and "quantization.json" in str(e) and "bertctl quantize" in str(e), str(e)
    else:
        stop_and_check(daemon)
        raise AssertionError("bertd started with an int8 model whose directory records no passed gate")
    forced = Daemon(sets=[f"models.tiny.path={model_dir}", "models.tiny.precision=int8", "models.tiny.force=true"],
                    name="bertd-int8-forced")
    try:
        models = {m["name"]: m for m in check_reply(req(forced.tcp, {"id": "m", "op": "models"}), "models", "m")["result"]["models"]}
        assert models["tiny"]["precision"] == "int8"
    finally:
        stop_and_check(forced)
