// Chat on the client's and the guest's page and in the staff room: the room's
// Chat tab, and on a client's waiting page the waiting room's panel (where
// the organisation shows messages there). Asks for the conversation when the
// socket enters the waiting room or a room, shows new messages in every
// panel, and counts on the tab's button those that arrive while it is closed.
// A retracted message (one the server could not store) goes from every panel,
// and its sender gets the text back (messages.js).
import { MessageLog, bindForm, giveBack } from "./messages.js";

const socket = window.consultroom.socket;
const tab = document.querySelector('[data-room-tab="chat"]');
const label = tab ? tab.textContent : "";
const panels = [...document.querySelectorAll("[data-chat-panel]")].map((element) => ({
  element,
  form: element.querySelector("[data-chat-form]"),
  closed: element.querySelector("[data-chat-closed]"),
  log: new MessageLog(element.querySelector("[data-chat-log]"), element.dataset.chatEmpty),
}));
let unseen = 0;
let asked = "";

function ask(where) {
  if (where !== asked) {
    asked = where;
    socket.send({ type: "chat.history" });
  }
}

function showUnseen() {
  if (tab) tab.textContent = unseen ? `${label} (${unseen})` : label;
}

socket.on("room", (message) => ask(`room:${message.room}`));
socket.on("admitted", (message) => ask(`room:${message.room}`));
socket.on("waiting", () => ask("waiting"));
socket.on("sent_back", () => ask("waiting"));
socket.on("status", ({ state }) => { if (state !== "online") asked = ""; });
socket.on("chat.history", (message) => {
  for (const panel of panels) {
    panel.form.hidden = !message.open;
    if (panel.closed) panel.closed.hidden = message.open;
    panel.log.show(message.messages);
  }
});
socket.on("chat.message", (message) => {
  for (const panel of panels) panel.log.add(message);
  if (tab && tab.getAttribute("aria-selected") !== "true" && asked.startsWith("room:")) {
    unseen += 1;
    showUnseen();
  }
});
socket.on("chat.retract", ({ key }) => {
  for (const panel of panels) panel.log.remove(key);
});
socket.on("error", (message) => {
  if (message.code !== "not_sent") return;
  for (const panel of panels) {
    panel.log.remove(message.key);
    if (!panel.form.hidden) giveBack(panel.form, message);
  }
});
if (tab) {
  // Opened by a click, the keyboard or the core's own code alike.
  new MutationObserver(() => {
    if (tab.getAttribute("aria-selected") === "true" && unseen) {
      unseen = 0;
      showUnseen();
    }
  }).observe(tab, { attributes: true, attributeFilter: ["aria-selected"] });
}
for (const panel of panels) bindForm(panel.form, (text) => socket.send({ type: "chat.send", text }));
