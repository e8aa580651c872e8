// The consultation room: a WebRTC mesh of up to six peers signalled over
// the realtime websocket (docs/realtime.md), the camera and microphone check,
// the room's controls, side panel and file sharing, and for staff the live
// count of waiting clients with its doorbell. The staff and guest room page
// (templates/room/room.html) starts itself from here; the client's waiting
// page (waiting.js) uses the same Room once the client is admitted.
import {
  WaitingList, bindWalkInSwitch, format, pageSocket, readJSON, showStatus, showWaitingCount,
  waitingBadge,
} from "./realtime.js";
import { showLevel } from "./level.js";

const STORED_DEVICE = { videoinput: "consultroom.camera", audioinput: "consultroom.microphone" };
const RESOLUTIONS = { "360": [640, 360], "720": [1280, 720], "1080": [1920, 1080] };

function storedDevice(kind) {
  try {
    return localStorage.getItem(STORED_DEVICE[kind]) || "";
  } catch (error) {
    return "";
  }
}

function storeDevice(kind, id) {
  try {
    localStorage.setItem(STORED_DEVICE[kind], id);
  } catch (error) {
    // Private browsing: the choice lasts for this page only.
  }
}

function constraint(kind) {
  const id = storedDevice(kind);
  return id ? { deviceId: { exact: id } } : true;
}

