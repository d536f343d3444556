/// The web console's page, served at `/`: plain HTML with its style and script beside it
/// (`/console.css`, `/console.js`), all inside the binary — no CDN, no build step, works offline.
enum ConsolePage {
    static let html = #"""
    <!DOCTYPE html>
    <html lang="en">
    <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>bertd console</title>
    <link rel="stylesheet" href="/console.css">
    </head>
    <body>
    <header>
      <h1>bertd</h1>
      <p id="server" aria-live="polite">connecting…</p>
    </header>
    <main>
    <section aria-labelledby="classify-title">
      <h2 id="classify-title">Classify</h2>
      <form id="classify-form">
        <div class="row">
          <label for="model">Model</label>
          <select id="model" name="model"></select>
        </div>
        <div class="row" id="labels-row" hidden>
          <label for="labels">Candidate labels <span class="hint">(comma-separated: zero-shot with an embedding model)</span></label>
          <input id="labels" name="labels" type="text" placeholder="sports, politics, cooking">
        </div>
        <label for="texts">Text <span class="hint">(one per line)</span></label>
        <textarea id="texts" name="texts" rows="4" required></textarea>
        <div class="buttons">
          <button type="submit" id="classify-button">Classify</button>
          <button type="button" id="explain-button">Explain</button>
        </div>
        <details class="token">
          <summary>Access token</summary>
          <label for="token">Bearer token <span class="hint">(when the listener asks for one; kept for this tab only)</span></label>
          <input id="token" type="password" autocomplete="off">
        </details>
      </form>
      <p id="classify-error" class="error" role="alert" hidden></p>
      <div id="results" aria-live="polite"></div>
    </section>
    <section aria-labelledby="explain-title" id="explain-section" hidden>
      <h2 id="explain-title">Why</h2>
      <div id="explanations" aria-live="polite"></div>
    </section>
    <section aria-labelledby="train-title">
      <h2 id="train-title">Training</h2>
      <p id="train-note" class="hint"></p>
      <form id="train-form" hidden>
        <div class="grid">
          <label>Name <input name="name" required pattern="[^/]+" placeholder="sentiment"></label>
          <label>Base model <select name="model" id="train-model"></select></label>
          <label>Training file <input name="train" required placeholder="/data/train.tsv"></label>
          <label>Validation file <input name="validation" placeholder="(optional)"></label>
          <label>Epochs <input name="epochs" type="number" min="1" value="1"></label>
              <label>Batch size <input name="batch_size" type="number" min="1" value="32"></label>
          <label>Method <select name="method"><option>full</option><option>head-only</option><option>lora</option></select></label>
        </div>
        <button type="submit">Start training</button>
      </form>
      <p id="train-error" class="error" role="alert" hidden></p>
      <div id="jobs"></div>
    </section>
    </main>
    <script src="/console.js"></script>
    </body>
    </html>

    """#
}
