// The staff's live waiting list (templates/waitingroom/list.html), kept by
// WaitingList from the server's full list and deltas: entries
// with their arrival colour and exact time, the doorbell, the count on the
// menu, call in / notes / force start, and the walk-in availability switch.
import {
  WaitingList, bindWalkInSwitch, doorbell, format, localTime, pageSocket, readJSON, showStatus,
  showWaitingCount,
} from "./realtime.js";

const page = document.querySelector("[data-waiting-list-page]");
const config = readJSON("realtime-config");
const strings = readJSON("waiting-list-strings");
const realtime = pageSocket(config);
const entries = page.querySelector("[data-entries]");
const entryTemplate = page.querySelector("[data-entry-template]");
const ring = doorbell(page.querySelector("[data-doorbell]"), config);
const notice = page.querySelector("[data-notice]");

showStatus(realtime, page.querySelector("[data-connection]"));
bindWalkInSwitch(realtime, page.querySelector("[data-walk-in]"));

function showNotice(text) {
  notice.textContent = text;
  notice.hidden = !text;
}

function renderEntry(entry) {
  const item = entryTemplate.content.firstElementChild.cloneNode(true);
  item.dataset.visit = entry.id;
  item.dataset.appointment = entry.appointment_id;
  item.classList.add(`arrival-${entry.arrival}`);
  item.querySelector("[data-name]").textContent = entry.name;
  const time = item.querySelector("[data-time]");
  time.textContent = localTime(entry.starts_at, config);
  time.dateTime = entry.starts_at || "";
  const arrival = item.querySelector("[data-arrival]");
  arrival.textContent = arrival.dataset[entry.arrival] || "";
  item.querySelector("[data-department]").textContent = entry.department || "";
  item.querySelector("[data-offline]").hidden = entry.connected !== false;
  item.querySelector("[data-annotations]").replaceChildren(...(entry.annotations || []).map(
    (note) => {
      const badge = document.createElement("span");
      badge.className = `badge badge-${note.tone}`;
      badge.textContent = note.text;
      return badge;
    }));
  const note = item.querySelector("[data-note-form]");
  note.elements.text.value = entry.note || "";
  note.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = note.elements.text.value.replace(/\s+/g, " ").trim();
    if (realtime.send({ type: "note", visit: entry.id, text })) {
      note.querySelector("[data-note-status]").textContent = strings.note_sent;
    }
  });
  const transfer = item.querySelector("[data-transfer-form]");
  transfer.addEventListener("submit", (event) => {
    event.preventDefault();
    const to = transfer.elements.to.value;
    if (to) realtime.send({ type: "transfer", visit: entry.id, to });
  });
  const callIn = item.querySelector("[data-call-in]");
  callIn.addEventListener("click", () => {
    callIn.disabled = true;
    showNotice("");
    if (!realtime.send({ type: "call_in", visit: entry.id })) callIn.disabled = false;
  });
  return item;
}

// Re-rendering would wipe a note being typed: keep the entries that are
// unchanged and the focused one.
function showList(message) {
  const fresh = new Map(message.entries.map((entry) => [String(entry.id), entry]));
  for (const item of [...entries.children]) {
    if (!fresh.has(item.dataset.visit)) item.remove();
  }
  let previous = null;
  for (const [id, entry] of fresh) {
    const key = JSON.stringify(entry);
    let item = entries.querySelector(`[data-visit="${CSS.escape(id)}"]`);
    if (item && item.dataset.key !== key && !item.contains(document.activeElement)) {
      item.remove();
      item = null;
    }
    if (!item) {
      item = renderEntry(entry);
      item.dataset.key = key;
    }
    if (previous) previous.after(item);
    else entries.prepend(item);
    previous = item;
  }
  const count = message.count ?? message.entries.length;
  page.querySelector("[data-count]").textContent = String(count);
  page.querySelector("[data-empty]").hidden = count > 0;
  showWaitingCount(config, count);
  ring(message);
  showUpcoming(message.upcoming || []);
}

function showUpcoming(upcoming) {
  const card = page.querySelector("[data-upcoming-card]");
  if (!card) return;
  const template = page.querySelector("[data-upcoming-template]");
  card.hidden = upcoming.length === 0;
  card.querySelector("[data-upcoming]").replaceChildren(...upcoming.map((appointment) => {
    const item = template.content.firstElementChild.cloneNode(true);
    item.querySelector("[data-name]").textContent = appointment.name;
    item.querySelector("[data-time]").textContent = localTime(appointment.starts_at, config);
    const button = item.querySelector("[data-force-start]");
    button.addEventListener("click", () => {
      button.disabled = true;
      realtime.send({ type: "force_start", appointment: appointment.appointment_id });
    });
    return item;
  }));
}

new WaitingList(realtime).on(showList);
realtime.on("claimed", (message) => window.location.assign(message.url));
realtime.on("started", (message) => window.location.assign(message.url));
realtime.on("claim_lost", (message) => {
  const entry = entries.querySelector(`[data-visit="${CSS.escape(String(message.visit))}"]`);
  const button = entry && entry.querySelector("[data-call-in]");
  if (button) button.disabled = false;
  showNotice(message.by ? format(strings.claim_lost, { name: message.by }) : strings.gone);
});
realtime.on("error", (message) => {
  for (const button of page.querySelectorAll("[data-call-in], [data-force-start]")) {
    button.disabled = false;
  }
  showNotice(message.message || "");
});

realtime.connect();
