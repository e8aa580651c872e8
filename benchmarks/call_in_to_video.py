"""Time from "call in" to both sides decoding video, in Chromium.

A client waits on their link's page, a practitioner has the waiting list
open; the benchmark clicks "call in" and measures until both pages' peer
connections report decoded video frames (getStats ``framesDecoded > 0``),
``--rounds`` times, each with a fresh appointment and fresh pages. The
baseline, measured in the same run and the same browser, is two
RTCPeerConnections in one blank page connected to each other directly (no
server, no signalling), from asking for the camera to both decoding video: the bare
cost of WebRTC set-up with the fake camera.

Real WebRTC: it must run in a private network namespace that holds only
loopback (it refuses otherwise), with Debian's Chromium installed:

    unshare -n bash -c 'ip link set lo up;
        .venv-test/bin/python benchmarks/call_in_to_video.py [--rounds 5]'
"""

import argparse
import statistics
import sys
import time

from consultroom.browser_testing import (
    CHROMIUM,
    CHROMIUM_FLAGS,
    RECORD_CONNECTIONS_JS,
    only_loopback,
)

from realtime_support import PASSWORD, AppServer

ROOM_DECODES = """() => Promise.all((window.__peerConnections || []).map((pc) => pc.getStats()))
.then((all) => all.some((stats) => {
  let decoded = false;
  stats.forEach((r) => {
    if (r.type === "inbound-rtp" && r.kind === "video" && r.framesDecoded > 0) decoded = true;
  });
  return decoded;
}))"""

DIRECT_CALL = """async () => {
  const started = performance.now();
  const media = await navigator.mediaDevices.getUserMedia({video: true, audio: true});
  const a = new RTCPeerConnection(), b = new RTCPeerConnection();
  a.onicecandidate = (e) => e.candidate && b.addIceCandidate(e.candidate);
  b.onicecandidate = (e) => e.candidate && a.addIceCandidate(e.candidate);
  media.getTracks().forEach((t) => { a.addTrack(t, media); b.addTrack(t, media); });
  await a.setLocalDescription(await a.createOffer());
  await b.setRemoteDescription(a.localDescription);
  await b.setLocalDescription(await b.createAnswer());
  await a.setRemoteDescription(b.localDescription);
  const decodes = async (pc) => {
    let decoded = false;
    (await pc.getStats()).forEach((r) => {
      if (r.type === "inbound-rtp" && r.kind === "video" && r.framesDecoded > 0) decoded = true;
    });
    return decoded;
  };
  while (!(await decodes(a)) || !(await decodes(b))) await new Promise((r) => setTimeout(r, 20));
  const elapsed = performance.now() - started;
  a.close(); b.close(); media.getTracks().forEach((t) => t.stop());
  return elapsed;
}"""


def decodes(page):
    from playwright.sync_api import Error

    try:
        return page.evaluate(ROOM_DECODES)
    except Error:  # the practitioner's page is navigating to the room
        return False


def baseline(app, browser, rounds):
    context = browser.new_context(permissions=["camera", "microphone"])
    page = context.new_page()
    page.goto(f"http://{app.host()}/login")  # a secure context (localhost), unlike about:blank
    times = [page.evaluate(DIRECT_CALL) for _ in range(rounds)]
    context.close()
    return times


def log_in(app, page, user):
    page.goto(f"http://{app.host()}/login")
    page.fill("input[name=email]", user.email)
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.click("form button[type=submit]")


def one_call(app, browser, practitioner):
    appointment = app.appointment(practitioner=practitioner)
    contexts = [browser.new_context(permissions=["camera", "microphone"]) for _ in range(2)]
    for context in contexts:
        context.add_init_script(RECORD_CONNECTIONS_JS)
    client, staff = (c.new_page() for c in contexts)
    try:
        client.goto(f"http://{app.host()}/c/{appointment.token}")
        client.wait_for_selector("[data-connection][data-state=online]", state="attached")
        log_in(app, staff, practitioner)
        staff.goto(f"http://{app.host()}/waiting-room")
        button = staff.locator(".waiting-entry [data-call-in]")
        button.wait_for()
        started = time.perf_counter()
        button.click()
        pending = [client, staff]
        while pending:
            pending = [p for p in pending if not decodes(p)]
            if time.perf_counter() - started > 30:
                raise SystemExit(f"no video within 30 s on {[p.url for p in pending]}")
        return (time.perf_counter() - started) * 1000
    finally:
        for context in contexts:
            context.close()


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    if not only_loopback():
        sys.exit(
            "run this in a private network namespace holding only loopback:\n"
            "  unshare -n bash -c 'ip link set lo up; .venv-test/bin/python"
            " benchmarks/call_in_to_video.py'"
        )
    from playwright.sync_api import sync_playwright

    app = AppServer()
    try:
        practitioner = app.staff()
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS
            )
            base = baseline(app, browser, args.rounds)
            real = [one_call(app, browser, practitioner) for _ in range(args.rounds)]
            browser.close()
    finally:
        app.stop()
    print(f"rounds: {args.rounds}")
    for name, figure in (("median", statistics.median), ("worst", max)):
        b, r = figure(base), figure(real)
        print(
            f"{name:6}: two peer connections in one page (baseline) {b:7.0f} ms"
            f"   call in to video on both sides {r:7.0f} ms   ratio {r / b:.2f}"
        )


if __name__ == "__main__":
    main()
