"""The web console at / in a real headless Chromium (Debian's `chromium`), against a real bertd
with its HTTP gateway: classify a sentence (label, one bar per label, the label's picture),
explain it (highlighted words with their numbers, a heatmap per layer), and on the admin
listener start a short training job and watch its loss curve fill from the event stream, then
its final metrics and confusion matrix. Screenshots are kept in .build/test-artifacts/console/.

Skips only when chromium is not installed (CI installs it in .ci/run)."""

import os
import re
import shutil
import tempfile

import pytest

from browser import Browser, chromium_binary
from conftest import IN_CI, REPO, TINY, Daemon, stop_and_check

ARTIFACTS = os.path.join(REPO, ".build", "test-artifacts", "console")
LABELS = ["neg", "neu", "pos"]
SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64"><rect width="64" height="64" fill="{}"/></svg>'


@pytest.fixture(scope="module")
def console():
    if chromium_binary() is None:
        if IN_CI:
            pytest.fail("chromium is missing in CI: .ci/run installs it")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    work = tempfile.mkdtemp(prefix="bertd-console-")
    model = os.path.join(work, "tiny")
    shutil.copytree(TINY, model)
    os.makedirs(os.path.join(model, "label_images"))
    for label, colour in zip(LABELS, ["#3050c0", "#909090", "#c03030"]):
        with open(os.path.join(model, "label_images", f"{label}.svg"), "w") as f:
            f.write(SVG.format(colour))
    train = os.path.join(work, "train.tsv")
    with open(train, "w") as f:
        f.write("text\tlabel\n")
        for i in range(24):
            f.write(f"sample number {i} with words\t{LABELS[i % 3]}\n")
    daemon = Daemon(name="bertd-console", sets=["http.address=127.0.0.1:*", "http.admin_address=127.0.0.1:*",
                                                 f"models.tiny.path={model}",
                                                 f"models.long.path={model}", "models.long.window=16", "models.long.stride=4"])
    m = daemon.wait_for_log(r"HTTP gateway listening on http://127\.0\.0\.1:(\d+) \(public\) and http://127\.0\.0\.1:(\d+) \(admin\)")
    browser = Browser()
    try:
        yield {"public": f"http://127.0.0.1:{m.group(1)}", "admin": f"http://127.0.0.1:{m.group(2)}",
               "browser": browser, "train": train, "daemon": daemon}
    finally:
        browser.close()
        stop_and_check(daemon)
        shutil.rmtree(work, ignore_errors=True)


def test_classify_shows_label_bars_time_and_picture(console):
    b = console["browser"]
    b.navigate(console["public"] + "/")
    b.wait_for("document.querySelectorAll('#model option').length >= 2", what="the model list")
    b.evaluate("document.querySelector('#model').value = 'tiny'; document.querySelector('#model').dispatchEvent(new Event('change'))")
    b.evaluate("document.querySelector('#texts').value = 'a quiet film about two brothers'")
    b.evaluate("document.querySelector('#classify-button').click()")
    b.wait_for("document.querySelector('#results .result')", what="a result")
    result = b.evaluate("""(() => { const r = document.querySelector('#results .result');
        return { label: r.querySelector('.label').textContent, time: r.querySelector('.time').textContent,
                 bars: [...r.querySelectorAll('.bar')].map(b => ({ label: b.dataset.label,
                    width: parseFloat(b.querySelector('.fill').style.width), value: b.querySelector('.value').textContent })) }; })()""")
    assert result["label"] in LABELS
    assert re.fullmatch(r"· \d+ ms", result["time"]), result["time"]
    assert sorted(bar["label"] for bar in result["bars"]) == LABELS
    assert abs(sum(bar["width"] for bar in result["bars"]) - 100) < 0.5, result["bars"]
    assert result["bars"][0]["label"] == result["label"], "the predicted label's bar comes first"
    # The predicted label's picture, from the model directory's label_images/.
    alt = b.wait_for("(() => { const i = document.querySelector('#results .result img'); return i && i.complete && i.naturalWidth > 0 && i.alt; })()",
                     what="the label's picture")
    assert alt == f"picture for {result['label']}"
    b.screenshot(os.path.join(ARTIFACTS, "classify.png"))
    # The public listener has no training.
    note = b.wait_for("document.querySelector('#train-note').textContent", what="the training note")
    assert "admin listener" in note and b.evaluate("document.querySelector('#train-form').hidden")
    assert b.console == []


