"""Speech end → caption shown, the whole path, in Chromium: the client's
fake microphone plays a sentence espeak-ng said (with silence after it, on a
loop), a caption worker process (``consultroom_translation.worker``, the
real engine, Whisper tiny.en) receives it over WebRTC, and the practitioner's
page shows the caption. The speech's end is when the client's page last
sent a loud sample (its audio sender's ``audioLevel``, polled every 10 ms)
before a quiet stretch; the caption is shown when the practitioner's page
changes a caption line (a MutationObserver); both pages on one clock. A
caption is matched to the latest speech end before it, which holds while
the latency stays under the loop's length (about 4.7 s).
Baseline in the same run: the same engine on the same sentence offline.

Real WebRTC and its own Redis: it must run in a private network namespace
holding only loopback, with Debian's Chromium and redis-server installed:

    unshare -n bash -c 'ip link set lo up;
        .venv-test/bin/python benchmarks/captions_in_room.py [--captions 10]'
"""

import argparse
import json
import shutil
import statistics
import subprocess  # redis-server and the worker, fixed arguments  # nosec B404
import sys
import tempfile
import time
from pathlib import Path

from call_in_to_video import log_in
from captions import speak
from consultroom_translation.engine import engine_from_settings

from consultroom.browser_testing import (
    CHROMIUM,
    CHROMIUM_FLAGS,
    RECORD_CONNECTIONS_JS,
    only_loopback,
)
from consultroom.plugins.models import PluginEnablement
from consultroom.testing import free_port, stop_process, wait_for_port

from figures import figure
from realtime_support import AppServer, percentile

SENTENCE = "I have had a headache since Monday morning."
# The client's page: when its outgoing audio last was loud before a pause.
SPEECH_ENDS_JS = """(() => {
  window.__speechEnds = [];
  let loudAt = 0, ended = true;
  setInterval(async () => {
    for (const pc of window.__peerConnections || []) {
      const stats = await pc.getStats();
      let level = null;
      stats.forEach((r) => {
        if (r.type === "media-source" && r.kind === "audio") level = r.audioLevel;
      });
      if (level === null) continue;
      const now = Date.now();
      if (level > 0.02) { loudAt = now; ended = false; }
      else if (!ended && now - loudAt > 300) { window.__speechEnds.push(loudAt); ended = true; }
      return;
    }
  }, 10);
})();"""
# The practitioner's page: when a caption line changed.
CAPTIONS_SHOWN_JS = """(() => {
  window.__captionsShown = [];
  new MutationObserver((changes) => {
    if (changes.some((c) => (c.target.closest ? c.target : c.target.parentElement)
        ?.closest("[data-translation-line]"))) window.__captionsShown.push(Date.now());
  }).observe(document, {subtree: true, childList: true, characterData: true});
})();"""


# The browser tests' caption worker: run_worker on the application's settings.
WORKER = Path(__file__).resolve().parents[1] / "tests" / "browser" / "captions_worker.py"


def start_redis():
    port = free_port()
    process = subprocess.Popen(  # nosec B603 B607
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    wait_for_port(port, process)
    return port, process


def latencies(ends, shown):
    """For each caption shown, the time since the latest speech end before it."""
    result = []
    for at in shown:
        before = [e for e in ends if e <= at]
        if before:
            result.append(at - before[-1])
    return result


def run(app, browser, wav, wanted):
    practitioner = app.staff()
    appointment = app.appointment(practitioner=practitioner)
    speaking = browser.browser_type.launch(
        executable_path=CHROMIUM,
        headless=True,
        args=[*CHROMIUM_FLAGS, f"--use-file-for-fake-audio-capture={wav}"],
    )
    client = speaking.new_context(permissions=["camera", "microphone"]).new_page()
    client.add_init_script(RECORD_CONNECTIONS_JS)
    client.add_init_script(SPEECH_ENDS_JS)
    client.goto(f"http://{app.host()}/c/{appointment.token}")
    client.wait_for_selector("[data-connection][data-state=online]", state="attached")
    staff = browser.new_context(permissions=["camera", "microphone"]).new_page()
    staff.add_init_script(CAPTIONS_SHOWN_JS)
    log_in(app, staff, practitioner)
    staff.goto(f"http://{app.host()}/waiting-room")
    staff.locator(".waiting-entry [data-call-in]").click()
    staff.wait_for_url("**/room/**")
    staff.locator('[data-room-button="translation.cc"]').click()
    deadline = time.monotonic() + 60 + wanted * 15
    while time.monotonic() < deadline:
        shown = staff.evaluate("window.__captionsShown")
        if len(shown) > wanted:  # the first may come from the middle of a sentence
            break
        time.sleep(0.5)
    ends = client.evaluate("window.__speechEnds")
    speaking.close()
    return latencies(ends, shown[1:]), shown


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--captions", type=int, default=10)
    args = parser.parse_args(argv)
    if not only_loopback():
        sys.exit(__doc__.split("\n\n")[-1])
    from playwright.sync_api import sync_playwright

    tmp = Path(tempfile.mkdtemp(prefix="captions-room-"))
    wav = tmp / "client.wav"
    pcm, _ = speak(SENTENCE, wav)
    engine = engine_from_settings({})
    engine.transcribe(pcm, "en")
    offline = []
    for _ in range(5):
        started = time.perf_counter()
        engine.transcribe(pcm, "en")
        offline.append((time.perf_counter() - started) * 1000)
    del engine
    redis_port, redis = start_redis()
    settings = {
        "realtime.bus": "redis",
        "redis.url": f"redis://127.0.0.1:{redis_port}/0",
        "consultroom_translation.host_addresses": "127.0.0.1",
    }
    app, worker = None, None
    try:
        app = AppServer(**settings)
        app.db.add(
            PluginEnablement(
                organisation_id=app.org.id,
                plugin="translation",
                enabled=True,
                settings={"start": "on_request", "languages": "en", "keep_transcript": False},
            )
        )
        app.db.commit()
        worker_settings = tmp / "worker.json"
        worker_settings.write_text(json.dumps(app.settings))
        log = (tmp / "worker.log").open("w")
        worker = subprocess.Popen(  # nosec B603
            [sys.executable, str(WORKER), str(worker_settings)],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS
            )
            times, shown = run(app, browser, wav, args.captions)
            browser.close()
    finally:
        if worker is not None:
            stop_process(worker)
        if app is not None:
            app.stop()
        stop_process(redis)
    if not times:
        raise SystemExit(f"no caption matched a speech end ({len(shown)} shown); see {tmp}")
    shutil.rmtree(tmp)  # kept above for the worker's log
    p50, p95 = percentile(times, 50), percentile(times, 95)
    off50, off95 = statistics.median(offline), percentile(offline, 95)
    print(f"{len(times)} captions of {SENTENCE!r}; speech end -> shown (ms): {sorted(times)}")
    print(f"engine alone offline on the same WAV (ms): {sorted(round(t) for t in offline)}")
    print(f"ratio p50 {p50 / off50:.2f} p95 {p95 / off95:.2f}")
    figure(
        "captions speech end → caption shown in the room (Chromium, worker, tiny.en)",
        f"p50 {p50:.0f} ms ({p50 / off50:.2f}×), p95 {p95:.0f} ms ({p95 / off95:.2f}×)",
        f"engine alone offline: p50 {off50:.0f} ms, p95 {off95:.0f} ms",
        "p95 ≤ 1,500 ms",
        p95 <= 1500,
    )


if __name__ == "__main__":
    main()