// Camera and microphone, falling back to whichever of them works.
export async function openMedia() {
  const attempts = [
    { video: constraint("videoinput"), audio: constraint("audioinput") },
    { video: true, audio: true },
    { audio: true },
    { video: true },
  ];
  let lastError = null;
  for (const wanted of attempts) {
    try {
      return await navigator.mediaDevices.getUserMedia(wanted);
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError;
}

// Preview, device choice and microphone level meter, inside `root`
// (templates/room/_devices.html).
export class DeviceCheck {
  constructor(root) {
    this.root = root;
    this.preview = root.querySelector("[data-preview]");
    this.level = root.querySelector("[data-level]");
    this.error = root.querySelector("[data-device-error]");
    this.selects = {
      videoinput: root.querySelector("[data-device=videoinput]"),
      audioinput: root.querySelector("[data-device=audioinput]"),
    };
    this.stream = null;
    this.endMeter = null;
    for (const [kind, select] of Object.entries(this.selects)) {
      select.addEventListener("change", () => {
        storeDevice(kind, select.value);
        this.start();
      });
    }
  }

  async start() {
    const old = this.stream;
    try {
      if (old) old.getTracks().forEach((track) => track.stop());
      this.stream = await openMedia();
      this.error.hidden = true;
    } catch (error) {
      this.stream = null;
      this.error.hidden = false;
    }
    this.preview.srcObject = this.stream;
    await this.listDevices();
    this.meter();
    return this.stream;
  }

  async listDevices() {
    const devices = await navigator.mediaDevices.enumerateDevices();
    const inUse = {};
    for (const track of this.stream ? this.stream.getTracks() : []) {
      inUse[track.kind === "video" ? "videoinput" : "audioinput"] = track.getSettings().deviceId;
    }
    for (const [kind, select] of Object.entries(this.selects)) {
      select.replaceChildren(...devices.filter((d) => d.kind === kind).map((device, i) => {
        const label = device.label || `${select.dataset.unnamed} ${i + 1}`;
        const option = new Option(label, device.deviceId);
        option.selected = device.deviceId === inUse[kind];
        return option;
      }));
    }
  }

  meter() {
    this.stopMeter();
    const track = this.stream && this.stream.getAudioTracks()[0];
    if (track && this.level) this.endMeter = showLevel(track, this.level);
  }

  stopMeter() {
    if (this.endMeter) this.endMeter();
    this.endMeter = null;
  }

  // Hands the stream over (to the room) without stopping it.
  release() {
    this.stopMeter();
    this.preview.srcObject = null;
    const stream = this.stream;
    this.stream = null;
    return stream;
  }

  stop() {
    const stream = this.release();
    if (stream) stream.getTracks().forEach((track) => track.stop());
  }
}

function clockText(locale) {
  const formatter = new Intl.DateTimeFormat(locale, { hour: "2-digit", minute: "2-digit" });
  return () => formatter.format(new Date());
}

function durationText(ms) {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  const pad = (n) => String(n).padStart(2, "0");
  const hours = Math.floor(seconds / 3600);
  const rest = `${pad(Math.floor((seconds % 3600) / 60))}:${pad(seconds % 60)}`;
  return hours ? `${hours}:${rest}` : rest;
}

function humanSize(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(0)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

// One remote participant: its connection and its tile.
class Peer {
  constructor(room, info) {
    this.room = room;
    this.id = info.peer;
    this.name = info.name || "";
    // Perfect negotiation: the ordering of the ids decides who yields on glare.
    this.polite = room.self < info.peer;
    this.makingOffer = false;
    this.ignoreOffer = false;
    this.sending = false;
    this.stream = new MediaStream();
    this.tile = room.makeTile(this);
    this.pc = new RTCPeerConnection({
      iceServers: room.iceServers,
      iceTransportPolicy: room.iceTransportPolicy,
    });
    this.pc.addEventListener("icecandidate", ({ candidate }) => {
      if (candidate) this.send({ candidate });
    });
    this.pc.addEventListener("track", ({ track }) => {
      this.stream.addTrack(track);
      this.tile.video.srcObject = this.stream;
    });
    this.pc.addEventListener("negotiationneeded", () => this.offer());
    this.pc.addEventListener("connectionstatechange", () => {
      this.tile.root.dataset.state = this.pc.connectionState;
      if (this.pc.connectionState !== "failed") return;
      // Told once per peer, for the usage report's connection problems.
      if (this.restarted) this.room.realtime.send({ type: "problem", kind: "ice_failed" });
      this.restarted = true;
      this.pc.restartIce();
    });
  }

  send(data) {
    this.room.realtime.send({ type: "signal", to: this.id, data });
  }

  // The newcomer sends; the others start sending when the offer arrives.
  startSending() {
    if (this.sending) return;
    this.sending = true;
    const stream = this.room.localStream;
    for (const kind of ["audio", "video"]) {
      const track = this.room.outgoing(kind);
      const existing = this.pc.getTransceivers().find(
        (t) => t.receiver.track.kind === kind && !t.sender.track && t.direction !== "stopped");
      if (existing) {
        existing.direction = "sendrecv";
        if (track) existing.sender.replaceTrack(track);
        if (stream) existing.sender.setStreams(stream);
      } else {
        const streams = stream ? [stream] : [];
        this.pc.addTransceiver(track || kind, { direction: "sendrecv", streams });
      }
    }
  }

  async offer() {
    try {
      this.makingOffer = true;
      await this.pc.setLocalDescription();
      this.send({ sdp: this.pc.localDescription });
    } catch (error) {
      console.warn("offer failed", error);
    } finally {
      this.makingOffer = false;
    }
  }

  async receive(data) {
    const pc = this.pc;
    if (data.sdp) {
      const collision = data.sdp.type === "offer"
        && (this.makingOffer || pc.signalingState !== "stable");
      this.ignoreOffer = !this.polite && collision;
      if (this.ignoreOffer) return;
      await pc.setRemoteDescription(data.sdp);
      if (data.sdp.type === "offer") {
        this.startSending();
        await pc.setLocalDescription();
        this.send({ sdp: pc.localDescription });
      }
    } else if (data.candidate) {
      try {
        await pc.addIceCandidate(data.candidate);
      } catch (error) {
        if (!this.ignoreOffer) console.warn("candidate refused", error);
      }
    }
  }

  named(name) {
    this.name = name || "";
    this.tile.root.querySelector("figcaption").textContent = this.name;
  }

  replace(kind, track) {
    for (const transceiver of this.pc.getTransceivers()) {
      if (transceiver.receiver.track.kind === kind && transceiver.direction === "sendrecv") {
        transceiver.sender.replaceTrack(track);
      }
    }
  }

  close() {
    this.pc.close();
    this.tile.root.remove();
  }
}

// The room's side panel (templates/room/_room.html): tabs for files,
// participants and the plugins' tabs, opened at a tab by the toolbar's
// buttons; the tabs follow the ARIA tabs pattern (arrow keys, Home, End).
class SidePanel {
  constructor(root) {
    this.root = root;
    this.panel = root.querySelector("[data-room-panel]");
    this.tabs = [...this.panel.querySelectorAll("[role=tab]")];
    this.toggles = [...root.querySelectorAll("[data-panel-tab]")];
    this.current = null;
    this.listeners = [];
    for (const tab of this.tabs) {
      tab.addEventListener("click", () => this.show(tab.dataset.roomTab));
      tab.addEventListener("keydown", (event) => this.moveFocus(event, tab));
    }
    for (const toggle of this.toggles) {
      toggle.addEventListener("click", () => this.toggle(toggle.dataset.panelTab));
    }
    this.panel.querySelector("[data-action=close-panel]")
      .addEventListener("click", () => this.close(true));
    this.panel.addEventListener("keydown", (event) => {
      if (event.key === "Escape") this.close(true);
    });
  }

  get isOpen() {
    return !this.panel.hidden;
  }

  // Whether tab `name` is what the panel shows now.
  showing(name) {
    return this.isOpen && this.current === name;
  }

  show(name, focus = false) {
    this.panel.hidden = false;
    this.current = name;
    for (const tab of this.tabs) {
      const selected = tab.dataset.roomTab === name;
      tab.setAttribute("aria-selected", String(selected));
      tab.tabIndex = selected ? 0 : -1;
      if (selected && focus) tab.focus();
    }
    for (const section of this.panel.querySelectorAll("[data-room-tab-panel]")) {
      section.hidden = section.dataset.roomTabPanel !== name;
    }
    this.syncToggles();
    for (const listener of this.listeners) listener(name);
  }

  toggle(name) {
    if (this.showing(name)) this.close();
    else this.show(name, true);
  }

  close(returnFocus = false) {
    if (!this.isOpen) return;
    const toggle = this.toggles.find((t) => t.dataset.panelTab === this.current && !t.hidden);
    this.panel.hidden = true;
    this.syncToggles();
    if (returnFocus && toggle) toggle.focus();
  }

  hideTab(name, hidden) {
    for (const element of [...this.tabs, ...this.toggles]) {
      if ((element.dataset.roomTab || element.dataset.panelTab) === name) element.hidden = hidden;
    }
    if (hidden && this.current === name) this.close();
  }

  syncToggles() {
    for (const toggle of this.toggles) {
      toggle.setAttribute("aria-expanded", String(this.showing(toggle.dataset.panelTab)));
    }
  }

  moveFocus(event, tab) {
    const tabs = this.tabs.filter((t) => !t.hidden);
    const at = tabs.indexOf(tab);
    const next = { ArrowRight: at + 1, ArrowLeft: at - 1, Home: 0, End: tabs.length - 1 }[event.key];
    if (next === undefined) return;
    event.preventDefault();
    this.show(tabs[(next + tabs.length) % tabs.length].dataset.roomTab, true);
  }
}

// "More" on narrow screens: the secondary controls (full screen, devices,
// add participant…) open above the toolbar; on wide screens they are inline.
function bindMoreMenu(root) {
  const toggle = root.querySelector("[data-action=more]");
  const menu = root.querySelector("[data-room-more]");
  const set = (open) => {
    menu.toggleAttribute("data-open", open);
    toggle.setAttribute("aria-expanded", String(open));
  };
  toggle.addEventListener("click", () => set(!menu.hasAttribute("data-open")));
  menu.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      set(false);
      toggle.focus();
    }
  });
  document.addEventListener("click", (event) => {
    if (!menu.contains(event.target) && !toggle.contains(event.target)) set(false);
  });
}

