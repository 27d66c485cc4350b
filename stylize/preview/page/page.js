// stylize live page: listens to the run's server-sent events, draws the picture and the losses, sends controls.
// Plain JavaScript, no libraries, nothing fetched from elsewhere: it works offline and through an ssh tunnel.
"use strict";

const token = new URLSearchParams(location.search).get("token") || "";
const withToken = (path) => path + (path.includes("?") ? "&" : "?") + "token=" + encodeURIComponent(token);
const $ = (id) => document.getElementById(id);

const SERIES = [  // [name, index in a history point, colour]
  ["total", 2, "#1d1d1f"], ["content", 3, "#2f5d8a"], ["style", 4, "#c0612b"], ["tv", 5, "#5b8a3a"],
];
const WEIGHTS = ["style", "content", "tv"];
const SLIDER_ZERO = -3;  // the slider's far left means 0

let history = [];        // [iteration, seconds, total, content, style, tv] of the current picture
let marks = [];          // [iteration, what changed]: where the weights were steered
let pictureIndex = null;
let imageShown = 0, imageLoading = false, imagesLoaded = 0;
let axis = "iteration";
let ended = false, paused = false, jobs = 1;
const asked = {};        // weight name -> [value asked, when]: the slider follows the run again once it has it

function sliderToValue(position) { return position <= SLIDER_ZERO ? 0 : Math.pow(10, position); }
function valueToSlider(value) { return value <= 0 ? SLIDER_ZERO : Math.max(SLIDER_ZERO, Math.min(3, Math.log10(value))); }
function fmt(value) { return value === 0 ? "0" : Number(value.toPrecision(3)).toString(); }
function clock(seconds) {
  if (seconds === null || seconds === undefined) return "–";
  const s = Math.round(seconds), m = Math.floor(s / 60);
  return m >= 60 ? `${Math.floor(m / 60)}h${String(m % 60).padStart(2, "0")}m` : `${m}m${String(s % 60).padStart(2, "0")}s`;
}

const shownText = {};    // element id -> the text it shows: the page is touched only where something changed
function setText(id, text) {
  if (shownText[id] === text) return;
  shownText[id] = text;
  $(id).textContent = text;
}
let shownLog = "", shownLegend = "", drawnFor = "";

function say(text, error) {
  const box = $("message");
  box.textContent = text;
  box.className = "message" + (error ? " error" : "");
}

let asking = 0;           // the latest control sent: answers to earlier ones may come later, and are not shown
async function control(body) {
  const mine = ++asking;
  try {
    const answer = await fetch(withToken("control"), {
      method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body),
    });
    const data = await answer.json();
    if (mine === asking) say(data.message, !answer.ok);
    if (typeof data.paused === "boolean") setPaused(data.paused);
    return answer.ok;
  } catch (err) {
    say("the run did not answer: " + err, true);
    return false;
  }
}

function setPaused(value) {
  paused = value;
  $("pause").textContent = paused ? "resume" : "pause";
  $("status").className = "status" + (paused ? " paused" : "");
  if (!ended) setText("status", paused ? "paused" : "running");
}

function sendWeight(name, value) {
  asked[name] = [Number(value), Date.now()];
  control({action: "weight", name: name, value: value}).then((ok) => { if (!ok) delete asked[name]; });
}

for (const name of WEIGHTS) {
  const slider = $("slider-" + name), number = $("number-" + name);
  slider.addEventListener("input", () => { number.value = fmt(sliderToValue(Number(slider.value))); });
  slider.addEventListener("change", () => sendWeight(name, Number(fmt(sliderToValue(Number(slider.value))))));
  number.addEventListener("change", () => sendWeight(name, number.value));  // checked by the run, not here
}
$("pause").addEventListener("click", () => control({action: paused ? "resume" : "pause"}));
$("snapshot").addEventListener("click", () => control({action: "snapshot"}));
$("stop").addEventListener("click", () => control({action: "stop"}));
$("skip").addEventListener("click", () => control({action: "skip"}));
for (const radio of document.querySelectorAll("input[name=axis]")) {
  radio.addEventListener("change", () => { axis = radio.value; draw(); });
}

function showWeights(weights) {
  for (const name of WEIGHTS) {
    const value = weights[name];
    if (value === undefined) continue;
    setText("reported-" + name, fmt(value));
    const pending = asked[name];
    if (pending && pending[0] !== value && Date.now() - pending[1] < 5000) continue;  // not yet taken by the run
    delete asked[name];
    const slider = $("slider-" + name), number = $("number-" + name);
    if (document.activeElement !== slider && document.activeElement !== number) {
      slider.value = valueToSlider(value);
      number.value = fmt(value);
    }
  }
}

function showImage(version) {
  if (version === imageShown || imageLoading) return;
  imageLoading = true;
  const next = new Image();
  next.onload = () => {
    $("current").src = next.src;
    imageShown = version; imageLoading = false; imagesLoaded += 1;
    document.body.dataset.images = String(imagesLoaded);
  };
  next.onerror = () => { imageLoading = false; };
  next.src = withToken("image/current?v=" + version);
}

