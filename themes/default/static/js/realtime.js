// The websocket to the organisation's realtime endpoint (docs/realtime.md):
// says hello for its role, answers the server's heartbeat, reconnects with
// backoff, and hands every message to the handlers registered for its type.
// A page has one: pageSocket() makes it and shows it to plugin scripts as
// window.consultroom.socket (docs/plugins.md, "The page's socket").

// The server pings every 20 s; this long without any message means the
// connection is dead even if the browser has not noticed.
const SILENCE_MS = 50000;
const FIRST_RETRY_MS = 500;
const MAX_RETRY_MS = 15000;
// Closed on purpose by the server: reconnecting would not help.
const FINAL_CLOSE_CODES = new Set([4401, 4403, 4409]);

export function readJSON(id) {
  const element = document.getElementById(id);
  return element ? JSON.parse(element.textContent) : null;
}

export class Realtime {
  constructor(config) {
    this.config = config;
    this.handlers = new Map();
    this.socket = null;
    this.retryMs = FIRST_RETRY_MS;
    this.silenceTimer = null;
    this.stopped = false;
    this.peer = null;
  }

  on(type, handler) {
    if (!this.handlers.has(type)) this.handlers.set(type, []);
    this.handlers.get(type).push(handler);
    return this;
  }

  off(type, handler) {
    const handlers = this.handlers.get(type) || [];
    const at = handlers.indexOf(handler);
    if (at >= 0) handlers.splice(at, 1);
    return this;
  }

  // One failing handler (a plugin's, say) must not keep the message from the others.
  emit(type, message) {
    for (const handler of [...(this.handlers.get(type) || [])]) {
      try {
        handler(message);
      } catch (error) {
        console.error(`handler of "${type}" failed`, error);
      }
    }
  }

  get role() {
    return this.config.hello.role;
  }

  get connected() {
    return Boolean(this.peer);
  }

  connect() {
    this.stopped = false;
    this.emit("status", { state: "connecting" });
    const url = new URL(this.config.ws, window.location.href);
    url.protocol = { "https:": "wss:", "http:": "ws:" }[url.protocol] || url.protocol;
    const socket = new WebSocket(url);
    this.socket = socket;
    socket.addEventListener("open", () => {
      socket.send(JSON.stringify(this.config.hello));
      this.watchSilence();
    });
    socket.addEventListener("message", (event) => this.receive(event.data));
    socket.addEventListener("close", (event) => this.closed(socket, event));
  }

  receive(data) {
    this.watchSilence();
    let message;
    try {
      message = JSON.parse(data);
    } catch (error) {
      return;
    }
    if (message.type === "ping") {
      this.send({ type: "pong" });
      return;
    }
    if (message.type === "welcome") {
      this.peer = message.peer;
      this.retryMs = FIRST_RETRY_MS;
      this.emit("status", { state: "online" });
    }
    this.emit(message.type, message);
  }

  send(message) {
    if (!this.socket || this.socket.readyState !== WebSocket.OPEN) return false;
    this.socket.send(JSON.stringify(message));
    return true;
  }

  watchSilence() {
    clearTimeout(this.silenceTimer);
    this.silenceTimer = setTimeout(() => this.socket && this.socket.close(), SILENCE_MS);
  }

  closed(socket, event) {
    if (socket !== this.socket) return;
    clearTimeout(this.silenceTimer);
    this.socket = null;
    this.peer = null;
    if (this.stopped || FINAL_CLOSE_CODES.has(event.code)) {
      this.emit("status", { state: "closed", code: event.code });
      return;
    }
    this.emit("status", { state: "offline", code: event.code });
    // Jitter spreads the reconnects of many pages after a server restart.
    const delay = this.retryMs * (0.75 + Math.random() / 2);
    this.retryMs = Math.min(this.retryMs * 2, MAX_RETRY_MS);
    setTimeout(() => this.stopped || this.connect(), delay);
  }

  close() {
    this.stopped = true;
    if (this.socket) this.socket.close(1000);
  }
}

// The page's one socket, made on first call, and published for plugin scripts
// as window.consultroom.socket (with the event "consultroom:socket" on the
// document for a script that ran before it existed). Its documented surface:
// on(type, fn), off(type, fn), send(message) (false while not connected),
// role, peer, connected; type "status" tells {state: connecting | online |
// offline | closed}.
export function pageSocket(config) {
  const namespace = (window.consultroom = window.consultroom || {});
  if (!namespace.socket) {
    namespace.socket = new Realtime(config);
    document.dispatchEvent(new CustomEvent("consultroom:socket", { detail: namespace.socket }));
  }
  return namespace.socket;
}

// A staff socket's waiting list (docs/realtime.md, "Staff"): the full list
// (waiting_list) changed by each waiting_delta of its sections. Each section
// numbers its deltas; a number skipped means one was missed, and the page asks
// for the full list again (resync), ignoring deltas until it comes. Listeners
// get the list in waiting_list's shape after every change.
export class WaitingList {
  constructor(realtime) {
    this.realtime = realtime;
    this.listeners = [];
    this.list = null;
    realtime.on("waiting_list", (message) => this.reset(message));
    realtime.on("waiting_delta", (message) => this.apply(message));
  }

  on(listener) {
    this.listeners.push(listener);
    return this;
  }