// The room UI in `root` (templates/room/_room.html).
export class Room {
  constructor(root, realtime, config) {
    this.root = root;
    this.realtime = realtime;
    this.config = config;
    this.strings = readJSON("room-strings");
    this.peers = new Map();
    this.localStream = null;
    this.screenTrack = null;
    // A background effect's processed camera picture (effects.js), sent instead.
    this.effectTrack = null;
    this.id = null;
    this.self = null;
    this.iceServers = [];
    this.iceTransportPolicy = "all";
    this.files = new Map();
    this.timers = [];
    this.el = (name) => root.querySelector(`[data-${name}]`);
    this.tiles = this.el("tiles");
    this.selfVideo = this.el("self");
    this.panel = new SidePanel(root);
    this.unseenFiles = 0;
    this.panel.listeners.push((tab) => tab === "files" && this.filesSeen());
    this.bindControls();
    bindMoreMenu(root);
    realtime.on("signal", (m) => this.signal(m));
    realtime.on("peer_joined", (m) => this.peerJoined(m));
    realtime.on("peer_left", (m) => this.removePeer(m.peer));
    realtime.on("file", (m) => this.fileArrived(m));
    realtime.on("status", ({ state }) => {
      // A new socket is a new peer: the server announces it afresh.
      if (state !== "online") this.disconnectPeers();
    });
    // For the room's own extras (effects.js), loaded after this module.
    (window.consultroom = window.consultroom || {}).room = this;
  }

