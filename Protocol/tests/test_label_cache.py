"""Zero-shot labels are embedded once and cached per model version. The cache is bounded (the
least recently used half is evicted past 2 048 labels) and labels count towards
server.max_texts_per_request, so a client sending ever new labels cannot grow the daemon's
memory without bound."""

import time

from conftest import check_reply, req


def test_labels_count_towards_the_request_limit(daemon_factory):
    d = daemon_factory(name="bertd-label-limit")
    labels = [f"label {i}" for i in range(300)]  # max_texts_per_request is 256
    r = check_reply(req(d.tcp, {"id": "big", "op": "classify", "texts": ["x"], "labels": labels}), "classify", "big")
    assert not r["ok"] and r["error"]["code"] == "too_large", r
    r = check_reply(req(d.tcp, {"id": "long", "op": "classify", "texts": ["x"], "labels": ["y" * 70000]}), "classify", "long")
    assert not r["ok"] and r["error"]["code"] == "too_large", r


def test_fresh_labels_do_not_grow_memory_without_bound(daemon_factory):
    d = daemon_factory(name="bertd-labels")
    labels_per_request, requests = 250, 60
    # Fill the cache and warm up the allocator with the same shape of work.
    for w in range(12):
        warm = [f"warm label {w} {i}" for i in range(labels_per_request)]
        r = check_reply(req(d.tcp, {"id": "w", "op": "classify", "texts": ["warm up"], "labels": warm, "top_k": 1},
                            timeout_ms=120000), "classify", "w")
        assert r["ok"], r
    before = d.rss_mib()
    t = time.monotonic()
    for n in range(requests):
        labels = [f"fresh label {n} {i}" for i in range(labels_per_request)]
        r = check_reply(req(d.tcp, {"id": n, "op": "classify", "texts": ["which label?"], "labels": labels, "top_k": 1},
                            timeout_ms=120000), "classify", n)
        assert r["ok"], r
        assert len(r["result"]["results"][0]["scores"]) == 1
    grown = d.rss_mib() - before
    print(f"\n{requests * labels_per_request} fresh labels in {time.monotonic() - t:.1f} s: RSS +{grown:.1f} MiB")
    # 15 000 fresh labels would cost ~24 MiB if every one were kept.
    assert grown < 8, f"RSS grew {grown:.1f} MiB for {requests * labels_per_request} fresh zero-shot labels"
