// The room's chat tab (and the client's waiting page, which becomes the room):
// asks for the conversation when the socket enters the room or the waiting
// room, shows new messages, and counts those that arrive while the tab is not
// open on its tab button.
import { MessageLog, bindForm } from "./messages.js";

const socket = window.consultroom.socket;
const panel = document.querySelector("[data-chat-panel]");
const tab = document.querySelector('[data-room-tab="chat"]');
const form = panel.querySelector("[data-chat-form]");
const log = new MessageLog(panel.querySelector("[data-chat-log]"), panel.dataset.chatEmpty);
const label = tab ? tab.textContent : "";
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
  form.hidden = !message.open;
  panel.querySelector("[data-chat-closed]").hidden = message.open;
  log.show(message.messages);
});
socket.on("chat.message", (message) => {
  log.add(message);
  if (tab && tab.getAttribute("aria-selected") !== "true") {
    unseen += 1;
    showUnseen();
  }
});
if (tab) {
  tab.addEventListener("click", () => {
    unseen = 0;
    showUnseen();
  });
}
bindForm(form, (text) => socket.send({ type: "chat.send", text }));