def test_explanation_highlights_every_word_with_its_number(console):
    b = console["browser"]
    b.navigate(console["public"] + "/?model=tiny&text=" + "the plot, sadly, goes nowhere")
    b.wait_for("document.querySelector('#model').value === 'tiny' && !document.querySelector('#explain-button').disabled")
    b.evaluate("document.querySelector('#explain-button').click()")
    b.wait_for("document.querySelectorAll('#explanations .word').length > 0", what="highlighted words")
    words = b.evaluate("[...document.querySelectorAll('#explanations .word')].map(w => [w.textContent, w.title, w.style.backgroundColor])")
    assert [w[0] for w in words] == ["the", "plot", ",", "sadly", ",", "goes", "nowhere"]
    for _, title, background in words:
        assert re.fullmatch(r"[+-]\d\.\d\de[+-]\d+|[+-]\d+\.\d\d", title), title
        assert background.startswith("rgb")
    # The text around the words is the original text.
    assert b.evaluate("document.querySelector('#explanations .words').textContent") == "the plot, sadly, goes nowhere"
    assert b.evaluate("document.querySelectorAll('#explanations canvas.heatmap').length") == 2, "one heatmap per layer"
    b.screenshot(os.path.join(ARTIFACTS, "explain.png"))
    assert b.console == []


def test_a_long_text_is_explained_over_its_windows(console):
    """A model that reads long texts in windows: every word of the text highlighted, the windows
    named, and no attention maps (they belong to one sequence) instead of an error."""
    b = console["browser"]
    text = " ".join(f"word{i % 9}" for i in range(40))
    b.navigate(console["public"] + "/?model=long&text=" + text)
    b.wait_for("document.querySelector('#model').value === 'long' && !document.querySelector('#explain-button').disabled")
    # The long text and a short one: the short one, one window, still gets its heatmaps.
    b.evaluate(f"document.querySelector('#texts').value = {text!r} + '\\n' + 'a short one'")
    b.evaluate("document.querySelector('#explain-button').click()")
    b.wait_for("document.querySelectorAll('#explanations .explanation').length === 2", what="two explanations")
    long, short = b.evaluate("""[...document.querySelectorAll('#explanations .explanation')].map(e => ({
        words: e.querySelector('.words').textContent, count: e.querySelectorAll('.word').length,
        hint: (e.querySelector('.hint.windows') || {}).textContent || null, maps: e.querySelectorAll('canvas.heatmap').length }))""")
    assert long["words"] == text and long["count"] >= 40
    assert re.match(r"Read in \d+ overlapping windows", long["hint"] or ""), long
    assert long["maps"] == 0
    assert short["words"] == "a short one" and short["hint"] is None and short["maps"] == 2, short
    assert b.evaluate("document.querySelector('#classify-error').hidden")
    assert b.console == []


