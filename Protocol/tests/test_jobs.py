"""Training jobs over the protocol: admin only, every bad submission refused with its code, a job's
life told by its events and its record, the result served under its name, cancel, serving while
training, and a job that survives a restart of the daemon.

The MiniLM jobs are kept short (a few optimizer steps of about 0.1 s here): the restart tests check
that the next daemon resumes from the resume point and finishes a few steps later, not that a long
job trains to its end."""

import json
import os
import shutil
import signal
import statistics
import time

import pytest

from conftest import TINY, Daemon, check_event, check_reply, expect_error, req, stop_and_check, subscribe


def write_data(path, count=160):
    words = ["good", "bad", "fine", "poor", "great", "awful"]
    with open(path, "w") as f:
        f.write("text\tlabel\n")
        for i in range(count):
            f.write(f"the {['film', 'meal', 'trip'][i % 3]} was {words[(i * 5) % 6]} {i}\t{['neg', 'pos'][(i * 5) % 6 % 2]}\n")
    return str(path)


def admin(bertd, body, op=None, timeout_ms=30000):
    return check_reply(req(bertd.admin, body, timeout_ms=timeout_ms), op, body.get("id"))


@pytest.fixture(scope="module")
def tiny_loaded(bertd):
    """The tiny BERT served as "tiny-jobs" (a name of its own: other modules load and unload "tiny"
    on the shared daemon): jobs on it take a fraction of a second. Unloaded afterwards."""
    assert admin(bertd, {"id": "l", "op": "load", "name": "tiny-jobs", "path": TINY}, "load")["ok"]
    yield "tiny-jobs"
    assert admin(bertd, {"id": "u", "op": "unload", "name": "tiny-jobs"}, "unload")["ok"]


def wait_for(events, job, topic, timeout_s=120, bodies=None):
    """Events of this job until `topic`; every one checked against event.schema.json (and appended
    to `bodies` when given)."""
    seen = []
    until = time.monotonic() + timeout_s
    while time.monotonic() < until:
        got = events.next(timeout_ms=500)
        if got is None:
            continue
        t, body = got
        check_event([t.encode(), json.dumps(body).encode()])
        if body.get("job") != job:
            continue
        seen.append(t)
        if bodies is not None:
            bodies.append(body)
        if t == topic:
            return seen, body
    pytest.fail(f"no {topic} for job {job} within {timeout_s} s (saw {seen})")


def job_record(bertd, job):
    return admin(bertd, {"id": "j", "op": "jobs", "job": job}, "jobs")["result"]["job"]


def wait_until_done(daemon, job, timeout_s=120):
    """The job's record once it has finished or failed."""
    record = {}
    until = time.monotonic() + timeout_s
    while time.monotonic() < until:
        record = job_record(daemon, job)
        if record["state"] in ("finished", "failed"):
            break
        time.sleep(0.1)
    return record


def classify_when_served(daemon, model, timeout_s=5):
    """A classify reply from `model`, retried while it is being loaded (after job.finished)."""
    until = time.monotonic() + timeout_s
    while True:
        r = check_reply(req(daemon.tcp, {"id": "c", "op": "classify", "model": model, "texts": ["the film was good"]}))
        if r["ok"] or time.monotonic() > until:
            assert r["ok"], r
            return r
        time.sleep(0.05)


def test_job_ops_are_admin_only(bertd, tmp_path):
    data = write_data(tmp_path / "train.tsv")
    for body in [{"id": "t", "op": "train", "name": "x", "train": data}, {"id": "j", "op": "jobs"},
                 {"id": "c", "op": "cancel", "job": "1"}]:
        expect_error(req(bertd.tcp, body), "forbidden", body["id"])
    bertd.assert_serving()


