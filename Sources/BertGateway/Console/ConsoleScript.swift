/// The web console's script (`/console.js`): it calls the same JSON routes as any client
/// (/v1/models, /v1/classify, /v1/explain, and on the admin listener /v1/jobs, /v1/train and
/// the /v1/events stream), with the bearer token when one is set.
enum ConsoleScript {
    static let js = #"""
    "use strict";
    const $ = (selector) => document.querySelector(selector);
    // early: events of a job the page does not know yet (they can overtake the reply that
    // created the job), replayed when it arrives.
    const state = { models: [], admin: false, jobs: new Map(), streaming: false, early: new Map() };

    function token() { return sessionStorage.getItem("bertd-token") || ""; }
    function headers(json) {
      const h = {};
      if (json) h["Content-Type"] = "application/json";
      if (token()) h["Authorization"] = "Bearer " + token();
      return h;
    }
    async function api(method, path, body) {
      const response = await fetch(path, { method, headers: headers(body !== undefined), body: body === undefined ? undefined : JSON.stringify(body) });
      if (response.status === 401) throw new Error("this listener wants a bearer token (see Access token)");
      const data = await response.json().catch(() => ({}));
      if (!response.ok) {
        const e = new Error(data.error ? `${data.error.code}: ${data.error.message}` : `HTTP ${response.status}`);
        e.status = response.status;
        e.code = data.error && data.error.code;
        throw e;
      }
      return data;
    }
    function element(tag, attributes = {}, ...children) {
      const e = document.createElement(tag);
      for (const [k, v] of Object.entries(attributes)) {
        if (k === "text") e.textContent = v; else if (k === "style") e.style.cssText = v; else e.setAttribute(k, v);
      }
      for (const c of children) if (c) e.append(c);
      return e;
    }
    function showError(id, error) {
      const p = $(id);
      p.hidden = !error;
      p.textContent = error ? String(error.message || error) : "";
    }
    function selectedModel() { return state.models.find((m) => m.name === $("#model").value); }

    // MARK: models

    async function loadModels() {
      const data = await api("GET", "/v1/models");
      state.models = data.models;
      for (const select of [$("#model"), $("#train-model")]) {
        select.replaceChildren(...data.models.map((m) => element("option", { value: m.name, text: `${m.name} (${m.family}, ${m.can_classify ? m.labels.length + " labels" : "embeddings"})` })));
        select.value = data.default;
      }
      const params = new URLSearchParams(location.search);
      if (params.get("model")) $("#model").value = params.get("model");
      if (params.get("text")) $("#texts").value = params.get("text");
      modelChanged();
      const status = await api("GET", "/v1/status").catch(() => null);
      $("#server").textContent = `bertd ${status ? status.version : ""} · ${data.models.length} model${data.models.length === 1 ? "" : "s"}`;
    }
    function modelChanged() {
      const m = selectedModel();
      $("#labels-row").hidden = !m || m.can_classify;
      $("#explain-button").disabled = !m;
    }

    // MARK: classify

    function texts() { return $("#texts").value.split("\n").map((t) => t.trim()).filter((t) => t.length > 0); }

    async function classify(event) {
      event.preventDefault();
      showError("#classify-error", null);
      const model = selectedModel();
      const inputs = texts();
      if (!model || inputs.length === 0) return showError("#classify-error", "choose a model and type a text");
      const body = { inputs, model: model.name };
      if (!model.can_classify) {
        body.labels = $("#labels").value.split(",").map((l) => l.trim()).filter((l) => l);
        if (body.labels.length === 0) return showError("#classify-error", "an embedding model classifies against candidate labels: type some");
      }
      const button = $("#classify-button");
      button.disabled = true;
      const started = performance.now();
      try {
        const data = await api("POST", "/v1/classify", body);
        const ms = performance.now() - started;
        $("#results").replaceChildren(...data.results.map((r, i) => renderResult(inputs[i], r, ms, model)));
      } catch (e) {
        showError("#classify-error", e);
      } finally {
        button.disabled = false;
      }
    }

