// Chat's messages in a page, shared by the room's tab (chat.js) and the staff
// waiting list (waiting.js). A message becomes DOM nodes: its text as text and
// its http(s) links as links that open elsewhere, never parsed as HTML.
// The server relays a message before it stores it: one it could not store is
// retracted (chat.retract, by its key) and removed here, and its sender gets
// the error not_sent with the text, which goes back into the form.
const LINK = /\bhttps?:\/\/[^\s<>"']+/gi;
const TRAILING = /[.,;:!?)\]}]+$/;

function textWithLinks(text) {
  const nodes = [];
  let start = 0;
  for (const match of text.matchAll(LINK)) {
    const url = match[0].replace(TRAILING, "");
    nodes.push(document.createTextNode(text.slice(start, match.index)));
    const link = document.createElement("a");
    link.href = url;
    link.rel = "noopener noreferrer nofollow";
    link.target = "_blank";
    link.textContent = url;
    nodes.push(link);
    start = match.index + url.length;
  }
  nodes.push(document.createTextNode(text.slice(start)));
  return nodes;
}

function messageItem(message) {
  const item = document.createElement("li");
  item.className = `chat-message chat-${message.author}`;
  if (message.key) item.dataset.key = message.key;
  const meta = document.createElement("p");
  meta.className = "chat-meta";
  const name = document.createElement("strong");
  name.textContent = message.name;
  const time = document.createElement("time");
  time.dateTime = message.at;
  time.textContent = new Date(message.at).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  meta.append(name, " ", time);
  const text = document.createElement("p");
  text.className = "chat-text";
  text.append(...textWithLinks(message.text));
  item.append(meta, text);
  return item;
}

export class MessageLog {
  constructor(list, emptyText) {
    this.list = list;
    this.emptyText = emptyText;
  }

  show(messages) {
    this.list.replaceChildren(...messages.map(messageItem));
    if (!messages.length) {
      const empty = document.createElement("li");
      empty.className = "chat-empty";
      empty.textContent = this.emptyText;
      this.list.append(empty);
    }
  }

  add(message) {
    this.list.querySelector(".chat-empty")?.remove();
    this.list.append(messageItem(message));
    this.list.lastElementChild.scrollIntoView({ block: "nearest" });
  }

  // A retracted message goes (a later history shows what was stored).
  remove(key) {
    for (const item of this.list.querySelectorAll(".chat-message")) {
      if (item.dataset.key === key) item.remove();
    }
  }
}

function errorOf(form) {
  return form.querySelector("[data-chat-error]");
}

// The sender's message could not be stored (the error not_sent): its text
// goes back into the form, unless something else was written meanwhile, and
// the form says why.
export function giveBack(form, message) {
  const box = form.elements.text;
  if (!box.value.trim()) box.value = message.text || "";
  const error = errorOf(form);
  error.textContent = message.message;
  error.hidden = false;
  box.focus();
}

// Sends the form's text with send(text); the text stays when it could not go.
export function bindForm(form, send) {
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = form.elements.text.value.trim();
    errorOf(form).hidden = true;
    if (text && send(text)) form.reset();
  });
}
