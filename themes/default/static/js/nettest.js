// The network and hardware test (templates/media/network_test.html): a
// camera and microphone preview, then ten seconds of sending them to the
// server's echo peer and back, measuring round-trip time (data-channel
// pings), bitrate in both directions and packet loss (getStats).
import { showLevel } from "./level.js";

(() => {
  const root = document.getElementById("nettest");
  if (!root) return;
  const messages = JSON.parse(document.getElementById("nettest-messages").textContent);
  const $ = (id) => document.getElementById(id);
  const TEST_SECONDS = 10;
  const CONNECT_SECONDS = 10;
  const PING_MS = 250;
  const number = new Intl.NumberFormat(document.documentElement.dataset.locale || undefined,
                                       {maximumFractionDigits: 1});
  let stream = null;

  // A failure with a message for the user (already translated).
  class Told extends Error {}

  const fill = (text, values) =>
    text.replace(/\{(\w+)\}/g, (whole, key) => (key in values ? values[key] : whole));
  const say = (id, text) => { $(id).textContent = text; };
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  async function startDevices() {
    if (stream) return stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({audio: true, video: true});
    } catch (err) {
      say("nettest-devices", messages.no_devices);
      return null;
    }
    $("nettest-preview").srcObject = stream;
    const label = (kind) => {
      const track = stream.getTracks().find((t) => t.kind === kind);
      return track ? (track.label || kind) : messages.none;
    };
    say("nettest-devices",
        fill(messages.devices, {camera: label("video"), microphone: label("audio")}));
    const microphone = stream.getAudioTracks()[0];
    if (microphone) showLevel(microphone, $("nettest-level"));
    $("nettest-camera").hidden = true;
    return stream;
  }

  function iceGathered(pc) {
    // The media server takes one offer with every candidate in it (no trickling).
    if (pc.iceGatheringState === "complete") return Promise.resolve();
    return new Promise((resolve) => {
      pc.addEventListener("icegatheringstatechange", () => {
        if (pc.iceGatheringState === "complete") resolve();
      });
      setTimeout(resolve, 3000);
    });
  }

  async function exchange(pc) {
    await pc.setLocalDescription(await pc.createOffer());
    await iceGathered(pc);
    const response = await fetch(root.dataset.offerUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRF-Token": root.dataset.csrfToken},
      body: JSON.stringify({sdp: pc.localDescription.sdp, type: pc.localDescription.type}),
    });
    const body = await response.json().catch(() => null);
    if (!response.ok || !body || body.type !== "answer") {
      throw new Told((body && body.message) || messages.error);
    }
    await pc.setRemoteDescription(body);
  }

  // A test that could not connect counts among the usage report's
  // connection problems.
  function tellProblem() {
    fetch(root.dataset.problemUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRF-Token": root.dataset.csrfToken},
      body: "{}",
    }).catch(() => {});
  }

  function connected(pc) {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (pc.connectionState === "connected") resolve();
        if (pc.connectionState === "failed") reject(new Told(messages.failed));
      };
      pc.addEventListener("connectionstatechange", check);
      setTimeout(() => reject(new Told(messages.failed)), CONNECT_SECONDS * 1000);
      check();
    });
  }

  function pinger(channel) {
    const rtts = [];
    channel.addEventListener("message", (event) => {
      const sent = Number(String(event.data).slice(5));
      if (String(event.data).startsWith("pong ") && sent) rtts.push(performance.now() - sent);
    });
    const timer = setInterval(() => {
      if (channel.readyState === "open") channel.send(`ping ${performance.now()}`);
    }, PING_MS);
    return {rtts, stop: () => clearInterval(timer)};
  }

  async function counters(pc) {
    const c = {sent: 0, received: 0, lost: 0, packets: 0, remoteLoss: 0, remoteRtt: []};
    (await pc.getStats()).forEach((s) => {
      if (s.type === "outbound-rtp") c.sent += s.bytesSent || 0;
      if (s.type === "inbound-rtp") {
        c.received += s.bytesReceived || 0;
        c.lost += Math.max(s.packetsLost || 0, 0);
        c.packets += s.packetsReceived || 0;
      }
      if (s.type === "remote-inbound-rtp") {
        c.remoteLoss = Math.max(c.remoteLoss, s.fractionLost || 0);
        if (s.roundTripTime) c.remoteRtt.push(s.roundTripTime * 1000);
      }
    });
    return c;
  }

  const median = (values) => {
    const sorted = [...values].sort((a, b) => a - b);
    return sorted.length ? sorted[Math.floor(sorted.length / 2)] : null;
  };

  function results(first, last, seconds, rtts) {
    const lost = last.lost - first.lost;
    const packets = last.packets - first.packets + lost;
    const inboundLoss = packets > 0 ? lost / packets : 0;
    return {
      rtt: median(rtts.length ? rtts : last.remoteRtt),
      up: ((last.sent - first.sent) * 8) / seconds / 1000,
      down: ((last.received - first.received) * 8) / seconds / 1000,
      loss: Math.max(inboundLoss, last.remoteLoss) * 100,
    };
  }

  // Ten seconds is too short for the browser's bandwidth estimate to climb
  // far: a low bitrate only counts when it is very low.
  function verdict(r) {
    if (r.rtt === null || r.rtt > 400 || r.loss > 10 || (stream && r.up < 100)) return "poor";
    if (r.rtt > 150 || r.loss > 2 || (stream && r.up < 200)) return "fair";
    return "good";
  }

  // The figures as the page shows them, to one decimal: the verdict judges
  // those, or a page showing 200 kbit/s could call it too little.
  function rounded(r) {
    const one = (value) => (value === null ? null : Math.round(value * 10) / 10);
    return {rtt: one(r.rtt), up: one(r.up), down: one(r.down), loss: one(r.loss)};
  }

  function show(measured) {
    const r = rounded(measured);
    const list = $("nettest-results");
    const shown = (value, unit) => (value === null ? "–" : `${number.format(value)} ${unit}`);
    say("nettest-rtt", shown(r.rtt, "ms"));
    say("nettest-up", shown(r.up, "kbit/s"));
    say("nettest-down", shown(r.down, "kbit/s"));
    say("nettest-loss", shown(r.loss, "%"));
    Object.assign(list.dataset, {
      rttMs: r.rtt === null ? "" : r.rtt.toFixed(1), upKbps: r.up.toFixed(1),
      downKbps: r.down.toFixed(1), lossPercent: r.loss.toFixed(1),
    });
    list.hidden = false;
    const kind = verdict(r);
    say("nettest-verdict", messages[kind]);
    root.dataset.verdict = kind;
  }

  async function measure(pc, channel) {
    const pings = pinger(channel);
    const first = await counters(pc);
    const started = performance.now();
    for (let left = TEST_SECONDS; left > 0; left -= 1) {
      say("nettest-status", fill(messages.measuring, {seconds: left}));
      await sleep(1000);
    }
    pings.stop();
    const last = await counters(pc);
    return results(first, last, (performance.now() - started) / 1000, pings.rtts);
  }

  async function runTest() {
    const button = $("nettest-start");
    button.disabled = true;
    root.dataset.state = "running";
    $("nettest-results").hidden = true;
    say("nettest-verdict", "");
    const media = await startDevices();
    const pc = new RTCPeerConnection();
    try {
      if (media) media.getTracks().forEach((track) => pc.addTrack(track, media));
      const echoed = new MediaStream();
      pc.addEventListener("track", (event) => {
        echoed.addTrack(event.track);
        $("nettest-echo").srcObject = echoed;
      });
      const channel = pc.createDataChannel("ping");
      say("nettest-status", messages.connecting);
      await exchange(pc);
      root.dataset.state = "connecting";
      await connected(pc);
      show(await measure(pc, channel));
      say("nettest-status", "");
      root.dataset.state = "done";
    } catch (err) {
      if (!(err instanceof Told)) console.error(err);
      if (root.dataset.state === "connecting") tellProblem();  // the connection failed
      say("nettest-status", err instanceof Told ? err.message : messages.error);
      root.dataset.state = "failed";
    } finally {
      pc.close();
      $("nettest-echo").srcObject = null;
      button.disabled = false;
    }
  }

  $("nettest-camera").addEventListener("click", startDevices);
  if (root.dataset.echo === "on") $("nettest-start").addEventListener("click", runTest);
  startDevices();
})();
