"""`/`: one self-contained page (inline CSS and script, no external assets): the live view and the loop's figures."""

from __future__ import annotations

import html

from edge_runtime.camera.serve.live import ModelInfo

# Content-Security-Policy: only this server, only this page's own script (by its nonce).
CSP = (
    "default-src 'none'; img-src 'self'; connect-src 'self'; style-src 'unsafe-inline'; "
    "script-src 'nonce-{nonce}'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)

_STYLE = """
body{font:14px system-ui,sans-serif;margin:0;background:#111;color:#ddd}
header{padding:8px 14px;background:#222;display:flex;gap:18px;flex-wrap:wrap;align-items:baseline}
header h1{font-size:16px;margin:0;color:#fff}
main{display:flex;flex-wrap:wrap;gap:14px;padding:14px}
#view{max-width:100%;width:640px;background:#000;min-height:120px;display:block}
table{border-collapse:collapse}td,th{padding:2px 8px;text-align:left}th{color:#999;font-weight:normal}
#stats td{font-variant-numeric:tabular-nums}
#top{font-size:22px;padding:6px 0}.ok{color:#4c4}.ambiguous{color:#fa0}.bad{color:#f55}
#results li{font-variant-numeric:tabular-nums;list-style:none}#results{padding:0;margin:0}
small{color:#888}
"""

_SCRIPT = """(() => {
const token = new URLSearchParams(location.search).get('token');
const q = token ? '?token=' + encodeURIComponent(token) : '';
const $ = id => document.getElementById(id);
const ms = v => (v === null || Number.isNaN(v)) ? '-' : v.toFixed(1) + ' ms';
function uptime(s) {
  const h = Math.floor(s / 3600), m = Math.floor(s % 3600 / 60);
  return (h ? h + ' h ' : '') + (h || m ? m + ' min ' : '') + Math.floor(s % 60) + ' s';
}
function topText(r) {
  const c = r.classes[0];
  if (!c) return 'no class above the threshold';
  return (c.label ?? 'class ' + c.id) + (r.ambiguous ? '?' : '') + ' ' + c.score.toFixed(2);
}
function showResult(r) {
  $('frame').textContent = r.frame;
  const t = $('top');
  t.textContent = topText(r) + (r.ambiguous ? ' (ambiguous)' : '');
  t.className = r.ambiguous ? 'ambiguous' : 'ok';
  const li = document.createElement('li');
  li.textContent = '#' + r.frame + '  ' + topText(r) + '  ' + r.latency_ms.toFixed(1) + ' ms' + (r.missed ? '  missed' : '');
  li.className = r.ambiguous ? 'ambiguous' : (r.missed ? 'bad' : '');
  const list = $('results');
  list.prepend(li);
  while (list.children.length > 10) list.lastChild.remove();
}
async function poll() {
  try {
    const s = await (await fetch('status.json' + q, {cache: 'no-store'})).json();
    $('fps').textContent = s.fps.toFixed(1);
    $('p50').textContent = ms(s.latency_p50_ms);
    $('p99').textContent = ms(s.latency_p99_ms);
    for (const k of ['captured', 'processed', 'dropped', 'missed', 'ambiguous']) $(k).textContent = s[k];
    $('uptime').textContent = uptime(s.uptime_s);
    $('health').textContent = s.healthy ? 'frames flowing' : (s.running ? 'stalled' : 'stopped');
    $('health').className = s.healthy ? 'ok' : 'bad';
    if (s.last_frame !== null && $('frame').textContent === '-') $('frame').textContent = s.last_frame;
  } catch (e) {
    $('health').textContent = 'no answer from the device';
    $('health').className = 'bad';
  }
}
const events = new EventSource('events' + q);
events.onmessage = e => showResult(JSON.parse(e.data));
poll();
setInterval(poll, 1000);
$('metrics').href = 'metrics' + q;
addEventListener('load', () => { $('view').src = 'stream.mjpg' + q; });
})();
"""


def render(model: ModelInfo, nonce: str) -> str:
    """The page; `nonce` must match the Content-Security-Policy header's."""
    width, height = model.input_size
    name = html.escape(model.name)
    classes = html.escape(", ".join(model.labels)) or "(no labels)"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{name}: edge_runtime camera</title><style>{_STYLE}</style></head>
<body>
<header><h1>{name}</h1><span>{width}x{height} {html.escape(model.input_dtype)}</span>
<span>{html.escape(model.backend)}, delegate {html.escape(model.delegate)}, {model.workers} worker(s)</span>
<span>up <b id="uptime">-</b></span><span id="health">-</span></header>
<main>
<div><img id="view" alt="live view (shown while frames flow)">
<div id="top">-</div></div>
<div>
<table id="stats">
<tr><th>frame</th><td id="frame">-</td></tr>
<tr><th>fps</th><td id="fps">-</td></tr>
<tr><th>latency p50</th><td id="p50">-</td></tr>
<tr><th>latency p99</th><td id="p99">-</td></tr>
<tr><th>captured</th><td id="captured">-</td></tr>
<tr><th>processed</th><td id="processed">-</td></tr>
<tr><th>dropped</th><td id="dropped">-</td></tr>
<tr><th>missed ({model.budget_ms:g} ms)</th><td id="missed">-</td></tr>
<tr><th>ambiguous</th><td id="ambiguous">-</td></tr>
</table>
<p><small>classes: {classes}</small></p>
<h3>last results</h3><ul id="results"></ul>
<p><small>p50/p99 over the last 300 results; <a href="metrics" id="metrics">metrics</a></small></p>
</div></main>
<script nonce="{nonce}">{_SCRIPT}</script>
</body></html>
"""
