/**
 * The dashboard's page (`--dashboard`): one self-contained HTML document
 * (inline style and script, nothing fetched from elsewhere) that listens to
 * the server's event stream (`/events`: `state` four times a second,
 * `preview` when the field preview changes, `end` when the server stops)
 * and redraws: the job's status and progress, a row per rank, the traffic
 * matrix, and the field preview on a canvas.
 *
 * Layer: runtime (supervisor side).
 */

/** Escapes text for HTML. */
const escape = (text: string): string => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

/** The page, titled `title`. */
export function dashboardPage(title: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escape(title)} · rankflow dashboard</title>
<style>${STYLE}</style>
</head>
<body>
<header>
  <h1>${escape(title)}</h1>
  <span id="status" data-status="connecting">connecting…</span>
  <span id="elapsed"></span>
</header>
<section id="progress-section">
  <h2>Progress</h2>
  <div class="progress-line"><progress id="progress" value="0" max="1"></progress> <span id="progress-text">no progress reported yet</span></div>
  <p id="message"></p>
</section>
<main>
<section>
  <h2>Ranks</h2>
  <table id="ranks"><thead><tr><th>rank</th><th>state</th><th>waiting on / in</th><th>heap</th><th>sends/s</th><th>sent/s</th></tr></thead><tbody></tbody></table>
</section>
<section>
  <h2>Traffic: messages/s from row to column <small>(colour: bytes/s)</small></h2>
  <table id="matrix"><thead></thead><tbody></tbody></table>
  <p id="totals"></p>
</section>
<section id="preview-section">
  <h2>Field <small id="preview-label">(shown when the pipeline observes its field with <code>every</code>)</small></h2>
  <canvas id="preview" width="512" height="256" data-step="-1"></canvas>
  <div class="scale"><span id="preview-min"></span><div id="preview-scale"></div><span id="preview-max"></span></div>
</section>
</main>
<script>${SCRIPT}</script>
</body>
</html>
`
}

const STYLE = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 0; color: #1d2330; background: #f6f7f9; }
header { display: flex; gap: 1.2em; align-items: baseline; padding: 0.8em 1.2em; background: #1d2330; color: #fff; }
h1 { font-size: 1.2em; margin: 0; }
h2 { font-size: 1em; margin: 0 0 0.5em; }
small { font-weight: normal; color: #667; }
section { background: #fff; margin: 0.8em 1.2em; padding: 0.8em 1em; border-radius: 6px; box-shadow: 0 1px 2px #0002; }
main { display: flex; flex-wrap: wrap; }
main section { flex: 1 1 420px; }
#status { padding: 0.1em 0.6em; border-radius: 1em; background: #556; }
#status[data-status=running] { background: #2b6cb0; }
#status[data-status=succeeded] { background: #2f855a; }
#status[data-status=failed], #status[data-status=disconnected] { background: #c53030; }
.progress-line { display: flex; gap: 1em; align-items: center; }
progress { width: 60%; height: 1.2em; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { padding: 0.2em 0.6em; text-align: right; border-bottom: 1px solid #e2e4e8; }
td.state { text-align: left; font-weight: 600; }
td.detail { text-align: left; color: #445; }
tr[data-state=computing] td.state { color: #2f855a; }
tr[data-state=waiting] td.state { color: #c05621; }
tr[data-state=failed] td.state { color: #c53030; }
tr[data-state=done] td.state, tr[data-state=stopped] td.state { color: #667; }
#matrix td { min-width: 3.5em; border: 1px solid #fff; }
#matrix th { color: #667; }
canvas { border: 1px solid #ccd; max-width: 100%; image-rendering: pixelated; }
.scale { display: flex; gap: 0.5em; align-items: center; font-size: 0.9em; color: #445; }
#preview-scale { height: 10px; width: 256px; background: linear-gradient(to right, #30123b, #4686fb, #1ae4b6, #a2fc3c, #faba39, #e4460a, #7a0403); }
`

