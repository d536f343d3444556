"""Load: 32 and 128 concurrent client processes (real sockets) each sending single SST-2
sentences. Zero lost or mismatched replies: every reply carries its request's id, and its result
is the one a lone request for the same text gets (label, score, token count)."""

import multiprocessing
import queue
import statistics
import time

import pytest

import loadworker
from bertd_client import BertdClient
from conftest import check_reply, req, sst2_texts

POOL = 48  # distinct sentences, each sent many times


@pytest.fixture(scope="module")
def reference(bertd):
    """Each pool sentence classified alone, one request at a time."""
    texts = sst2_texts()
    step = max(1, len(texts) // POOL)
    pool = texts[::step][:POOL]
    ref = {}
    with BertdClient(bertd.tcp, timeout_ms=60000) as c:
        for i, text in enumerate(pool):
            r = c.classify(text, labels=loadworker.LABELS)["results"][0]
            ref[i] = r
    return pool, ref


def run_load(bertd, pool, ref, clients, per_client):
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["zmq", "json", "loadworker"])
    barrier = ctx.Barrier(clients)
    results = ctx.Queue()
    procs = []
    for w in range(clients):
        jobs = [(f"w{w}-r{j}", (w * per_client + j) % len(pool), pool[(w * per_client + j) % len(pool)])
                for j in range(per_client)]
        p = ctx.Process(target=loadworker.run, args=(bertd.tcp, w, jobs, barrier, results, 120000))
        p.start()
        procs.append(p)
    t0 = time.monotonic()
    outcomes, seen_workers = [], set()
    until = time.monotonic() + 240
    while len(seen_workers) < clients and time.monotonic() < until:
        try:
            worker, outs = results.get(timeout=5)
        except queue.Empty:
            if not any(p.is_alive() for p in procs):
                break
            continue
        seen_workers.add(worker)
        outcomes.extend(outs)
    elapsed = time.monotonic() - t0
    for p in procs:
        p.join(10)
        if p.is_alive():
            p.kill()
    assert len(seen_workers) == clients, f"{clients - len(seen_workers)} client processes reported nothing"
    errors = [o for o in outcomes if "exception" in o]
    assert not errors, errors[:3]
    lost = [o for o in outcomes if o.get("lost")]
    assert not lost, f"{len(lost)} lost replies, e.g. {lost[:3]}"
    assert len(outcomes) == clients * per_client
    mismatched = []
    for o in outcomes:
        r = ref[o["index"]]
        if o["id"] != o["sent"] or not o["ok"] or o["n"] != 1 or o["tokens"] != r["tokens"] \
                or abs(o["score"] - r["score"]) > 2e-3 \
                or (o["label"] != r["label"] and abs(r["score"] - 0.5) > 2e-3):
            mismatched.append((o, r))
    assert not mismatched, f"{len(mismatched)} mismatched replies, e.g. {mismatched[:2]}"
    latencies = sorted(o["latency"] for o in outcomes)
    p50 = statistics.median(latencies) * 1000
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000
    print(f"\n{clients} clients x {per_client}: {len(outcomes)} replies in {elapsed:.1f} s "
          f"({len(outcomes) / elapsed:.0f} req/s), p50 {p50:.0f} ms, p99 {p99:.0f} ms")
    return outcomes


def test_32_concurrent_clients(bertd, reference):
    pool, ref = reference
    run_load(bertd, pool, ref, clients=32, per_client=16)
    bertd.assert_serving()


def test_128_concurrent_clients(bertd, reference):
    pool, ref = reference
    run_load(bertd, pool, ref, clients=128, per_client=5)
    status = check_reply(req(bertd.tcp, {"id": "s", "op": "status"}), "status")["result"]
    assert status["mean_batch_texts"] >= 1
    bertd.assert_serving()