BAD = [
    ({"name": "x"}, "bad_request", "missing \"train\""),
    ({"train": "DATA"}, "bad_request", "missing \"name\""),
    ({"name": "a/b", "train": "DATA"}, "bad_request", "name"),
    ({"name": "x", "train": "relative.tsv"}, "bad_request", "absolute"),
    ({"name": "x", "train": "/nonexistent/train.tsv"}, "bad_request", "cannot read"),
    ({"name": "x", "train": "DATA", "validation": "/nonexistent/dev.tsv"}, "bad_request", "cannot read"),
    ({"name": "x", "train": "DATA", "options": {"epoch": 2}}, "bad_request", "unknown training option \"epoch\""),
    ({"name": "x", "train": "DATA", "options": {"epochs": "2"}}, "bad_request", "integer"),
    ({"name": "x", "train": "DATA", "options": {"epochs": 0}}, "bad_request", "epochs"),
    ({"name": "x", "train": "DATA", "options": {"learning_rate": True}}, "bad_request", "number"),
    ({"name": "x", "train": "DATA", "options": {"method": "magic"}}, "bad_request", "method"),
    ({"name": "x", "train": "DATA", "options": {"method": "lora", "lora_targets": "query,nose"}}, "bad_request", "nose"),
    ({"name": "x", "train": "DATA", "options": []}, "bad_request", "options"),
    ({"name": "x", "train": "DATA", "model": "nope"}, "unknown_model", "nope"),
]


@pytest.mark.parametrize("fields,code,mentions", BAD, ids=[b[2] for b in BAD])
def test_bad_submissions(bertd, tmp_path, fields, code, mentions):
    data = write_data(tmp_path / "train.tsv")
    body = {"id": "bad", "op": "train", **{k: (data if v == "DATA" else v) for k, v in fields.items()}}
    reply = expect_error(req(bertd.admin, body), code, "bad")
    assert mentions in reply["error"]["message"], reply
    bertd.assert_serving()


def test_unknown_job(bertd):
    expect_error(req(bertd.admin, {"id": "c", "op": "cancel", "job": "no-such-job"}), "unknown_job", "c")
    expect_error(req(bertd.admin, {"id": "j", "op": "jobs", "job": "no-such-job"}), "unknown_job", "j")


def test_job_life_and_result_served(bertd, tiny_loaded, tmp_path):
    data = write_data(tmp_path / "train.tsv")
    with subscribe(bertd, ["job."]) as events:
        reply = admin(bertd, {"id": "t", "op": "train", "name": "tiny-trained", "model": tiny_loaded, "train": data,
                              "options": {"epochs": 2, "batch_size": 8, "learning_rate": 1e-3}}, "train")
        job = reply["result"]["job"]
        assert job["state"] == "queued" and job["name"] == "tiny-trained" and job["model"] == tiny_loaded
        seen, finished = wait_for(events, job["id"], "job.finished")
    assert seen[:2] == ["job.queued", "job.started"] and seen.count("job.eval") == 2 and "job.step" in seen, seen
    assert finished["metrics"]["accuracy"] >= 0
    record = job_record(bertd, job["id"])
    assert record["state"] == "finished" and record["progress"]["epoch"] == 2 and record["error"] is None
    assert os.path.isfile(os.path.join(record["output"], "config.json"))
    # The result is served under its name (loaded right after job.finished).
    r = classify_when_served(bertd, "tiny-trained")
    assert set(r["result"]["results"][0]["scores"]) == {"neg", "pos"}
    listed = admin(bertd, {"id": "j", "op": "jobs"}, "jobs")["result"]["jobs"]
    assert job["id"] in [j["id"] for j in listed]
    status = check_reply(req(bertd.tcp, {"id": "s", "op": "status"}), "status")["result"]
    assert status["jobs"]["running"] is None