  setStream(stream) {
    const previous = this.localStream;
    this.localStream = stream;
    this.selfVideo.srcObject = stream;
    for (const kind of ["audio", "video"]) {
      const track = this.outgoing(kind);
      for (const peer of this.peers.values()) peer.replace(kind, track);
    }
    if (previous && previous !== stream) {
      previous.getTracks().forEach((track) => track.stop());
    }
    this.syncButtons();
    document.dispatchEvent(new CustomEvent("consultroom:camera", { detail: stream }));
    if (this.effectTrack) this.showSelf();
  }

  // `track` (null: none) replaces the camera's picture, for the others and
  // in the self-view.
  setVideoEffect(track) {
    this.effectTrack = track;
    this.showSelf();
    this.outgoingChanged("video");
  }

  showSelf() {
    if (this.screenTrack) return;
    this.selfVideo.srcObject = this.effectTrack
      ? new MediaStream([this.effectTrack]) : this.localStream;
  }

  track(kind) {
    return this.localStream && (kind === "audio" ? this.localStream.getAudioTracks()[0]
      : this.localStream.getVideoTracks()[0]) || null;
  }

  outgoing(kind) {
    if (kind !== "video") return this.track(kind);
    return this.screenTrack || (this.localStream && this.effectTrack) || this.track(kind);
  }

  // `message` is "room" (staff, guests) or "admitted" (client).
  enter(message) {
    this.disconnectPeers();
    this.id = message.room;
    this.self = message.peer || this.realtime.peer;
    this.iceServers = message.ice_servers || [];
    // "relay" only under the installation's turn.relay_only (docs/realtime.md).
    this.iceTransportPolicy = message.ice_transport_policy === "relay" ? "relay" : "all";
    this.applySettings(message.settings || {});
    this.root.hidden = false;
    this.announce(this.strings.entered);
    // idle.js keeps a staff session alive while a consultation runs.
    document.body.dataset.inConsultation = "true";
    this.startClock(message.started_at ? Date.parse(message.started_at) : Date.now());
    this.files.clear();
    this.el("files").replaceChildren();
    for (const file of message.files || []) this.addFile(file);
    for (const info of message.peers || []) {
      const peer = this.addPeer(info);
      peer.startSending();
    }
    this.showAlone();
  }

  leave() {
    this.disconnectPeers();
    this.stopSharing();
    this.timers.forEach(clearInterval);
    this.timers = [];
    this.root.hidden = true;
    this.id = null;
    delete document.body.dataset.inConsultation;
  }

  stopMedia() {
    if (this.localStream) this.localStream.getTracks().forEach((track) => track.stop());
    this.localStream = null;
  }

  disconnectPeers() {
    for (const peer of this.peers.values()) peer.close();
    this.peers.clear();
    this.showAlone();
  }

  addPeer(info) {
    const peer = new Peer(this, info);
    this.peers.set(peer.id, peer);
    this.showAlone();
    return peer;
  }

  peerJoined(message) {
    if (!this.id || message.peer === this.self) return;
    // Its offer may have come first (another channel): only the name is new.
    const existing = this.peers.get(message.peer);
    if (existing) {
      existing.named(message.name);
      this.showParticipants();
    } else {
      this.addPeer(message);
      if (message.name) this.announce(format(this.strings.joined, { name: message.name }));
    }
  }

