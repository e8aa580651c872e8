// Background effects in the consultation room (templates/room/_effects.html,
// consultroom.room.extras): the camera's picture with its background blurred
// or replaced by one of the organisation's images, made in this browser and
// sent to the others instead of the camera's own track (Room.setVideoEffect).
// The person is found by MediaPipe's selfie segmentation, which the
// installation serves itself (data-model, fetched by
// scripts/fetch-segmentation): nothing is loaded from another site.
// With the organisation's "warn about a replaced background", the room's
// socket tells the others while this person's background is a picture
// ("background" messages), and their notice over the stage says so.
const root = document.querySelector("[data-effects]");
const consultroom = window.consultroom || {};
const room = consultroom.room;
const socket = consultroom.socket;
const strings = JSON.parse(document.getElementById("effects-strings").textContent);
const status = root.querySelector("[data-effects-status]");
const FRAME_MS = 66; // about 15 frames a second
const BLUR = "blur(14px)";

const source = document.createElement("video");
source.muted = true;
source.playsInline = true;
const canvas = document.createElement("canvas");
const context = canvas.getContext("2d");

let segmenter = null;
let mode = "none";
let picture = null;
let output = null;
let running = false;

function loadScript(url) {
  return new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = url;
    script.onload = resolve;
    script.onerror = reject;
    document.head.append(script);
  });
}

async function model() {
  if (segmenter) return segmenter;
  const base = root.dataset.model;
  await loadScript(`${base}selfie_segmentation.js`);
  const made = new window.SelfieSegmentation({ locateFile: (file) => `${base}${file}` });
  made.setOptions({ modelSelection: 1 });
  made.onResults(draw);
  await made.initialize();
  segmenter = made;
  return made;
}

// The part of `image` that covers the canvas, centred (CSS object-fit: cover).
function cover(image) {
  const scale = Math.max(canvas.width / image.width, canvas.height / image.height);
  const width = image.width * scale;
  const height = image.height * scale;
  return [(canvas.width - width) / 2, (canvas.height - height) / 2, width, height];
}

// The person as the mask shows them, over the blurred frame or the picture.
function draw(results) {
  const { width, height } = canvas;
  context.save();
  context.clearRect(0, 0, width, height);
  context.drawImage(results.segmentationMask, 0, 0, width, height);
  context.globalCompositeOperation = "source-in";
  context.drawImage(results.image, 0, 0, width, height);
  context.globalCompositeOperation = "destination-over";
  if (mode === "image" && picture) {
    context.drawImage(picture, ...cover(picture));
  } else {
    context.filter = BLUR;
    context.drawImage(results.image, 0, 0, width, height);
  }
  context.restore();
}

const pause = (ms) => new Promise((resolve) => { setTimeout(resolve, ms); });

async function loop() {
  while (running) {
    const started = performance.now();
    if (source.readyState >= 2 && source.videoWidth) {
      if (canvas.width !== source.videoWidth || canvas.height !== source.videoHeight) {
        canvas.width = source.videoWidth;
        canvas.height = source.videoHeight;
      }
      try {
        await segmenter.send({ image: source });
      } catch (error) {
        console.warn("background effect failed", error);
      }
    }
    await pause(Math.max(0, FRAME_MS - (performance.now() - started)));
  }
}

function useCamera(stream) {
  const track = stream && stream.getVideoTracks()[0];
  source.srcObject = track ? new MediaStream([track]) : null;
  if (track) source.play().catch(() => {});
}

async function start() {
  status.textContent = strings.loading;
  await model();
  useCamera(room.localStream);
  if (!output) output = canvas.captureStream(1000 / FRAME_MS).getVideoTracks()[0];
  if (!running) {
    running = true;
    loop();
  }
  room.setVideoEffect(output);
  status.textContent = "";
}

function stop() {
  running = false;
  room.setVideoEffect(null);
}

function loadPicture(url) {
  return new Promise((resolve, reject) => {
    const image = new Image();
    image.onload = () => resolve(image);
    image.onerror = reject;
    image.src = url;
  });
}

// Told to the room (and again to anyone who comes in later) only when the
// organisation asks for the notice.
function tell() {
  if (root.dataset.warn && socket && room.id) {
    socket.send({ type: "background", replaced: mode === "image" });
  }
}

async function choose(input) {
  mode = input.value;
  try {
    if (mode === "none") {
      stop();
    } else {
      picture = mode === "image" ? await loadPicture(input.dataset.src) : null;
      await start();
    }
  } catch (error) {
    console.warn("background effects unavailable", error);
    status.textContent = strings.failed;
    mode = "none";
    root.querySelector("input[value=none]").checked = true;
    stop();
  }
  root.dataset.effect = mode;
  tell();
}

for (const input of root.querySelectorAll("input[type=radio]")) {
  input.addEventListener("change", () => choose(input));
}

// The toolbar's button opens the side panel at this tab.
const button = document.querySelector("[data-room-button=effects]");
if (button) {
  button.addEventListener("click", () => document.querySelector("[data-room-tab=effects]").click());
}

// Another camera chosen during the call: the effect follows it.
document.addEventListener("consultroom:camera", (event) => {
  if (running) useCamera(event.detail);
});

if (socket) {
  const notice = document.querySelector("[data-background-notice]");
  const replaced = new Map();
  const show = () => {
    if (!notice) return;
    const names = [...replaced.values()];
    notice.hidden = names.length === 0;
    notice.textContent = names.map((name) => (name
      ? strings.replaced.replace("{name}", name) : strings.replaced_someone)).join(" ");
  };
  socket.on("background", (message) => {
    if (message.peer === socket.peer) return;
    const peer = room.peers.get(message.peer);
    if (message.replaced) replaced.set(message.peer, (peer && peer.name) || "");
    else replaced.delete(message.peer);
    show();
  });
  socket.on("peer_left", (message) => {
    replaced.delete(message.peer);
    show();
  });
  socket.on("peer_joined", () => {
    if (mode === "image") tell();
  });
}
