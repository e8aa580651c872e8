// The staff's side of the public chat widget, over the page's socket: on
// Messages the switch "I answer the website chat" and the visitors' list
// (a new conversation gets a row, a visitor's message counts as unread); on a
// visitor's conversation its messages as they come, and the answer sent.
// Without the socket the forms post.
import { pageSocket, readJSON } from "/static/js/realtime.js";
import { MessageLog } from "./messages.js";

const socket = pageSocket(readJSON("chat-visitors-config"));

function bindDuty(form) {
  const input = form.querySelector("[data-chat-duty]");
  form.querySelector("[data-chat-duty-save]").hidden = true;
  socket.on("chat.duty", (message) => { input.checked = message.on; });
  input.addEventListener("change", () => {
    if (!socket.send({ type: "chat.duty", on: input.checked })) form.submit();
  });
}

function bindList(section) {
  const rows = section.querySelector("[data-chat-visitor-rows]");
  const url = section.dataset.chatVisitorUrl.replace(/0$/, "");
  socket.on("chat.message", (message) => {
    if (!message.visitor) return;
    let row = rows.querySelector(`[data-conversation="${message.conversation}"]`);
    if (!row) {
      row = document.createElement("tr");
      row.dataset.conversation = message.conversation;
      const link = document.createElement("a");
      link.href = url + message.conversation;
      link.textContent = message.visitor;
      const badge = document.createElement("span");
      badge.className = "badge";
      badge.dataset.unread = "";
      badge.textContent = "0";
      row.append(...[link, document.createElement("time"), badge].map((child) => {
        const cell = document.createElement("td");
        cell.append(child);
        return cell;
      }));
      section.querySelector("table").hidden = false;
      section.querySelector("[data-chat-no-visitors]").hidden = true;
    }
    rows.prepend(row);
    const time = row.querySelector("time");
    time.dateTime = message.at;
    time.textContent = new Date(message.at).toLocaleString([], { dateStyle: "short", timeStyle: "short" });
    if (message.author === "visitor") {
      const badge = row.querySelector("[data-unread]");
      badge.textContent = String(Number(badge.textContent) + 1);
      badge.hidden = false;
    }
  });
}

function bindConversation(panel) {
  const id = Number(panel.dataset.chatVisitor);
  const form = panel.querySelector("[data-chat-form]");
  const error = panel.querySelector("[data-chat-error]");
  const log = new MessageLog(panel.querySelector(".chat-history"), panel.dataset.chatEmpty);
  socket.on("chat.message", (message) => {
    if (message.conversation !== id) return;
    error.hidden = true;
    log.add(message);
    if (message.author === "visitor") socket.send({ type: "chat.visitor.read", conversation: id });
  });
  socket.on("error", (message) => {
    error.textContent = message.message;
    error.hidden = false;
  });
  form.addEventListener("submit", (event) => {
    if (!socket.connected) return; // the plain form posts instead
    event.preventDefault();
    const text = form.elements.text.value.trim();
    if (text && socket.send({ type: "chat.visitor.answer", conversation: id, text })) {
      form.elements.text.value = "";
    }
  });
}

const dutyForm = document.querySelector("[data-chat-duty-form]");
if (dutyForm) bindDuty(dutyForm);
const list = document.querySelector("[data-chat-visitors]");
if (list) bindList(list);
const panel = document.querySelector("[data-chat-visitor]");
if (panel) bindConversation(panel);
socket.connect();