  removePeer(id) {
    const peer = this.peers.get(id);
    if (!peer) return;
    if (peer.name) this.announce(format(this.strings.left, { name: peer.name }));
    peer.close();
    this.peers.delete(id);
    this.showAlone();
  }

  // The participants tab: this person first, then the others as they come.
  showParticipants() {
    const you = format(this.strings.you, { name: this.root.dataset.selfName || "" });
    const names = [you, ...[...this.peers.values()].map((peer) => peer.name)];
    this.el("participants").replaceChildren(...names.filter(Boolean).map((name) => {
      const item = document.createElement("li");
      item.textContent = name;
      return item;
    }));
  }

  async signal(message) {
    if (!this.id) return;
    const peer = this.peers.get(message.from) || this.addPeer({ peer: message.from });
    try {
      await peer.receive(message.data);
    } catch (error) {
      console.warn("signal failed", error);
    }
  }

  makeTile(peer) {
    const root = document.createElement("figure");
    root.className = "room-tile";
    const video = document.createElement("video");
    video.autoplay = true;
    video.playsInline = true;
    const caption = document.createElement("figcaption");
    caption.textContent = peer.name;
    root.append(video, caption);
    this.tiles.append(root);
    return { root, video };
  }

  // Said by screen readers (the room's live region): who came and went, and
  // that the room is open. Set a moment after it is emptied, so that a
  // region just shown, or the same words twice, are still read out.
  announce(text) {
    const region = this.el("room-announce");
    region.textContent = "";
    setTimeout(() => { region.textContent = text; }, 150);
  }

  showAlone() {
    this.el("alone").hidden = this.peers.size > 0;
    this.root.dataset.peers = String(this.peers.size);
    this.showParticipants();
  }

  applySettings(settings) {
    this.settings = settings;
    this.root.classList.toggle("fit-contain", settings.video_fit === "contain");
    const canShare = Boolean(navigator.mediaDevices.getDisplayMedia);
    this.el("action=screen").hidden = !(settings.screen_sharing && canShare);
    this.el("resolution").hidden = !settings.allow_resolution_change;
    this.panel.hideTab("files", !settings.file_sharing);
    this.el("action=pip").hidden = !document.pictureInPictureEnabled;
  }

  startClock(startedAt) {
    this.timers.forEach(clearInterval);
    const clock = clockText(document.documentElement.dataset.locale || undefined);
    const tick = () => {
      this.el("clock").textContent = clock();
      this.el("timer").textContent = durationText(Date.now() - startedAt);
    };
    tick();
    this.timers = [setInterval(tick, 1000)];
  }

  bindControls() {
    const on = (name, handler) => {
      const button = this.el(`action=${name}`);
      if (button) button.addEventListener("click", handler);
    };
    on("microphone", () => this.toggle("audio"));
    on("camera", () => this.toggle("video"));
    on("screen", () => (this.screenTrack ? this.stopSharing() : this.share()));
    on("fullscreen", () => this.fullscreen());
    on("pip", () => this.pictureInPicture());
    this.el("resolution").addEventListener("change", (e) => this.resolution(e.target.value));
    this.el("upload").addEventListener("submit", (event) => {
      event.preventDefault();
      this.upload(event.target);
    });
  }

  toggle(kind) {
    const track = this.track(kind);
    if (track) track.enabled = !track.enabled;
    this.syncButtons();
  }

  syncButtons() {
    for (const [kind, name] of [["audio", "microphone"], ["video", "camera"]]) {
      const button = this.el(`action=${name}`);
      const track = this.track(kind);
      const off = !track || !track.enabled;
      button.setAttribute("aria-pressed", String(off));
      button.textContent = this.strings[`${name}_${off ? "on" : "off"}`];
      button.disabled = !track;
    }
    const screen = this.el("action=screen");
    screen.setAttribute("aria-pressed", String(Boolean(this.screenTrack)));
    screen.textContent = this.strings[this.screenTrack ? "stop_sharing" : "share_screen"];
  }

  async share() {
    let stream;
    try {
      stream = await navigator.mediaDevices.getDisplayMedia({ video: true, audio: false });
    } catch (error) {
      return; // the user cancelled the choice
    }
    this.screenTrack = stream.getVideoTracks()[0];
    // Keep text sharp: lower the frame rate rather than the resolution.
    this.screenTrack.contentHint = "detail";
    this.screenTrack.addEventListener("ended", () => this.stopSharing());
    this.outgoingChanged("video");
    this.selfVideo.srcObject = stream;
    this.selfVideo.classList.add("sharing");
  }

