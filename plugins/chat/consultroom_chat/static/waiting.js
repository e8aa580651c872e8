// The staff waiting list's chat: a "Chat" button on each waiting client opens
// the panel with that client's messages, to read and answer before calling
// them in. The list re-renders its entries, so the buttons are added again.
// A retracted message goes, and its sender gets the text back (messages.js).
import { MessageLog, bindForm, giveBack } from "./messages.js";

function withSocket(use) {
  if (window.consultroom && window.consultroom.socket) use(window.consultroom.socket);
  else document.addEventListener("consultroom:socket", (event) => use(event.detail), { once: true });
}

const panel = document.querySelector("[data-chat-waiting]");
const entries = document.querySelector("[data-entries]");
const form = panel.querySelector("[data-chat-form]");
const log = new MessageLog(panel.querySelector("[data-chat-log]"), panel.dataset.chatEmpty);
let current = null;

withSocket((socket) => {
  function open(item) {
    current = Number(item.dataset.appointment);
    panel.querySelector("[data-chat-with]").textContent = item.querySelector("[data-name]").textContent;
    panel.hidden = false;
    form.hidden = false;
    socket.send({ type: "chat.history", appointment: current });
    form.elements.text.focus();
  }

  function addButtons() {
    for (const item of entries.children) {
      if (!item.dataset.appointment || item.querySelector("[data-chat-open]")) continue;
      const button = document.createElement("button");
      button.type = "button";
      button.dataset.chatOpen = "";
      button.textContent = panel.dataset.chatOpenLabel;
      button.addEventListener("click", () => open(item));
      item.querySelector(".entry-head").append(button);
    }
  }

  new MutationObserver(addButtons).observe(entries, { childList: true });
  addButtons();
  socket.on("chat.history", (message) => {
    if (message.appointment === current) log.show(message.messages);
  });
  socket.on("chat.message", (message) => {
    if (message.appointment === current) log.add(message);
  });
  socket.on("chat.retract", (message) => {
    if (message.appointment === current) log.remove(message.key);
  });
  socket.on("error", (message) => {
    if (message.code !== "not_sent") return;
    log.remove(message.key);
    giveBack(form, message);
  });
  bindForm(form, (text) => socket.send({ type: "chat.send", appointment: current, text }));
});
