// posegraph live: the camera's frames go to the server over a WebSocket, one at a time; the
// skeleton and the state come back. Frames the camera makes while the server is busy are skipped
// (counted), never queued. Plain JavaScript, nothing loaded from elsewhere.
"use strict";
const video = document.getElementById("camera");
const overlay = document.getElementById("overlay");
const sender = document.createElement("canvas");
const show = (id, text) => { document.getElementById(id).textContent = text; };
// the server's refusals and errors, in words, for the person at the camera
const tell = (text) => { const box = document.getElementById("message"); box.textContent = text; box.hidden = false; };
let socket = null, edges = [], fps = 16, landmarks = null, busy = false, running = false;
let started = 0, lastSent = -1, skipped = 0, sentAt = 0;

async function start() {
  document.getElementById("start").disabled = true;
  show("status", "asking for the camera...");
  try {
    const stream = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 }, audio: false });
    video.srcObject = stream;
    await video.play();
  } catch (error) {
    show("status", "no camera: " + error.message);
    document.getElementById("start").disabled = false;
    return;
  }
  const scheme = location.protocol === "https:" ? "wss://" : "ws://";
  socket = new WebSocket(scheme + location.host + "/ws");
  socket.binaryType = "arraybuffer";
  socket.onmessage = (message) => receive(JSON.parse(message.data));
  socket.onclose = (event) => {  // the server's reason: full, idle, shutting down (code 1013, 1000, 1001)
    running = false;
    document.getElementById("start").disabled = false;
    if (event.reason) tell("The server closed the session: " + event.reason);
    if (!document.getElementById("final").hidden) return;
    show("status", event.reason ? "closed: " + event.reason : "connection closed");
  };
  socket.onopen = () => { running = true; started = performance.now(); show("status", "live");
                          document.getElementById("stop").disabled = false; requestAnimationFrame(tick); };
}

function tick() {
  if (!running) return;
  draw();
  const now = (performance.now() - started) / 1000;
  if (video.readyState >= 2 && now - lastSent >= 1 / fps) {
    if (busy) { skipped += 1; lastSent = now; show("skipped", skipped); }  // the server is behind: this slot's frame is skipped
    else send(now);
  }
  requestAnimationFrame(tick);
}

function send(now) {
  const width = Math.min(video.videoWidth, 640), height = Math.round(video.videoHeight * width / video.videoWidth);
  sender.width = width; sender.height = height;
  sender.getContext("2d").drawImage(video, 0, 0, width, height);
  busy = true; lastSent = now; sentAt = performance.now();
  sender.toBlob(async (blob) => {
    const head = new DataView(new ArrayBuffer(8));
    head.setFloat64(0, now, true);
    const body = new Uint8Array(await blob.arrayBuffer());
    const message = new Uint8Array(8 + body.length);
    message.set(new Uint8Array(head.buffer), 0);
    message.set(body, 8);
    if (socket.readyState === WebSocket.OPEN) socket.send(message.buffer); else busy = false;
  }, "image/jpeg", 0.8);
}

function receive(message) {
  if (message.type === "hello") { edges = message.edges; fps = message.fps; return; }
  if (message.type === "frame") {
    busy = false;
    landmarks = message.landmarks;
    const state = message.state;
    show("exercise", state.exercise || (message.frames > fps * 3 ? "none of these" : "..."));
    show("count", state.count);
    show("score", state.score === null ? "-" : Math.round(state.score));
    show("worst", state.worst_joint || "-");
    if (state.cue) show("cue", state.cue);
    show("frames", message.frames);
    show("lag", Math.round(performance.now() - sentAt));
    return;
  }
  if (message.type === "error") { busy = false; tell("The server dropped a frame: " + message.error); return; }
  if (message.type === "end") {
    running = false;
    if (message.exercise !== undefined) show("exercise", message.rejected ? "none of these" : (message.exercise || "-"));
    show("count", message.count);
    if (message.mean_score !== undefined && message.mean_score !== null) show("score", Math.round(message.mean_score));
    const final = document.getElementById("final");
    final.hidden = false;
    final.dataset.count = message.count;
    final.dataset.exercise = message.exercise || "";
    final.textContent = "Session ended (" + message.ended + "): " + message.count + " repetitions" +
      (message.files ? "; report " + message.files.html : "") + (message.error ? "; " + message.error : "");
    show("status", "ended");
  }
}

function draw() {
  overlay.width = video.videoWidth; overlay.height = video.videoHeight;
  const context = overlay.getContext("2d");
  context.clearRect(0, 0, overlay.width, overlay.height);
  if (!landmarks) return;
  const at = (point) => [point[0] * overlay.width, point[1] * overlay.height];
  context.strokeStyle = "#e6e6e6"; context.lineWidth = 3;
  for (const [a, b] of edges) {
    const p = landmarks[a], q = landmarks[b];
    if (!p || !q) continue;
    context.beginPath(); context.moveTo(...at(p)); context.lineTo(...at(q)); context.stroke();
  }
  for (const point of landmarks) {
    context.fillStyle = point[2] >= 0.6 ? "#3c3" : "#c93";
    context.beginPath(); context.arc(...at(point), 5, 0, 2 * Math.PI); context.fill();
  }
}

document.getElementById("start").onclick = start;
document.getElementById("stop").onclick = () => {
  document.getElementById("stop").disabled = true;
  if (socket && socket.readyState === WebSocket.OPEN) socket.send("stop");
};
if (new URLSearchParams(location.search).has("autostart")) start();