  stopSharing() {
    if (!this.screenTrack) return;
    this.screenTrack.stop();
    this.screenTrack = null;
    this.outgoingChanged("video");
    this.showSelf();
    this.selfVideo.classList.remove("sharing");
  }

  outgoingChanged(kind) {
    const track = this.outgoing(kind);
    for (const peer of this.peers.values()) peer.replace(kind, track);
    this.syncButtons();
  }

  fullscreen() {
    if (document.fullscreenElement) document.exitFullscreen();
    else this.root.requestFullscreen().catch(() => {});
  }

  pictureInPicture() {
    if (document.pictureInPictureElement) {
      document.exitPictureInPicture();
      return;
    }
    const remote = this.tiles.querySelector("video");
    (remote || this.selfVideo).requestPictureInPicture().catch(() => {});
  }

  resolution(value) {
    const track = this.track("video");
    const size = RESOLUTIONS[value];
    if (!track || !size) return;
    const [width, height] = size;
    track.applyConstraints({ width: { ideal: width }, height: { ideal: height } }).catch(() => {});
  }

  // Members other than staff authenticate with their token, not a cookie.
  authHeaders() {
    const headers = { "X-Room-Peer": this.realtime.peer || "" };
    if (this.config.csrf) headers["X-CSRF-Token"] = this.config.csrf;
    if (this.config.hello.token) headers["X-Room-Token"] = this.config.hello.token;
    return headers;
  }

  async upload(form) {
    const input = form.querySelector("input[type=file]");
    const status = this.el("upload-status");
    if (!input.files.length) return;
    const body = new FormData();
    body.append("file", input.files[0]);
    status.textContent = this.strings.uploading;
    let answer;
    try {
      const response = await fetch(`/room/${encodeURIComponent(this.id)}/files`, {
        method: "POST", body, headers: this.authHeaders(), credentials: "same-origin",
      });
      answer = await response.json().catch(() => ({ error: this.strings.upload_failed }));
      if (!response.ok) throw new Error(answer.error || this.strings.upload_failed);
    } catch (error) {
      status.textContent = error.message || this.strings.upload_failed;
      return;
    }
    status.textContent = "";
    form.reset();
    this.addFile(answer);
  }

  // A file someone else shared: counted on the Files button and announced
  // unless the files tab is open.
  fileArrived(file) {
    if (this.files.has(file.id)) return;
    this.addFile(file);
    if (this.panel.showing("files")) return;
    this.unseenFiles += 1;
    const badge = this.el("files-unseen");
    badge.textContent = String(this.unseenFiles);
    badge.hidden = false;
    this.announce(format(this.strings.file_shared, { file: file.name }));
  }

  filesSeen() {
    this.unseenFiles = 0;
    this.el("files-unseen").hidden = true;
  }

  addFile(file) {
    if (this.files.has(file.id)) return;
    this.files.set(file.id, file);
    const token = this.config.hello.token;
    const link = document.createElement("a");
    link.href = token ? `${file.url}?token=${encodeURIComponent(token)}` : file.url;
    link.download = file.name;
    link.textContent = file.name;
    const size = document.createElement("span");
    size.className = "help";
    size.textContent = ` ${humanSize(file.size)}`;
    const item = document.createElement("li");
    item.append(link, size);
    this.el("files").append(item);
  }
}

// "Camera and microphone" during the call: the device check in a dialog,
// whose choice replaces the tracks the others receive.
export function bindSettingsDialog(page, devices, room) {
  const dialog = page.querySelector("[data-settings-dialog]");
  page.querySelector("[data-action=settings]").addEventListener("click", () => {
    dialog.prepend(devices.root);
    devices.root.hidden = false;
    devices.start();
    dialog.showModal();
  });
  dialog.querySelector("[data-action=apply]").addEventListener("click", () => {
    room.setStream(devices.release());
    dialog.close();
  });
  // Closed without applying: the preview's camera is not needed any more.
  dialog.addEventListener("close", () => devices.stop());
}

