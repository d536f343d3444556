"""A sweep as a daemon job: `sweep_*` options make a `train` job a hyper-parameter sweep whose
points are ordinary runs in the job's output; its best run is served under the job's name, and a
bad axis is refused at submission, naming it."""

import json
import os

import pytest

from conftest import TINY, check_reply, expect_error, req, subscribe
from test_jobs import admin, classify_when_served, wait_for, wait_until_done, write_data


@pytest.fixture(scope="module")
def tiny_sweep_base(bertd):
    admin(bertd, {"id": "l", "op": "load", "name": "tiny-sweep", "path": TINY}, "load")
    yield "tiny-sweep"
    admin(bertd, {"id": "u", "op": "unload", "name": "tiny-sweep"}, "unload")


def test_a_sweep_job_trains_every_point_and_serves_the_best(bertd, tiny_sweep_base, tmp_path):
    data = write_data(tmp_path / "train.tsv", count=40)
    bodies = []
    with subscribe(bertd, ["job."]) as events:
        job = admin(bertd, {"id": "t", "op": "train", "name": "swept", "model": tiny_sweep_base, "train": data,
                            "options": {"epochs": 1, "batch_size": 8, "sweep_grid": "lr=1e-3,1e-2;batch-size=4,8",
                                        "metric": "accuracy"}}, "train")["result"]["job"]
        assert job["options"]["sweep_grid"] == "lr=1e-3,1e-2;batch-size=4,8"
        seen, _ = wait_for(events, job["id"], "job.finished", timeout_s=180, bodies=bodies)
    # One job.point per run (every event checked against event.schema.json on the way).
    points = [b for b in bodies if b["event"] == "job.point"]
    assert len(points) == 4 and len({p["run"] for p in points}) == 4, seen
    assert all(p["state"] == "finished" and p["runs"] == 4 and p["metric"] == "accuracy" and p["epochs"] == 1 for p in points)
    record = wait_until_done(bertd, job["id"], timeout_s=180)
    assert record["state"] == "finished", record
    out = record["output"]
    report = json.load(open(os.path.join(out, "sweep_report.json")))
    assert len(report["rows"]) == 4 and report["best"] is not None, report
    assert len(os.listdir(os.path.join(out, "points"))) == 4
    assert os.path.isfile(os.path.join(out, "best", "config.json"))
    assert record["metrics"]["accuracy"] >= 0
    r = classify_when_served(bertd, "swept")["result"]["results"][0]
    assert set(r["scores"]) == {"neg", "pos"}
    admin(bertd, {"id": "u", "op": "unload", "name": "swept"}, "unload")


@pytest.mark.parametrize("options, mention", [
    ({"sweep_grid": "learning-speed=1,2"}, "learning-speed"),
    ({"sweep_grid": "lr=1e-3", "sweep_seeds": 0}, "sweep_seeds"),
    ({"sweep_ranges": "lr=1e-5:1e-3:log"}, "--random"),
    ({"sweep_grid": "lr=20"}, "learning_rate"),
])
def test_a_bad_sweep_is_refused_at_submission(bertd, tiny_sweep_base, tmp_path, options, mention):
    data = write_data(tmp_path / "train.tsv", count=20)
    reply = json.loads(req(bertd.admin, {"id": "b", "op": "train", "name": "never", "model": tiny_sweep_base, "train": data,
                                         "options": options}))
    expect_error(reply, "bad_request", "b")
    assert mention in reply["error"]["message"], reply


def test_bertctl_sweep_submits_a_sweep_job(bertd, tiny_sweep_base, tmp_path):
    import subprocess
    from conftest import REPO
    bertctl = os.environ.get("BERTCTL_BIN", os.path.join(REPO, ".build", "release", "bertctl"))
    data = write_data(tmp_path / "train.tsv", count=24)
    done = subprocess.run([bertctl, "sweep", "--name", "cli-swept", "--model", tiny_sweep_base, "--train", data,
                           "--grid", "lr=1e-3,5e-3", "--epochs", "1", "--batch-size", "8", "--detach",
                           "--endpoint", bertd.admin], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    job = done.stdout.strip()
    record = wait_until_done(bertd, job, timeout_s=120)
    assert record["state"] == "finished", record
    assert record["options"]["sweep_grid"] == "lr=1e-3,5e-3"
    assert len(json.load(open(os.path.join(record["output"], "sweep_report.json")))["rows"]) == 2
    classify_when_served(bertd, "cli-swept")
    admin(bertd, {"id": "u", "op": "unload", "name": "cli-swept"}, "unload")