/** Runs in the browser: plain ES2020, no imports. */
const SCRIPT = `
const $ = (id) => document.getElementById(id);
const number = (x) => x >= 1e9 ? (x / 1e9).toFixed(1) + "G" : x >= 1e6 ? (x / 1e6).toFixed(1) + "M" : x >= 1e3 ? (x / 1e3).toFixed(1) + "k" : x >= 10 || x === 0 ? x.toFixed(0) : x.toFixed(1);
const bytes = (x) => x >= 1073741824 ? (x / 1073741824).toFixed(1) + " GiB" : x >= 1048576 ? (x / 1048576).toFixed(1) + " MiB" : x >= 1024 ? (x / 1024).toFixed(1) + " KiB" : x.toFixed(0) + " B";
const PALETTE = [[48,18,59],[70,134,251],[26,228,182],[162,252,60],[250,186,57],[228,70,10],[122,4,3]];
function colour(t) {
  t = Math.min(1, Math.max(0, t)) * (PALETTE.length - 1);
  const i = Math.min(PALETTE.length - 2, Math.floor(t)), f = t - i, a = PALETTE[i], b = PALETTE[i + 1];
  return [0, 1, 2].map((k) => Math.round(a[k] + f * (b[k] - a[k])));
}
function detail(v) {
  const parts = [];
  if (v.state === "waiting") parts.push(v.call + " " + (v.peer < 0 ? "any rank" : "rank " + v.peer) + (v.tag >= 0 ? " (tag " + v.tag + ")" : ""));
  if (v.collective) parts.push("in " + v.collective);
  return parts.join(", ");
}
function drawRanks(s) {
  const body = $("ranks").tBodies[0];
  while (body.rows.length > s.ranks) body.deleteRow(-1);
  while (body.rows.length < s.ranks) {
    const row = body.insertRow();
    row.dataset.rank = String(body.rows.length - 1);
    for (const c of ["rank", "state", "detail", "heap", "messages", "bytes"]) row.insertCell().className = c;
  }
  for (const v of s.rankViews) {
    const row = body.rows[v.rank];
    row.dataset.state = v.state;
    row.cells[0].textContent = v.rank;
    row.cells[1].textContent = v.state;
    row.cells[2].textContent = detail(v);
    row.cells[3].textContent = v.heapBytes > 0 ? bytes(v.heapBytes) : "–";
    row.cells[4].textContent = number(v.messagesPerSecond);
    row.cells[5].textContent = bytes(v.bytesPerSecond) + "/s";
  }
}
function drawMatrix(s) {
  const table = $("matrix"), n = s.ranks;
  if (s.messages.length !== n * n) {
    $("totals").textContent = "the matrix is shown for jobs of up to 64 ranks; the table of ranks has what each sends";
    return;
  }
  if (table.tHead.rows.length === 0) {
    const head = table.tHead.insertRow();
    head.appendChild(document.createElement("th")).textContent = "from \\\\ to";
    for (let j = 0; j < n; j++) head.appendChild(document.createElement("th")).textContent = j;
    for (let i = 0; i < n; i++) {
      const row = table.tBodies[0].insertRow();
      row.appendChild(document.createElement("th")).textContent = i;
      for (let j = 0; j < n; j++) Object.assign(row.insertCell().dataset, { from: String(i), to: String(j) });
    }
  }
  const peak = Math.max(1, ...s.bytesPerSecond);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
    const cell = table.tBodies[0].rows[i].cells[j + 1], k = i * n + j;
    const m = s.messagesPerSecond[k], b = s.bytesPerSecond[k];
    cell.textContent = i === j && s.messages[k] === 0 ? "·" : number(m);
    cell.dataset.messagesPerSecond = String(m);
    cell.dataset.bytesPerSecond = String(b);
    cell.title = "rank " + i + " → " + j + ": " + number(m) + " msg/s, " + bytes(b) + "/s; " + number(s.messages[k]) + " messages, " + bytes(s.bytes[k]) + " so far";
    const [r, g, bl] = colour(Math.sqrt(b / peak));
    cell.style.background = b > 0 ? "rgb(" + r + "," + g + "," + bl + ")" : "";
    cell.style.color = b > 0 && 0.299 * r + 0.587 * g + 0.114 * bl < 140 ? "#fff" : "";
  }
  const total = s.bytes.reduce((a, x) => a + x, 0), messages = s.messages.reduce((a, x) => a + x, 0);
  $("totals").textContent = "so far: " + number(messages) + " messages, " + bytes(total);
}
function drawState(s) {
  const status = $("status");
  status.dataset.status = s.status;
  status.textContent = s.status;
  $("elapsed").textContent = s.seconds.toFixed(1) + " s";
  $("message").textContent = s.message;
  const p = s.progress;
  if (p !== null) {
    const bar = $("progress");
    bar.max = p.total > 0 ? p.total : Math.max(1, p.done);
    bar.value = p.done;
    $("progress-text").textContent = p.label + ": " + p.done + (p.total > 0 ? " / " + p.total + " (" + (100 * p.done / p.total).toFixed(0) + "%)" : "");
  }
  drawRanks(s);
  drawMatrix(s);
}
function drawPreview(p) {
  const canvas = $("preview"), g = canvas.getContext("2d");
  canvas.dataset.step = String(p.step);
  $("preview-label").textContent = p.label + ", step " + p.step;
  let lo = Infinity, hi = -Infinity;
  for (const v of p.values) if (Number.isFinite(v)) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
  const span = hi > lo ? hi - lo : 1;
  if (p.shape.length === 1) {
    canvas.width = 512; canvas.height = 256;
    g.fillStyle = "#fff"; g.fillRect(0, 0, canvas.width, canvas.height);
    g.strokeStyle = "#2b6cb0"; g.lineWidth = 2; g.beginPath();
    p.values.forEach((v, i) => {
      const x = (i + 0.5) / p.values.length * canvas.width, y = canvas.height - 8 - (v - lo) / span * (canvas.height - 16);
      i === 0 ? g.moveTo(x, y) : g.lineTo(x, y);
    });
    g.stroke();
  } else {
    const [rows, columns] = p.shape, image = g.createImageData(columns, rows);
    canvas.width = columns; canvas.height = rows;
    canvas.style.width = Math.min(512, columns * Math.max(1, Math.floor(384 / columns))) + "px";
    p.values.forEach((v, i) => {
      const [r, gr, b] = colour((v - lo) / span);
      image.data.set([r, gr, b, 255], 4 * i);
    });
    g.putImageData(image, 0, 0);
  }
  $("preview-min").textContent = Number.isFinite(lo) ? lo.toPrecision(3) : "";
  $("preview-max").textContent = Number.isFinite(hi) ? hi.toPrecision(3) : "";
}
const events = new EventSource("/events");
events.addEventListener("state", (e) => drawState(JSON.parse(e.data)));
events.addEventListener("preview", (e) => drawPreview(JSON.parse(e.data)));
events.addEventListener("end", () => { events.close(); });
events.onerror = () => { if (events.readyState === EventSource.CLOSED || $("status").dataset.status === "running") { const s = $("status"); if (s.dataset.status === "running" || s.dataset.status === "connecting") { s.dataset.status = "disconnected"; s.textContent = "disconnected"; } } };
`
