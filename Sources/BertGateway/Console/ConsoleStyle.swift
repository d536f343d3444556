/// The web console's style sheet (`/console.css`): readable on a phone, visible focus, and
/// colours with enough contrast.
enum ConsoleStyle {
    static let css = #"""
    :root { --fg: #111; --muted: #444; --accent: #0b57d0; --bg: #fff; --panel: #f4f6f8; --bad: #a50e0e; }
    * { box-sizing: border-box; }
    body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg);
           margin: 0 auto; max-width: 60rem; padding: 0 1rem 3rem; line-height: 1.45; }
    header { display: flex; flex-wrap: wrap; align-items: baseline; gap: 1rem; border-bottom: 1px solid #ddd; }
    h1 { font-size: 1.5rem; margin: 0.8rem 0; } h2 { font-size: 1.2rem; margin-top: 1.6rem; }
    #server { color: var(--muted); margin: 0; }
    label { display: block; font-weight: 600; margin: 0.6rem 0 0.2rem; }
    .hint { font-weight: normal; color: var(--muted); font-size: 0.9rem; }
    input, select, textarea { font: inherit; width: 100%; padding: 0.45rem; border: 1px solid #767676; border-radius: 0.3rem; }
    textarea { resize: vertical; }
    .row { margin-bottom: 0.3rem; }
    .buttons { display: flex; gap: 0.6rem; margin: 0.8rem 0; flex-wrap: wrap; }
    button { font: inherit; padding: 0.5rem 1.1rem; border-radius: 0.3rem; border: 1px solid var(--accent);
             background: var(--accent); color: #fff; cursor: pointer; }
    button[type=button] { background: #fff; color: var(--accent); }
    button:disabled { opacity: 0.6; cursor: progress; }
    :focus-visible { outline: 3px solid #f9ab00; outline-offset: 2px; }
    .error { color: var(--bad); font-weight: 600; }
    .result { background: var(--panel); border-radius: 0.4rem; padding: 0.8rem; margin: 0.8rem 0; display: flex; gap: 1rem; flex-wrap: wrap; }
    .result .body { flex: 1 1 20rem; min-width: 0; }
    .result .text { margin: 0 0 0.4rem; overflow-wrap: anywhere; }
    .result .label { font-size: 1.15rem; font-weight: 700; }
    .result .time { color: var(--muted); font-size: 0.9rem; }
    .result img { max-width: 8rem; max-height: 8rem; border-radius: 0.3rem; align-self: center; }
    .bar { display: grid; grid-template-columns: minmax(5rem, 10rem) 1fr 4rem; gap: 0.5rem; align-items: center; margin: 0.15rem 0; }
    .bar .track { background: #dde3ea; border-radius: 0.2rem; height: 0.9rem; overflow: hidden; }
    .bar .fill { background: var(--accent); height: 100%; }
    .bar .value { text-align: right; font-variant-numeric: tabular-nums; }
    .words { font-size: 1.15rem; line-height: 2.2; overflow-wrap: anywhere; }
    .word { padding: 0.15em 0.2em; border-radius: 0.2em; }
    .maps { display: flex; flex-wrap: wrap; gap: 0.8rem; }
    .maps figure { margin: 0; } .maps figcaption { font-size: 0.85rem; color: var(--muted); }
    canvas { border: 1px solid #ccc; image-rendering: pixelated; }
    canvas.curve { max-width: 100%; height: auto; image-rendering: auto; }
    .grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(14rem, 1fr)); gap: 0 1rem; }
    table { border-collapse: collapse; margin: 0.5rem 0; } th, td { border: 1px solid #ccc; padding: 0.2rem 0.5rem; text-align: right; }
    .job { background: var(--panel); border-radius: 0.4rem; padding: 0.8rem; margin: 0.8rem 0; }
    .job h3 { margin: 0 0 0.3rem; font-size: 1.05rem; }
    details.token { margin-top: 0.4rem; } details.token summary { cursor: pointer; color: var(--muted); }

    """#
}
