// Captions in the consultation room: the cc button switches them on and off
// for the room, the Captions tab sets this participant's spoken and caption
// languages, and each caption appears under the speaker's video (translated
// where the worker sent this listener's caption language) and in an ARIA
// live region, with the speaker's name. The caption worker's own peer is
// not a person: its tile is hidden and the room shows "captions on".
const socket = window.consultroom.socket;
const root = document.querySelector("[data-translation]");
const config = JSON.parse(root.dataset.translation);
const button = document.querySelector('[data-room-button="translation.cc"]');
const status = root.querySelector("[data-translation-status]");
const live = root.querySelector("[data-translation-live]");
const spoken = document.querySelector("[data-translation-spoken]");
const caption = document.querySelector("[data-translation-caption]");
let on = false;
let worker = null;

function room() {
  return (window.consultroom || {}).room;
}

// The room counts its peers for "you are alone" and lists them as
// participants: the worker is neither, so it is out of the map meanwhile.
function leaveOutWorker(r) {
  if (r.captionsLeaveOut) return;
  r.captionsLeaveOut = true;
  const showAlone = r.showAlone.bind(r);
  r.showAlone = () => {
    const peer = worker && r.peers.get(worker);
    if (!peer) return showAlone();
    r.peers.delete(worker);
    try {
      showAlone();
    } finally {
      r.peers.set(worker, peer);
    }
  };
}

function hideWorkerTile() {
  const r = room();
  const peer = worker && r && r.peers.get(worker);
  if (!peer) return;
  leaveOutWorker(r);
  peer.tile.root.hidden = true;
  r.showAlone();
}

function sendLanguages() {
  socket.send({ type: "translation.languages", spoken: spoken.value, caption: caption.value });
}

function show(state) {
  on = state;
  button.setAttribute("aria-pressed", String(on));
  status.hidden = !on;
  hideWorkerTile();
}

function entered(message) {
  const found = (message.peers || []).find((peer) => peer.role === "captions");
  worker = found ? found.peer : null;
  show(Boolean(found));
  if (found) sendLanguages();
}

function lineUnder(peerId) {
  const r = room();
  const tile = peerId === (r && r.self) ? r.selfVideo.closest("figure, div")
    : r && r.peers.get(peerId) && r.peers.get(peerId).tile.root;
  if (!tile) return null;
  let line = tile.querySelector("[data-translation-line]");
  if (!line) {
    line = document.createElement("p");
    line.className = "translation-caption";
    line.dataset.translationLine = "";
    tile.append(line);
  }
  return line;
}

button.setAttribute("aria-pressed", "false");
button.addEventListener("click", () => socket.send({ type: "translation.switch", on: !on }));
for (const select of [spoken, caption]) {
  select.addEventListener("change", () => { if (on) sendLanguages(); });
}
socket.on("room", entered);
socket.on("admitted", entered);
socket.on("peer_joined", (message) => {
  if (message.role === "captions") {
    worker = message.peer;
    setTimeout(hideWorkerTile, 0);
  }
});
socket.on("translation.state", (message) => {
  if (message.peer) worker = message.peer;
  show(message.on);
  if (message.on && message.peer) sendLanguages();
});
socket.on("translation.caption", (message) => {
  hideWorkerTile();
  const translation = (message.translations || {})[caption.value];
  const text = translation ? translation.text : message.text;
  const line = lineUnder(message.peer);
  if (line) {
    line.textContent = text;
    line.dataset.speaker = message.name;
  }
  live.textContent = `${message.name}: ${text}`;
});