// Add participant (staff): an external participant or a quick invite.
function bindInvite(root, config, strings) {
  const dialog = root.querySelector("[data-invite-dialog]");
  const open = root.querySelector("[data-action=invite]");
  if (!dialog || !open) return;
  const status = dialog.querySelector("[data-invite-status]");
  open.addEventListener("click", () => {
    status.textContent = "";
    dialog.showModal();
  });
  dialog.querySelector("[data-action=close]").addEventListener("click", () => dialog.close());
  for (const form of dialog.querySelectorAll("form[data-invite]")) {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const body = new FormData(form);
      body.append("csrf_token", config.csrf);
      let answer = {};
      try {
        const response = await fetch(dialog.dataset.url, {
          method: "POST", body, credentials: "same-origin",
          headers: { "X-CSRF-Token": config.csrf },
        });
        answer = await response.json().catch(() => ({}));
        if (!response.ok) throw new Error(answer.error || strings.invite_failed);
      } catch (error) {
        status.textContent = error.message || strings.invite_failed;
        return;
      }
      status.textContent = format(strings.invited, { name: answer.name || "" });
      form.reset();
    });
  }
}

// The count of waiting clients in a staff member's room, on the room's bar
// (realtime.js waitingBadge, as in the staff shell's header).
function bindWaitingCount(root, config, strings) {
  const link = root.querySelector("[data-room-waiting]");
  if (!link) return () => {};
  const announce = root.querySelector("[data-waiting-announce]");
  return waitingBadge(link, announce, root.querySelector("[data-doorbell]"), config, strings);
}

// The staff and guest room page: settings first when asked, then join.
async function startRoomPage(page) {
  const config = readJSON("realtime-config");
  const strings = readJSON("room-strings");
  const realtime = pageSocket(config);
  const room = new Room(page.querySelector("[data-room]"), realtime, config);
  showStatus(realtime, page.querySelector("[data-connection]"));
  bindWalkInSwitch(realtime, page.querySelector("[data-walk-in]"));
  bindInvite(page, config, strings);
  const devices = new DeviceCheck(page.querySelector("[data-devices]"));
  bindSettingsDialog(page, devices, room);

  realtime.on("welcome", () => {
    if (config.hello.role === "staff") realtime.send({ type: "join", room: config.room });
  });
  realtime.on("room", (message) => room.enter(message));
  const showCount = bindWaitingCount(page, config, strings);
  new WaitingList(realtime).on((list) => {
    showWaitingCount(config, list.count);
    showCount(list);
  });
  realtime.on("ended", (message) => {
    room.leave();
    room.stopMedia();
    realtime.close();
    if (config.hello.role === "staff") {
      window.location.assign(message.url || config.waiting_url);
      return;
    }
    const ended = page.querySelector("[data-ended]");
    ended.querySelector("[data-follow-up]").textContent = message.follow_up || "";
    ended.hidden = false;
  });
  realtime.on("error", (message) => {
    page.querySelector("[data-room-error]").textContent = message.message || "";
  });
  page.querySelector("[data-action=end]")?.addEventListener("click", () => {
    if (window.confirm(strings.confirm_end)) realtime.send({ type: "end", room: config.room });
  });
  page.querySelector("[data-action=send-back]")?.addEventListener("click", () => {
    realtime.send({ type: "send_back", room: config.room });
  });

  const join = (stream) => {
    page.querySelector("[data-prejoin]").hidden = true;
    room.setStream(stream);
    realtime.connect();
  };
  if (config.settings && config.settings.settings_first) {
    const prejoin = page.querySelector("[data-prejoin]");
    prejoin.querySelector("h1").after(devices.root);
    devices.root.hidden = false;
    prejoin.hidden = false;
    devices.start();
    const button = prejoin.querySelector("[data-action=join]");
    button.addEventListener("click", () => join(devices.release()));
  } else {
    let stream = null;
    try {
      stream = await openMedia();
    } catch (error) {
      page.querySelector("[data-room-error]").textContent = strings.no_media;
    }
    join(stream);
  }
}

const roomPage = document.querySelector("[data-room-page]");
if (roomPage) startRoomPage(roomPage);