def test_cancel_running_and_queued(bertd, tiny_loaded, tmp_path):
    data = write_data(tmp_path / "train.tsv", count=400)
    with subscribe(bertd, ["job."]) as events:
        long = admin(bertd, {"id": "t1", "op": "train", "name": "long", "model": tiny_loaded, "train": data,
                             "options": {"epochs": 400, "batch_size": 4}}, "train")["result"]["job"]["id"]
        queued = admin(bertd, {"id": "t2", "op": "train", "name": "later", "model": tiny_loaded, "train": data}, "train")["result"]["job"]["id"]
        wait_for(events, long, "job.step")
        assert admin(bertd, {"id": "c", "op": "cancel", "job": queued}, "cancel")["result"]["job"]["state"] == "cancelled"
        assert admin(bertd, {"id": "c", "op": "cancel", "job": long}, "cancel")["result"]["job"]["cancel_requested"]
        wait_for(events, long, "job.cancelled")
    assert job_record(bertd, long)["state"] == "cancelled"
    assert job_record(bertd, queued)["started"] is None
    expect_error(req(bertd.admin, {"id": "c", "op": "cancel", "job": long}), "bad_request", "c")
    bertd.assert_serving()


@pytest.fixture
def own_bertd():
    """A daemon of its own: fine-tuning MiniLM takes memory the shared daemon's bound is not for."""
    daemon = Daemon(name="bertd-train")
    yield daemon
    stop_and_check(daemon)
    daemon.cleanup()


def test_requests_are_served_while_a_job_trains(own_bertd, tmp_path):
    """A MiniLM job runs for seconds (9 steps); classify requests meanwhile are all answered, between
    its steps. The latencies are printed (a micro-step bounds them), not asserted."""
    bertd = own_bertd
    data = write_data(tmp_path / "train.tsv", count=160)
    with subscribe(bertd, ["job."]) as events:
        job = admin(bertd, {"id": "t", "op": "train", "name": "minilm-job", "train": data,
                            "options": {"epochs": 1, "batch_size": 16}}, "train")["result"]["job"]["id"]
        wait_for(events, job, "job.step")
        latencies = []
        while job_record(bertd, job)["state"] == "running":
            t = time.monotonic()
            r = check_reply(req(bertd.tcp, {"id": "c", "op": "classify", "texts": ["serving while training"], "labels": ["a", "b"]},
                                timeout_ms=30000), "classify", "c")
            assert r["ok"], r
            latencies.append(time.monotonic() - t)
    assert len(latencies) >= 5, latencies
    q = statistics.quantiles(latencies, n=100)
    print(f"\nclassify during a MiniLM job: {len(latencies)} requests, p50 {q[49] * 1e3:.1f} ms, p99 {q[98] * 1e3:.1f} ms")
    assert job_record(bertd, job)["state"] == "finished"


def test_a_job_with_bad_data_fails_with_the_reason(bertd, tiny_loaded, tmp_path):
    path = tmp_path / "bad.tsv"
    path.write_text("text\tlabel\nfine text\tpos\nno label here\n")
    with subscribe(bertd, ["job."]) as events:
        job = admin(bertd, {"id": "t", "op": "train", "name": "never", "model": tiny_loaded, "train": str(path)}, "train")["result"]["job"]["id"]
        _, failed = wait_for(events, job, "job.failed")
    assert "bad.tsv" in failed["message"] and "3" in failed["message"], failed
    record = job_record(bertd, job)
    assert record["state"] == "failed" and record["error"] == failed["message"]
    names = [m["name"] for m in check_reply(req(bertd.tcp, {"op": "models"}), "models")["result"]["models"]]
    assert "never" not in names
    bertd.assert_serving()


def resume_point_step(state, job):
    """The optimizer step of the job's resume point on disk."""
    path = os.path.join(state, "jobs", job, "output", "last-checkpoint", "trainer_state.json")
    assert os.path.isfile(path), f"no resume point at {path}"
    with open(path) as f:
        return json.load(f)["global_step"]