def test_an_embedding_model_explains_its_zero_shot_choice(console):
    b = console["browser"]
    b.navigate(console["public"] + "/?model=minilm&text=" + "the football team won the match")
    b.wait_for("document.querySelector('#model').value === 'minilm' && !document.querySelector('#labels-row').hidden")
    b.evaluate("document.querySelector('#labels').value = 'sports, cooking'")
    b.evaluate("document.querySelector('#explain-button').click()")
    b.wait_for("document.querySelectorAll('#explanations .word').length > 0", what="highlighted words")
    assert b.evaluate("document.querySelector('#explanations .explanation p').textContent").startswith("Why sports")
    assert [w for w in b.evaluate("[...document.querySelectorAll('#explanations .word')].map(w => w.textContent)")] == \
        ["the", "football", "team", "won", "the", "match"]
    assert b.evaluate("document.querySelectorAll('#explanations canvas.heatmap').length") == 0
    b.screenshot(os.path.join(ARTIFACTS, "zero-shot-explain.png"))
    assert b.console == []


def test_admin_listener_trains_and_draws_the_live_curve(console):
    b = console["browser"]
    b.navigate(console["admin"] + "/")
    b.wait_for("!document.querySelector('#train-form').hidden", what="the training form")
    b.wait_for("state.streaming", what="the event stream")
    form = "document.querySelector('#train-form')"
    b.evaluate(f"""{form}.name.value = 'console-job'; {form}.model.value = 'tiny';
        {form}.train.value = {console['train']!r}; {form}.epochs.value = '3'; {form}.batch_size.value = '4';
        {form}.querySelector('button').click()""")
    job = b.wait_for("document.querySelector('.job') && document.querySelector('.job').dataset.job", what="the job")
    b.wait_for(f"document.querySelector('.job[data-job=\"{job}\"] .state').textContent === 'finished'", timeout_s=120, what="the job to finish")
    b.wait_for(f"document.querySelector('.job[data-job=\"{job}\"] table.confusion')", what="the confusion matrix")
    points = int(b.evaluate(f"document.querySelector('.job[data-job=\"{job}\"] canvas.curve').dataset.points"))
    steps = b.evaluate(f"state.jobs.get('{job}').job.progress.total_steps")
    assert points == steps >= 9, (points, steps)  # every step's event drew a point
    confusion = b.evaluate(f"[...document.querySelectorAll('.job[data-job=\"{job}\"] table.confusion td')].map(td => +td.textContent)")
    assert len(confusion) == 9 and sum(confusion) > 0
    b.screenshot(os.path.join(ARTIFACTS, "training.png"))
    assert b.console == []


def test_a_multi_label_job_shows_its_own_metrics(console):
    """A job on multi-label data (started through the admin API, as a script would) appears on
    the open page with the multi-label scores — micro F1, Hamming loss — not an accuracy line
    that means something else there."""
    import json
    import urllib.request
    b = console["browser"]
    b.navigate(console["admin"] + "/")
    b.wait_for("!document.querySelector('#train-form').hidden && state.streaming", what="the event stream")
    train = os.path.join(os.path.dirname(console["train"]), "multi.tsv")
    with open(train, "w") as f:
        f.write("text\tlabel\n")
        for i in range(24):
            f.write(f"sample number {i} with words\t{'|'.join(LABELS[j] for j in range(3) if (i >> j) & 1)}\n")
    body = json.dumps({"name": "console-multi", "model": "tiny", "train": train,
                       "options": {"task": "multi-label", "epochs": 2, "batch_size": 4}}).encode()
    request = urllib.request.Request(console["admin"] + "/v1/train", data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        job = json.load(response)["job"]["id"]
    b.wait_for(f"document.querySelector('.job[data-job=\"{job}\"] .state') && document.querySelector('.job[data-job=\"{job}\"] .state').textContent === 'finished'",
               timeout_s=120, what="the multi-label job to finish")
    line = b.wait_for(f"(document.querySelector('.job[data-job=\"{job}\"] .final') || {{}}).textContent", what="the final metrics")
    assert line.startswith("micro F1 ") and "Hamming loss" in line and "accuracy" in line, line
    assert b.evaluate(f"document.querySelector('.job[data-job=\"{job}\"] canvas.curve').dataset.points") != "0"
    b.screenshot(os.path.join(ARTIFACTS, "training-multi-label.png"))
    assert b.console == []
