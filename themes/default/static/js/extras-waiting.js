// The waiting room's extras (templates/waitingroom/_extras.html,
// consultroom.room.extras): "More information" opens the organisation's page
// (loaded on the first click only); the evaluation form appears beside the
// "consultation has ended" card once the consultation ends, never before; with
// "stop if the webcam fails", a client whose camera gives no picture goes to
// the camera and connection check (data-check-url), which sends them back
// once it works.
const root = document.querySelector("[data-waiting-extras]");
const page = document.querySelector("[data-waiting-page]");

const more = root.querySelector("[data-action=more-info]");
if (more) {
  const panel = root.querySelector("[data-more-info-panel]");
  more.addEventListener("click", () => {
    const frame = panel.querySelector("iframe");
    if (!frame.src) frame.src = frame.dataset.src;
    panel.hidden = !panel.hidden;
    more.setAttribute("aria-expanded", String(!panel.hidden));
  });
}

// The explainer plays while waiting only: taken out of the page (so that it
// stops playing) once the client is called in, and put back (it loads
// again) if they are sent back to the waiting room.
const explainer = root.querySelector("[data-explainer]");
const explainerPlace = document.createComment("explainer");
function dropExplainer() {
  if (explainer && explainer.isConnected) explainer.replaceWith(explainerPlace);
}
function restoreExplainer() {
  if (explainer && explainerPlace.isConnected) explainerPlace.replaceWith(explainer);
}

function showEvaluation() {
  const template = root.querySelector("template[data-evaluation]");
  const ended = page && page.querySelector("[data-ended]");
  if (!template || !ended || page.querySelector("[data-evaluation-card]")) return;
  ended.after(template.content.cloneNode(true));
}

// No picture from the camera: the check found no camera at all, or the
// stream in use (preview while waiting, self-view in the room) has no live
// video track. A camera the client turned off is not a failure.
function cameraFailed() {
  const error = page && page.querySelector("[data-device-error]");
  if (error && !error.hidden && !error.closest("[hidden]")) return true;
  for (const video of document.querySelectorAll("[data-preview], [data-self]")) {
    const stream = video.srcObject;
    if (!stream || video.closest("[hidden]")) continue;
    const tracks = stream.getVideoTracks();
    if (tracks.length === 0 || tracks.every((track) => track.readyState === "ended")) return true;
  }
  return false;
}

let watching = null;
if (root.dataset.checkUrl) {
  watching = setInterval(() => {
    if (cameraFailed()) {
      clearInterval(watching);
      window.location.assign(root.dataset.checkUrl);
    }
  }, 1000);
}

function use(socket) {
  socket.on("admitted", dropExplainer);
  socket.on("sent_back", restoreExplainer);
  socket.on("ended", () => {
    clearInterval(watching);
    dropExplainer();
    showEvaluation();
  });
}

const consultroom = window.consultroom || {};
if (consultroom.socket) use(consultroom.socket);
else document.addEventListener("consultroom:socket", (event) => use(event.detail), { once: true });