    function renderResult(text, r, ms, model) {
      const bars = Object.entries(r.scores).sort((a, b) => b[1] - a[1]).map(([label, p]) =>
        element("div", { class: "bar", "data-label": label },
          element("span", { text: label }),
          element("div", { class: "track", role: "meter", "aria-valuemin": "0", "aria-valuemax": "1", "aria-valuenow": p.toFixed(4), "aria-label": `${label} probability` },
            element("div", { class: "fill", style: `width:${(p * 100).toFixed(1)}%` })),
          element("span", { class: "value", text: (p * 100).toFixed(1) + "%" })));
      // Regression: the value; multi-label: every label at or above its threshold; else the label.
      const headline = r.value !== undefined
        ? [element("span", { class: "label value", text: r.value.toFixed(4) })]
        : r.labels !== undefined
          ? [element("span", { class: "label labels", text: r.labels.length ? r.labels.join(", ") : "(no label)" })]
          : [element("span", { class: "label", text: r.label }), " ", element("span", { class: "score", text: `${(r.score * 100).toFixed(1)}%` })];
      const body = element("div", { class: "body" },
        element("p", { class: "text", text }),
        element("p", {}, ...headline, " ", element("span", { class: "time", text: `· ${ms.toFixed(0)} ms` }),
          ...(r.windows > 1 ? [" ", element("span", { class: "windows", text: `· read in ${r.windows} windows` })] : [])),
        ...(r.value !== undefined ? [] : bars));
      const result = element("article", { class: "result", "data-label": r.label }, body);
      labelImage(model.name, r.label).then((img) => { if (img) result.append(img); });
      return result;
    }

    async function labelImage(model, label) {
      try {
        const response = await fetch(`/v1/models/${encodeURIComponent(model)}/label_images/${encodeURIComponent(label)}`, { headers: headers(false) });
        if (!response.ok) return null;
        const url = URL.createObjectURL(await response.blob());
        return element("img", { src: url, alt: `picture for ${label}`, class: "label-image" });
      } catch (e) { return null; }
    }

    // MARK: explain

    function colour(value, scale) {
      const x = scale > 0 ? Math.max(-1, Math.min(1, value / scale)) : 0;
      const fade = Math.round((1 - Math.abs(x)) * 255);
      const [r, g, b] = x >= 0 ? [255, fade, fade] : [fade, fade, 255];
      return { background: `rgb(${r},${g},${b})`, text: (r * 299 + g * 587 + b * 114) / 1000 > 140 ? "#000" : "#fff" };
    }
    function signed(v, scale) { return (v >= 0 ? "+" : "") + (scale >= 0.05 ? v.toFixed(2) : v.toExponential(2)); }

    async function explain() {
      showError("#classify-error", null);
      const model = selectedModel();
      const inputs = texts().slice(0, 16);
      if (!model || inputs.length === 0) return showError("#classify-error", "choose a model and type a text");
      const body = { inputs, model: model.name, steps: 32 };
      if (!model.can_classify) {
        // An embedding model explains its zero-shot choice among the candidate labels.
        body.labels = $("#labels").value.split(",").map((l) => l.trim()).filter((l) => l);
        if (body.labels.length === 0) return showError("#classify-error", "an embedding model explains a zero-shot choice: type candidate labels");
      }
      const button = $("#explain-button");
      button.disabled = true;
      try {
        const ig = await api("POST", "/v1/explain", body);
        // Attention maps are per sequence: asked for the texts read in one window only (a long
        // text of a model that reads it in windows has none; its words are still explained).
        const maps = [];
        const single = ig.explanations.map((e, i) => ((e.windows || 1) === 1 ? i : -1)).filter((i) => i >= 0);
        if (model.can_classify && single.length > 0) {
          const attention = await api("POST", "/v1/explain", { inputs: single.map((i) => inputs[i]), model: model.name, method: "attention" });
          single.forEach((i, k) => { maps[i] = attention.explanations[k]; });
        }
        $("#explain-section").hidden = false;
        $("#explanations").replaceChildren(...ig.explanations.map((e, i) => renderExplanation(inputs[i], e, maps[i])));
      } catch (e) {
        showError("#classify-error", e);
      } finally {
        button.disabled = false;
      }
    }

