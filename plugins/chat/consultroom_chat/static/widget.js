// The public chat widget's conversation page: the visitor's socket (role
// chat.visitor, with the page's signed token) shows the staff's answers as
// they come and sends what the visitor writes; while it is not connected the
// form posts as a plain form. Says live whether anyone is answering.
import { pageSocket, readJSON } from "/static/js/realtime.js";
import { MessageLog } from "./messages.js";

const panel = document.querySelector("[data-chat-widget]");
const form = panel.querySelector("[data-chat-form]");
const error = panel.querySelector("[data-chat-error]");
const duty = document.querySelector("[data-chat-duty]");
const log = new MessageLog(panel.querySelector(".chat-history"), panel.dataset.chatEmpty);
const socket = pageSocket(readJSON("chat-widget-config"));

socket.on("chat.history", (message) => log.show(message.messages));
socket.on("chat.message", (message) => {
  error.hidden = true;
  log.add(message);
});
socket.on("chat.on_duty", (message) => {
  duty.textContent = message.on ? duty.dataset.on : duty.dataset.off;
});
socket.on("error", (message) => {
  error.textContent = message.message;
  error.hidden = false;
});
form.addEventListener("submit", (event) => {
  const text = form.elements.text.value.trim();
  if (!socket.connected) return; // the plain form posts instead
  event.preventDefault();
  if (text && socket.send({ type: "chat.visitor.send", text })) form.elements.text.value = "";
});
socket.connect();
