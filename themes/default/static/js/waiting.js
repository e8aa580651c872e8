// The client's waiting page (templates/waitingroom/waiting.html): the
// disclaimer to accept, the camera and microphone check, the live arrival
// state, note and service messages; once admitted the same page becomes the
// consultation room, and after the end it shows the follow-up message.
import { format, localTime, pageSocket, readJSON, showStatus } from "./realtime.js";
import { DeviceCheck, Room, bindSettingsDialog } from "./room.js";

const page = document.querySelector("[data-waiting-page]");
const config = readJSON("realtime-config");
const strings = readJSON("waiting-strings");
const realtime = pageSocket(config);
const room = new Room(page.querySelector("[data-room]"), realtime, config);
const devices = new DeviceCheck(page.querySelector("[data-devices]"));
const waitingPart = page.querySelector("[data-waiting-part]");
const deviceCard = page.querySelector("[data-device-card]");

showStatus(realtime, page.querySelector("[data-connection]"));

// What has happened to the client, in words for them, in the page's live
// region: sent back, waiting long, the connection back after it was lost
// (the lost connection itself is told by [data-connection]).
const stateText = page.querySelector("[data-state-text]");
function say(text) {
  stateText.textContent = text || "";
}

// After the organisation's "reassure after" minutes in the waiting room
// (counted from when this page got in, again after being sent back): the
// client has not been forgotten, and may call the practice's number.
const longMinutes = Number(page.dataset.longMinutes) || 0;
let longTimer = null;
function watchWaitingLong() {
  clearTimeout(longTimer);
  if (longMinutes <= 0) return;
  page.dataset.waitingSince = new Date().toISOString();
  longTimer = setTimeout(() => {
    const phone = page.dataset.phone;
    say(phone ? format(strings.waiting_long_phone, { phone }) : strings.waiting_long);
  }, longMinutes * 60000);
}

let lostConnection = false;
realtime.on("status", ({ state }) => {
  if (state === "offline") lostConnection = true;
  if (state === "online" && lostConnection) {
    lostConnection = false;
    if (!waitingPart.hidden) say(strings.restored);
  }
});

let longWatched = false;
function showWaiting(message) {
  if (!longWatched) {
    longWatched = true;
    watchWaitingLong();
  }
  const card = page.querySelector("[data-waiting]");
  card.className = `card waiting waiting-${message.arrival}`;
  const when = page.querySelector("[data-when]");
  const text = strings[message.arrival] || strings.on_time;
  when.textContent = format(text, { time: localTime(message.starts_at, config) });
  showNote(message.note);
  const list = page.querySelector("[data-messages]");
  const texts = message.service_messages || [];
  list.replaceChildren(...texts.map((text) => {
    const item = document.createElement("li");
    item.textContent = text;
    return item;
  }));
  page.querySelector("[data-service-messages]").hidden = texts.length === 0;
}

function showNote(text) {
  const note = page.querySelector("[data-note]");
  note.textContent = text || "";
  note.hidden = !text;
}

// Resolves once the camera check has its stream (or failed): the room
// needs it before it makes its offers.
let mediaReady = Promise.resolve();

// The page shows another part (the room, the waiting room again, the end):
// the focus, which was in the part now hidden, goes to the new part, so that
// keyboard and screen-reader users carry on from there.
function moveFocus(element) {
  element.tabIndex = -1;
  element.focus();
}

async function admitted(message) {
  waitingPart.hidden = true;
  clearTimeout(longTimer);
  say("");
  await mediaReady;
  if (devices.stream) room.setStream(devices.release());
  room.enter(message);
  moveFocus(page.querySelector("[data-room]"));
}

function sentBack() {
  room.leave();
  room.stopMedia();
  waitingPart.hidden = false;
  deviceCard.append(devices.root);
  mediaReady = devices.start();
  say(strings.sent_back);
  moveFocus(waitingPart.querySelector("h1"));
  watchWaitingLong();
}

function ended(message) {
  clearTimeout(longTimer);
  room.leave();
  room.stopMedia();
  devices.stop();
  realtime.close();
  waitingPart.hidden = true;
  const card = page.querySelector("[data-ended]");
  card.querySelector("[data-follow-up]").textContent = message.follow_up || strings.follow_up;
  card.hidden = false;
  moveFocus(card.querySelector("h1"));
}

realtime.on("waiting", showWaiting);
realtime.on("note", (message) => showNote(message.text));
realtime.on("transferred", (message) => say(format(strings.transferred, { name: message.to })));
realtime.on("admitted", admitted);
realtime.on("sent_back", sentBack);
realtime.on("ended", ended);

bindSettingsDialog(page, devices, room);

function enter() {
  devices.root.hidden = false;
  mediaReady = devices.start();
  realtime.connect();
}

// With a disclaimer the client enters the waiting room (and the staff's list)
// only after accepting it.
const accept = page.querySelector("[data-accept]");
if (accept) {
  deviceCard.hidden = true;
  accept.addEventListener("submit", (event) => {
    event.preventDefault();
    page.querySelector("[data-disclaimer-card]").hidden = true;
    deviceCard.hidden = false;
    moveFocus(deviceCard.querySelector("h2"));
    enter();
  });
} else {
  enter();
}