    function renderExplanation(text, e, maps) {
      const target = e.attributions[0];
      const scale = Math.max(...target.words.map(Math.abs), 0);
      const chars = Array.from(text);
      const words = element("p", { class: "words" });
      let at = 0;
      e.words.forEach((w, i) => {
        if (w.sequence !== 0) return;
        if (w.start > at) words.append(chars.slice(at, w.start).join(""));
        const c = colour(target.words[i], scale), number = signed(target.words[i], scale);
        words.append(element("span", { class: "word", tabindex: "0", title: number, "data-value": String(target.words[i]),
          "aria-label": `${w.text} ${number}`, style: `background:${c.background};color:${c.text}`, text: chars.slice(w.start, w.end).join("") }));
        at = w.end;
      });
      if (at < chars.length) words.append(chars.slice(at).join(""));
      const figures = !maps ? [] : maps.attention.map((layer, l) => {
        const n = maps.tokens.length;
        const canvas = element("canvas", { width: String(n), height: String(n), class: "heatmap", "data-layer": String(maps.layers[l]),
          style: `width:${Math.min(12 * n, 240)}px;height:${Math.min(12 * n, 240)}px`, role: "img",
          "aria-label": `attention of layer ${maps.layers[l]}, mean of its heads` });
        const g = canvas.getContext("2d"), image = g.createImageData(n, n);
        for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
          let v = 0;
          for (const head of layer) v += head[i][j];
          v /= layer.length;
          const k = 4 * (i * n + j);
          image.data.set([Math.round(255 - 215 * v), Math.round(255 - 175 * v), Math.round(255 - 75 * v), 255], k);
        }
        g.putImageData(image, 0, 0);
        return element("figure", {}, canvas, element("figcaption", { text: `layer ${maps.layers[l]}` }));
      });
      return element("article", { class: "explanation" },
        element("p", { text: `Why ${target.label} (${(e.scores[target.label] * 100).toFixed(1)}%): red words raise it, blue ones lower it. Completeness gap ${target.completeness_gap.toExponential(1)}.` }),
        words,
        e.windows > 1 ? element("p", { class: "hint windows", text: `Read in ${e.windows} overlapping windows: each word's number adds its windows'. Attention maps belong to one sequence, so none are drawn.` }) : null,
        maps ? element("p", { class: "hint", text: `Tokens: ${maps.tokens.map((t) => t.token).join(" ")} — rows attend to columns` }) : null,
        element("div", { class: "maps" }, ...figures));
    }

    // MARK: training (admin listener only)

    async function loadJobs() {
      try {
        const data = await api("GET", "/v1/jobs");
        state.admin = true;
        $("#train-form").hidden = false;
        $("#train-note").textContent = "Jobs run on the compute thread when no request waits; curves update live.";
        for (const job of data.jobs) upsertJob(job);
        followEvents();
      } catch (e) {
        $("#train-note").textContent = e.status === 404
          ? "Training is managed on bertd's admin listener ([http] admin_address); this listener only serves models."
          : `Jobs are unavailable: ${e.message}`;
      }
    }

    function upsertJob(job) {
      let entry = state.jobs.get(job.id);
      if (!entry) {
        const canvas = element("canvas", { class: "curve", width: "480", height: "160", role: "img", "aria-label": `training loss of ${job.name}`, "data-points": "0" });
        const box = element("article", { class: "job", "data-job": job.id },
          element("h3", { text: `${job.name} (${job.id})` }),
          element("p", {}, element("span", { class: "state" }), " ", element("span", { class: "progress" })),
          canvas, element("div", { class: "metrics" }));
        $("#jobs").prepend(box);
        entry = { box, canvas, points: [], evals: [] };
        state.jobs.set(job.id, entry);
      }
      entry.job = Object.assign(entry.job || {}, job);
      const early = state.early.get(job.id);
      state.early.delete(job.id);
      for (const [topic, e] of early || []) onEvent(topic, e);
      render(entry);
    }

    // One line per task: what a person checks first.
    function metricsLine(m) {
      const f = (v) => (v == null ? "–" : v.toFixed(4));
      if (m.regression) return `MSE ${f(m.regression.mse)} · MAE ${f(m.regression.mae)} · Pearson ${f(m.regression.pearson)} · Spearman ${f(m.regression.spearman)}`;
      if (m.multi_label) return `micro F1 ${f(m.multi_label.micro_f1)} · macro F1 ${f(m.macro_f1)} · subset accuracy ${f(m.accuracy)} · Hamming loss ${f(m.multi_label.hamming_loss)}${m.roc_auc == null ? "" : " · ROC-AUC " + f(m.roc_auc)}`;
      return `accuracy ${f(m.accuracy)} · macro F1 ${f(m.macro_f1)} · loss ${f(m.loss)}${m.roc_auc == null ? "" : " · ROC-AUC " + f(m.roc_auc)}`;
    }

    // The validation score the curve plots: accuracy, micro F1 (multi-label) or Pearson's r.
    function curveScore(m) {
      if (m.regression) return { name: "Pearson r", value: m.regression.pearson };
      if (m.multi_label) return { name: "micro F1", value: m.multi_label.micro_f1 };
      return { name: "accuracy", value: m.accuracy };
    }

    function render(entry) {
      const job = entry.job, p = job.progress;
      entry.box.querySelector(".state").textContent = job.state;
      entry.box.querySelector(".progress").textContent = p ? `epoch ${p.epoch}/${p.epochs}, step ${p.step}/${p.total_steps}, loss ${p.loss.toFixed(4)}` : "";
      if (job.metrics) {
        const m = job.metrics;
        const rows = [element("p", { class: "final", text: metricsLine(m) })];
        if (m.confusion && m.confusion.length && m.labels) {
          rows.push(element("table", { class: "confusion", "aria-label": "confusion matrix: rows true, columns predicted" },
            element("tr", {}, element("th", { text: "true \\ predicted" }), ...m.labels.map((l) => element("th", { scope: "col", text: l }))),
            ...m.confusion.map((row, i) => element("tr", {}, element("th", { scope: "row", text: m.labels[i] }), ...row.map((v) => element("td", { text: String(v) }))))));
        }
        entry.box.querySelector(".metrics").replaceChildren(...rows);
      }
      drawCurve(entry);
    }

    function drawCurve(entry) {
      const { canvas, points, evals } = entry;
      canvas.setAttribute("data-points", String(points.length));
      const g = canvas.getContext("2d"), w = canvas.width, h = canvas.height, pad = 24;
      g.fillStyle = "#fff"; g.fillRect(0, 0, w, h);
      g.strokeStyle = "#ccc"; g.strokeRect(0.5, 0.5, w - 1, h - 1);
      g.fillStyle = "#444"; g.font = "12px system-ui, sans-serif";
      g.fillText("training loss", pad, 14);
      g.fillStyle = "#a50e0e"; g.fillText(`■ validation ${entry.scoreName || "accuracy"} (0–1)`, w - 190, 14);
      if (points.length === 0) return;
      const losses = points.map((q) => q.loss);
      let low = Math.min(...losses), high = Math.max(...losses);
      if (high - low < 1e-6) { low -= 0.5; high += 0.5; }
      const maxStep = Math.max(...points.map((q) => q.step), 1);
      const x = (s) => pad + (w - 2 * pad) * s / maxStep;
      const y = (v, lo, hi) => h - pad + 4 - (h - 2 * pad) * (v - lo) / (hi - lo);
      g.fillStyle = "#444";
      g.fillText(high.toFixed(3), 2, y(high, low, high) + 4); g.fillText(low.toFixed(3), 2, y(low, low, high) + 4);
      g.strokeStyle = "#0b57d0"; g.lineWidth = 2; g.beginPath();
      points.forEach((q, i) => (i ? g.lineTo(x(q.step), y(q.loss, low, high)) : g.moveTo(x(q.step), y(q.loss, low, high))));
      g.stroke();
      g.fillStyle = "#a50e0e";
      for (const e of evals) g.fillRect(x(e.step) - 3, y(Math.max(0, Math.min(1, e.accuracy)), 0, 1) - 3, 6, 6);
    }

    async function followEvents() {
      // fetch, not EventSource: EventSource cannot send the bearer token.
      try {
        const response = await fetch("/v1/events?topic=job.", { headers: headers(false) });
        state.streaming = response.ok;
        const reader = response.body.getReader(), decoder = new TextDecoder();
        let buffer = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += decoder.decode(value, { stream: true });
          let end;
          while ((end = buffer.indexOf("\n\n")) >= 0) {
            const block = buffer.slice(0, end); buffer = buffer.slice(end + 2);
            const topic = (block.match(/^event: (.*)$/m) || [])[1], data = (block.match(/^data: (.*)$/m) || [])[1];
            if (topic && data) onEvent(topic, JSON.parse(data));
          }
        }
      } catch (e) { /* the stream ended: the daemon stopped or the page is closing */ }
      state.streaming = false;
      setTimeout(followEvents, 2000);
    }

    function onEvent(topic, e) {
      const entry = state.jobs.get(e.job);
      if (!entry) {
        const early = state.early.get(e.job);
        if (early) return void early.push([topic, e]);
        state.early.set(e.job, [[topic, e]]);
        api("GET", `/v1/jobs/${encodeURIComponent(e.job)}`).then((r) => upsertJob(r.job)).catch(() => {});
        return;
      }
      if (topic === "job.step") {
        entry.points.push({ step: e.step, loss: e.loss });
        entry.job.state = "running";
        entry.job.progress = e;
      } else if (topic === "job.eval") {
        const score = curveScore(e.metrics);
        entry.scoreName = score.name;
        entry.evals.push({ step: entry.points.length ? entry.points[entry.points.length - 1].step : 0, accuracy: score.value });
        entry.job.metrics = e.metrics;
      } else {
        api("GET", `/v1/jobs/${encodeURIComponent(e.job)}`).then((r) => upsertJob(r.job)).catch(() => {});
      }
      render(entry);
    }

    async function startTraining(event) {
      event.preventDefault();
      showError("#train-error", null);
      const f = new FormData(event.target);
      const body = { name: f.get("name"), model: f.get("model"), train: f.get("train"),
                     options: { epochs: Number(f.get("epochs")), batch_size: Number(f.get("batch_size")), method: f.get("method") } };
      if (f.get("validation")) body.validation = f.get("validation");
      try {
        const data = await api("POST", "/v1/train", body);
        upsertJob(data.job);
      } catch (e) { showError("#train-error", e); }
    }

    // MARK: start

    $("#token").value = token();
    $("#token").addEventListener("change", (e) => { sessionStorage.setItem("bertd-token", e.target.value); start(); });
    $("#model").addEventListener("change", modelChanged);
    $("#classify-form").addEventListener("submit", classify);
    $("#explain-button").addEventListener("click", explain);
    $("#train-form").addEventListener("submit", startTraining);
    async function start() {
      try { await loadModels(); } catch (e) { $("#server").textContent = `cannot reach bertd: ${e.message}`; return; }
      loadJobs();
    }
    start();

    """#
}