def resumes_and_finishes(daemon, job, resume, total_steps):
    """On the daemon started again: the job resumes from its resume point (job.started and its
    record say resumed; its steps go on after the resume point's, each once, to the last) and
    finishes. The events are read from just after the daemon is ready; a job that started again
    from step 1 would show its early steps."""
    assert "resumes from its last resume point" in daemon.log_text()
    bodies = []
    with subscribe(daemon, ["job."]) as events:
        started = daemon.wait_for_log(rf"job {job} started( \(resuming\))?\n")
        assert started.group(1), started.group(0)  # logged where job.started is published, with its "resumed"
        seen, finished = wait_for(events, job, "job.finished", bodies=bodies)
    assert all(b["resumed"] for b in bodies if b["event"] == "job.started"), bodies
    steps = [b["step"] for b in bodies if b["event"] == "job.step"]
    assert steps and steps[0] > resume, f"resume point at step {resume}; steps after the restart: {steps}"
    assert steps == list(range(steps[0], total_steps + 1)), steps
    assert {b["total_steps"] for b in bodies if b["event"] == "job.step"} == {total_steps}
    record = wait_until_done(daemon, job)
    assert record["state"] == "finished", record
    assert record["resumed"] is True and record["progress"]["step"] == total_steps, record
    return record


def test_job_survives_a_restart(tmp_path):
    """SIGTERM during a job: exit 0, the job interrupted with a resume point at the step it stopped
    at; the next daemon on the same state directory resumes from there and finishes it (2 epochs
    of 4 steps: the restart lands in the first)."""
    state = str(tmp_path / "state")
    data = write_data(tmp_path / "train.tsv", count=64)
    first = Daemon(name="bertd-jobs", state=state)
    try:
        with subscribe(first, ["job."]) as events:
            job = admin(first, {"id": "t", "op": "train", "name": "survivor", "train": data,
                                "options": {"epochs": 2, "batch_size": 16, "seed": 4}}, "train")["result"]["job"]["id"]
            _, step = wait_for(events, job, "job.step")
        assert job_record(first, job)["resumed"] is False
        assert first.stop() == 0
    finally:
        first.cleanup()
    with open(os.path.join(state, "jobs", job, "job.json")) as f:
        interrupted = json.load(f)
    assert interrupted["state"] == "interrupted"
    resume = resume_point_step(state, job)
    total_steps = step["total_steps"]
    assert step["step"] <= resume < total_steps, (step, resume)  # it stopped at its next step, well before the end
    assert interrupted["progress"]["step"] == resume, interrupted["progress"]  # the resume point is where it stopped
    second = Daemon(name="bertd-jobs", state=state)
    try:
        resumes_and_finishes(second, job, resume, total_steps)
        stop_and_check(second)
    finally:
        second.cleanup()


def test_job_survives_kill_9(tmp_path):
    """kill -9 during a job loses nothing acknowledged: the next daemon finds the job, resumes it
    from its last resume point (checkpoint_every) and finishes it (8 steps in all)."""
    state = str(tmp_path / "state")
    data = write_data(tmp_path / "train.tsv", count=64)
    first = Daemon(name="bertd-kill", state=state)
    try:
        with subscribe(first, ["job."]) as events:
            job = admin(first, {"id": "t", "op": "train", "name": "crashproof", "train": data,
                                "options": {"epochs": 1, "batch_size": 8, "checkpoint_every": 2}}, "train")["result"]["job"]["id"]
            for _ in range(4):
                _, step = wait_for(events, job, "job.step")
        first.proc.send_signal(signal.SIGKILL)
        first.proc.wait(30)
        first.returncode = first.proc.returncode
        first.log.close()
    finally:
        first.cleanup()
    with open(os.path.join(state, "jobs", job, "job.json")) as f:
        assert json.load(f)["state"] == "running"  # what was on disk when it died
    resume = resume_point_step(state, job)
    total_steps = step["total_steps"]
    assert resume % 2 == 0 and 2 <= resume < total_steps, (resume, step)  # a checkpoint_every point before the end
    second = Daemon(name="bertd-kill", state=state)
    try:
        resumes_and_finishes(second, job, resume, total_steps)
        assert classify_when_served(second, "crashproof")["ok"]
        stop_and_check(second)
    finally:
        second.cleanup()
