"""/metrics on the HTTP gateway: Prometheus text that promtool accepts, every metric of
Deploy/METRICS.md with its help text, and counts that follow what the daemon did, over both
transports."""

import http.client
import json
import os
import re
import shutil
import subprocess

import pytest

from conftest import IN_CI, REPO, check_reply, req, stop_and_check
from test_http import Gateway


def scrape(gw):
    conn = http.client.HTTPConnection("127.0.0.1", gw.port, timeout=30)
    try:
        conn.request("GET", "/metrics")
        r = conn.getresponse()
        body = r.read().decode()
        assert r.status == 200
        assert r.getheader("Content-Type").startswith("text/plain; version=0.0.4"), r.getheader("Content-Type")
        return body
    finally:
        conn.close()


def samples(text, name):
    """{labels text: value} of one metric's samples."""
    out = {}
    for line in text.splitlines():
        m = re.match(rf"^{re.escape(name)}(\{{[^}}]*\}})? (\S+)$", line)
        if m:
            out[m.group(1) or ""] = float(m.group(2))
    return out


def documented():
    with open(os.path.join(REPO, "Deploy", "METRICS.md")) as f:
        rows = [line for line in f if line.startswith("| `")]
    return {re.match(r"\| `([a-z_]+)` \| (\w+) \|", r).group(1): (re.match(r"\| `[a-z_]+` \| (\w+) \|", r).group(1), r.rstrip().rstrip("|").split("|")[-1].strip())
            for r in rows}


@pytest.fixture(scope="module")
def gw():
    g = Gateway(name="bertd-metrics")
    yield g
    stop_and_check(g.daemon)


def test_every_documented_metric_is_exposed_with_its_help(gw):
    text = scrape(gw)
    helps = dict(re.findall(r"^# HELP (\S+) (.*)$", text, re.M))
    types = dict(re.findall(r"^# TYPE (\S+) (\S+)$", text, re.M))
    docs = documented()
    # bertd_requests_total and bertd_jobs appear once something was counted; do that first.
    assert check_reply(req(gw.daemon.tcp, {"id": "p", "op": "ping"}), "ping")["ok"]
    text = scrape(gw)
    helps = dict(re.findall(r"^# HELP (\S+) (.*)$", text, re.M))
    types = dict(re.findall(r"^# TYPE (\S+) (\S+)$", text, re.M))
    missing = {n for n in docs if n not in helps and n != "bertd_jobs"}
    assert not missing, f"documented but not exposed: {missing}"
    undocumented = set(helps) - set(docs)
    assert not undocumented, f"exposed but not in Deploy/METRICS.md: {undocumented}"
    for name, help_text in helps.items():
        assert docs[name][1] == help_text, (name, docs[name][1], help_text)
        assert docs[name][0] == types[name], (name, docs[name][0], types[name])


def test_counts_follow_the_traffic_of_both_transports(gw):
    before = scrape(gw)
    texts = ["a sentence to classify", "another one", "and a third"]
    for _ in range(3):
        assert gw.post("/v1/classify", {"inputs": texts, "labels": ["a", "b"]})[0] == 200
        assert check_reply(req(gw.daemon.tcp, {"id": "c", "op": "classify", "texts": texts, "labels": ["a", "b"]}), "classify")["ok"]
    assert gw.post("/v1/classify", {"inputs": "x", "model": "nope"})[0] == 404
    after = scrape(gw)
    key = '{op="classify",transport="http",code="ok"}'
    assert samples(after, "bertd_requests_total")[key] - samples(before, "bertd_requests_total").get(key, 0) == 3
    key = '{op="classify",transport="zeromq",code="ok"}'
    assert samples(after, "bertd_requests_total")[key] - samples(before, "bertd_requests_total").get(key, 0) == 3
    key = '{op="classify",transport="http",code="unknown_model"}'
    assert samples(after, "bertd_requests_total")[key] - samples(before, "bertd_requests_total").get(key, 0) == 1
    # 6 requests × 3 texts (the labels' embeddings are cached after the first).
    computed = samples(after, "bertd_texts_total")[""] - samples(before, "bertd_texts_total")[""]
    assert 18 <= computed <= 20, computed
    assert samples(after, "bertd_batch_texts_count")[""] > samples(before, "bertd_batch_texts_count")[""]
    assert samples(after, "bertd_tokens_total")[""] > samples(before, "bertd_tokens_total")[""]
    assert samples(after, "bertd_models_loaded")[""] == 2
    assert samples(after, "process_resident_memory_bytes")[""] > 50 * 1024 * 1024
    assert samples(after, "bertd_build_info")['{version="' + check_reply(req(gw.daemon.tcp, {"id": "p", "op": "ping"}), "ping")["result"]["version"] + '"}'] == 1


def test_promtool_accepts_the_exposition(gw):
    promtool = shutil.which("promtool")
    if promtool is None:
        if IN_CI:
            pytest.fail("promtool is missing (apt-get install prometheus; .ci/run does) (CI=true: not skipping)")
        pytest.skip("promtool is not installed (apt-get install prometheus)")
    gw.post("/v1/classify", {"inputs": ["x"], "labels": ["a", "b"]})
    text = scrape(gw)
    result = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and result.stdout.strip() == "" and result.stderr.strip() == "", (result, text[:2000])


def test_a_metrics_listener_without_the_gateway(daemon_factory):
    d = daemon_factory(sets=["metrics.address=127.0.0.1:*"], name="bertd-metrics-only")
    port = int(d.wait_for_log(r"Prometheus metrics on http://127\.0\.0\.1:(\d+)/metrics").group(1))
    assert "HTTP gateway listening" not in d.log_text()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", "/metrics")
        r = conn.getresponse()
        text = r.read().decode()
        assert r.status == 200 and "# HELP bertd_build_info" in text
        conn.request("GET", "/readyz")
        r = conn.getresponse()
        assert r.status == 200 and json.loads(r.read()) == {"status": "ready"}
        conn.request("POST", "/v1/classify", body=json.dumps({"inputs": "x", "labels": ["a", "b"]}))
        r = conn.getresponse()
        assert r.status == 404 and json.loads(r.read())["error"]["code"] == "unknown_op"
    finally:
        conn.close()
