// The walk-in widget's list, live: the page's socket (role walk_in,
// docs/realtime.md "Walk-in widget") sends walk_in_list whenever who is
// offered or busy changes, and the lists the server rendered are filled
// again from it. Without the socket the page still works as rendered.
import { pageSocket, readJSON } from "/static/js/realtime.js";

const root = document.querySelector("[data-walk-in]");
const availableList = root.querySelector("[data-available]");
const busyList = root.querySelector("[data-busy]");

function item(person, linked) {
  const li = document.createElement("li");
  if (linked) {
    const link = document.createElement("a");
    link.className = "button primary";
    link.href = person.url;
    link.textContent = person.name;
    li.append(link);
  } else {
    li.textContent = person.name;
  }
  return li;
}

function show(message) {
  availableList.replaceChildren(...message.available.map((p) => item(p, true)));
  busyList.replaceChildren(...message.busy.map((p) => item(p, false)));
  root.querySelector("[data-available-section]").hidden = message.available.length === 0;
  root.querySelector("[data-busy-section]").hidden = message.busy.length === 0;
  root.querySelector("[data-absence]").hidden = message.available.length + message.busy.length > 0;
  root.dataset.live = "true"; // the list now follows the server (tests wait for it)
}

const socket = pageSocket(readJSON("realtime-config"));
socket.on("walk_in_list", show);
socket.connect();