function showPicture(picture) {
  if (!picture) return;
  marks = picture.marks || [];
  if (picture.index !== pictureIndex) {
    pictureIndex = picture.index;
    $("content").src = withToken("image/content?p=" + picture.index);
    $("style").src = withToken("image/style?p=" + picture.index);
  }
  setText("what", `${picture.content} in the style of ${picture.styles.join(" + ")} → ${picture.output}`);
  const step = picture.step || {};
  if (step.iteration !== undefined) {
    const size = step.size ? `${step.size[0]}x${step.size[1]}` : "";
    const stage = step.stages > 1 ? `, size ${step.stage}/${step.stages}` : "";
    setText("current-caption", `iteration ${step.iteration} · ${size}${stage}`);
  }
}

function showProgress(data) {
  const picture = data.picture, step = (picture && picture.step) || {};
  const cap = data.per_picture || 1, done = step.iteration || 0;
  $("picture-progress").value = data.ended ? 1 : Math.min(1, done / cap);
  setText("picture-text", picture ? `${done} of at most ${cap} iterations · ETA ${clock(picture.eta)}` : "");
  $("run-progress").value = data.jobs ? data.done / data.jobs : 0;
  setText("run-text", `${data.done} of ${data.jobs} pictures · ${clock(data.elapsed)} so far · ETA ${clock(data.eta)}`);
}

function update(data) {
  jobs = data.jobs;
  history = data.reset ? data.history : history.concat(data.history);
  document.body.dataset.points = String(history.length);
  ended = data.ended;
  if (data.paused !== paused) setPaused(data.paused);
  setText("status", ended ? "finished" : paused ? "paused" : "running");
  $("skip").disabled = ended || jobs < 2;
  for (const id of ["pause", "snapshot", "stop"]) $(id).disabled = ended;
  showWeights(data.weights);
  showPicture(data.picture);
  showProgress(data);
  showImage(data.image);
  const log = data.messages.join("\n");
  if (log !== shownLog) {
    shownLog = log;
    $("log").replaceChildren(...data.messages.slice().reverse().map((text) => {
      const item = document.createElement("li"); item.textContent = text; return item;
    }));
  }
  draw();
}

function draw() {
  const state = `${history.length} ${history.length && history[0][0]} ${axis} ${marks.length}`;
  if (state === drawnFor) return;  // nothing new to draw
  drawnFor = state;
  const canvas = $("plot"), g = canvas.getContext("2d");
  const W = canvas.width, H = canvas.height, left = 48, right = 10, top = 10, bottom = 26;
  g.clearRect(0, 0, W, H);
  g.font = "11px system-ui, sans-serif";
  const x = axis === "seconds" ? 1 : 0;
  const shown = SERIES.filter(([, i]) => history.some((p) => p[i] > 0));
  const legend = shown.map(([name]) => name).join(" ");
  if (legend !== shownLegend) {
    shownLegend = legend;
    $("legend").replaceChildren(...shown.map(([name, , colour]) => {
      const item = document.createElement("span"); item.style.color = colour; item.textContent = "— " + name; return item;
    }));
  }
  const values = history.flatMap((p) => shown.map(([, i]) => p[i])).filter((v) => v > 0);
  if (history.length < 1 || values.length < 1) return;
  let low = Math.log10(Math.min(...values)), high = Math.log10(Math.max(...values));
  if (high - low < 0.5) { low -= 0.25; high += 0.25; }
  const xs = history.map((p) => p[x]), x0 = Math.min(...xs), x1 = Math.max(x0 + 1e-9, ...xs);
  const px = (v) => left + (v - x0) / (x1 - x0) * (W - left - right);
  const py = (v) => top + (high - Math.log10(v)) / (high - low) * (H - top - bottom);
  g.strokeStyle = "#dcdce0"; g.fillStyle = "#6b6b70"; g.lineWidth = 1;
  for (let e = Math.ceil(low); e <= Math.floor(high); e++) {
    g.beginPath(); g.moveTo(left, py(10 ** e)); g.lineTo(W - right, py(10 ** e)); g.stroke();
    g.fillText("1e" + e, 4, py(10 ** e) + 4);
  }
  g.fillText(fmt(x0), left, H - 8);
  g.fillText(`${fmt(x1)} ${axis === "seconds" ? "s" : "iterations"}`, W - right - 90, H - 8);
  g.setLineDash([4, 3]); g.strokeStyle = "#8a2be2"; g.fillStyle = "#8a2be2";
  for (const [iteration, what] of marks) {
    const point = history.find((p) => p[0] > iteration);
    if (!point) continue;
    const at = px(point[x]);
    g.beginPath(); g.moveTo(at, top); g.lineTo(at, H - bottom); g.stroke();
    g.fillText(what, Math.min(at + 4, W - right - 80), top + 10);
  }
  g.setLineDash([]);
  for (const [, i, colour] of shown) {
    g.strokeStyle = colour; g.lineWidth = 1.6; g.beginPath();
    let started = false;
    for (const p of history) {
      if (!(p[i] > 0)) continue;
      if (started) g.lineTo(px(p[x]), py(p[i])); else g.moveTo(px(p[x]), py(p[i]));
      started = true;
    }
    g.stroke();
  }
}

const source = new EventSource(withToken("events"));
source.onmessage = (event) => update(JSON.parse(event.data));
source.onerror = () => {
  setText("status", ended ? "finished (the page is no longer served)" : "connection lost, retrying…");
};
source.onopen = () => { if (!ended) setText("status", paused ? "paused" : "running"); };
