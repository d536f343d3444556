"""A load-test client process: one REQ socket, single-sentence classify requests, one at a time.
Kept apart from the test module so forkserver children import nothing but this and pyzmq."""

import json
import time

import zmq

LABELS = ["positive", "negative"]


def run(endpoint, worker, jobs, barrier, results, timeout_ms):
    """jobs: [(request id, text index, text)]. Puts one list of outcomes on `results`."""
    ctx = zmq.Context()
    s = ctx.socket(zmq.REQ)
    s.linger = 0
    s.connect(endpoint)
    outcomes = []
    try:
        barrier.wait(120)
        for rid, index, text in jobs:
            t = time.monotonic()
            s.send(json.dumps({"v": 1, "id": rid, "op": "classify", "texts": [text], "labels": LABELS}).encode())
            if not s.poll(timeout_ms, zmq.POLLIN):
                outcomes.append({"sent": rid, "index": index, "lost": True})
                s.close(linger=0)  # the REQ socket is stuck: a new one for the next request
                s = ctx.socket(zmq.REQ)
                s.linger = 0
                s.connect(endpoint)
                continue
            reply = json.loads(s.recv())
            out = {"sent": rid, "index": index, "id": reply.get("id"), "ok": reply.get("ok"),
                   "latency": time.monotonic() - t}
            if reply.get("ok"):
                results_ = reply["result"]["results"]
                out.update(n=len(results_), label=results_[0]["label"], score=results_[0]["score"],
                           tokens=results_[0]["tokens"])
            else:
                out["error"] = reply.get("error")
            outcomes.append(out)
    except Exception as e:  # reported, not swallowed
        outcomes.append({"worker": worker, "exception": repr(e)})
    finally:
        s.close(linger=0)
        ctx.term()
        results.put((worker, outcomes))