  reset(message) {
    this.list = {
      ...message,
      entries: new Map(message.entries.map((entry) => [entry.id, entry])),
      seq: { ...(message.seq || {}) },
      upcoming: [...(message.upcoming || [])],
    };
    this.tell();
  }

  apply(delta) {
    const list = this.list;
    if (!list || !(delta.section in list.seq) || delta.seq <= list.seq[delta.section]) return;
    if (delta.seq !== list.seq[delta.section] + 1) {
      this.list = null;
      this.realtime.send({ type: "resync" });
      return;
    }
    list.seq[delta.section] = delta.seq;
    if (delta.op === "remove") {
      const gone = list.entries.get(delta.id);
      list.entries.delete(delta.id);
      list.upcoming = list.upcoming.filter((u) => u.appointment_id !== delta.appointment_id);
      // A client who went away is expected again: back among the appointments
      // to force start (sorted by time, as the server sends them).
      if (delta.left && gone && list.force_start) {
        list.upcoming.push({ appointment_id: gone.appointment_id, name: gone.name,
          starts_at: gone.starts_at });
        list.upcoming.sort((a, b) => (a.starts_at || "").localeCompare(b.starts_at || ""));
      }
    } else {
      list.entries.set(delta.entry.id, delta.entry);
    }
    this.tell();
  }

  // The list as the server's waiting_list would have it: by arrival.
  current() {
    const entries = [...this.list.entries.values()].sort((a, b) =>
      (a.arrived_at || "").localeCompare(b.arrived_at || "") || a.id - b.id);
    const waiting = new Set(entries.map((entry) => entry.appointment_id));
    return {
      ...this.list,
      entries,
      count: entries.length,
      upcoming: this.list.upcoming.filter((u) => !waiting.has(u.appointment_id)),
    };
  }

  tell() {
    const current = this.current();
    for (const listener of this.listeners) listener(current);
  }
}

// The organisation's local time of a UTC instant, in the page's language as
// written in the organisation's region (<html data-locale>): the same
// "short" time the server renders with Babel.
export function localTime(iso, config) {
  if (!iso) return "";
  return new Intl.DateTimeFormat(document.documentElement.dataset.locale || undefined, {
    timeStyle: "short", timeZone: config.timezone,
  }).format(new Date(iso));
}

// Fills "{name}" placeholders in a translated string from the template.
export function format(text, values) {
  return text.replace(/\{(\w+)\}/g, (whole, key) => (key in values ? values[key] : whole));
}

// Shows the connection state in an element with data-status-* texts.
export function showStatus(realtime, element) {
  if (!element) return;
  realtime.on("status", ({ state }) => {
    element.dataset.state = state;
    element.textContent = element.dataset[`status${state[0].toUpperCase()}${state.slice(1)}`] || "";
  });
}

// The number on the waiting-room entry of the main menu, which the server
// renders as "Waiting room (2)"; staff pages keep it live.
export function showWaitingCount(config, count) {
  const link = document.querySelector(`nav.menu a[href$="${config.waiting_url}"]`);
  if (!link) return;
  const label = link.textContent.replace(/\s*\(\d+\)\s*$/, "");
  link.textContent = count ? `${label} (${count})` : label;
}

// A listener for WaitingList that rings `audio` when a client appears who
// was not in the list before (not for the first list a page gets, so not on
// a reload or reconnect either), unless the organisation switched the sound
// off. Returns whether someone arrived.
export function doorbell(audio, config) {
  let seen = null;
  return (list) => {
    const ids = new Set(list.entries.map((entry) => String(entry.id)));
    const arrived = Boolean(seen) && [...ids].some((id) => !seen.has(id));
    seen = ids;
    if (arrived && audio && list.audio_alarm !== false && config.audio_alarm !== false) {
      audio.currentTime = 0;
      audio.play().catch(() => {
        // Browsers refuse sound before the user has touched the page.
      });
    }
    return arrived;
  };
}

// A live waiting-count badge, kept by a WaitingList: `link` (with its
// [data-waiting-count] number) shows the count, `announce` (a live region)
// says it to screen readers, and `audio` (or null) is the doorbell rung when
// someone arrives. Used on the room's bar and in the staff shell's header.
// `strings`: waiting_none, waiting_one, waiting_many ({count}), arrived ({waiting}).
export function waitingBadge(link, announce, audio, config, strings) {
  const number = link.querySelector("[data-waiting-count]");
  const ring = doorbell(audio, config);
  return (list) => {
    const count = list.count;
    const text = count === 0 ? strings.waiting_none
      : count === 1 ? strings.waiting_one : format(strings.waiting_many, { count });
    number.textContent = String(count);
    link.dataset.waiting = String(count);
    link.title = text;
    link.setAttribute("aria-label", text);
    const said = ring(list) ? format(strings.arrived, { waiting: text }) : text;
    if (announce.textContent !== said) announce.textContent = said;
  };
}

// The staff member's "available for walk-in clients" switch: sent on change,
// set from the server's state (also when changed in another tab).
export function bindWalkInSwitch(realtime, input) {
  if (!input) return;
  const set = (on) => {
    if (typeof on === "boolean") input.checked = on;
  };
  realtime.on("walk_in", (message) => set(message.on));
  realtime.on("waiting_list", (message) => set(message.walk_in_available));
  input.addEventListener("change", () => {
    const sent = realtime.send({ type: "walk_in_available", on: input.checked });
    if (!sent) input.checked = !input.checked;
  });
}
