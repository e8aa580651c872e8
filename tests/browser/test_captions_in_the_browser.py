"""Live captions end to end (plugins/translation): Chromium's fake
microphone plays a sentence espeak-ng said for the client; the practitioner
switches captions on with the cc button, a caption worker (its own process,
the real engine with Whisper tiny.en) joins the room through the normal
signalling, and the practitioner sees the client's words under the client's
video, with the client's name, and in the live region. The worker's peer is
no participant's tile. Killed mid-sentence, the worker is replaced by
another, which picks the room up: captions resume. A guest without a
microphone joins and reads them too. A practitioner who reads
Spanish gets them through Apertium (apertium-eng-spa)."""

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect
from test_two_processes import Redis
from translation_speech import say

from consultroom.browser_testing import CHROMIUM, TEST_CHROMIUM_FLAGS
from consultroom.plugins.models import PluginEnablement
from consultroom.room.models import RoomInvite
from consultroom.testing import stop_process

HERE = Path(__file__).parent
CAPTION = "[data-translation-line]"
WORDS = ("headache", "monday")


@pytest.fixture(scope="module")
def speech(tmp_path_factory):
    wav = tmp_path_factory.mktemp("speech") / "client.wav"
    return say("I have had a headache since Monday morning", wav, pad_after=1.5)


@pytest.fixture(scope="module")
def bus():
    server = Redis()
    yield server
    server.kill()


@pytest.fixture(scope="module")
def captions_server(start_live_server, bus):
    server = start_live_server(**{"realtime.bus": "redis", "redis.url": bus.url})
    yield server
    server.stop()


@pytest.fixture
def start_worker(captions_server, tmp_path):
    workers = []
    settings = {
        **captions_server.settings,
        "consultroom_translation.host_addresses": "127.0.0.1",
        "consultroom_translation.lease_seconds": "4",
    }
    path = tmp_path / "worker.json"
    path.write_text(json.dumps(settings))

    def start():
        process = subprocess.Popen([sys.executable, str(HERE / "captions_worker.py"), str(path)])
        workers.append(process)
        return process

    yield start
    for process in workers:
        stop_process(process)


@pytest.fixture
def speaking_browser(browser, speech):
    """A Chromium whose fake microphone says ``speech`` (over and over)."""
    speaking = browser.browser_type.launch(
        executable_path=CHROMIUM,
        headless=True,
        args=[*TEST_CHROMIUM_FLAGS, f"--use-file-for-fake-audio-capture={speech}"],
    )
    yield speaking
    speaking.close()


def _caption_text(page):
    return page.locator(CAPTION).all_inner_texts()


def _wait_for_words(page, words=WORDS, timeout=90):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = " ".join(_caption_text(page)).lower()
        if all(word in text for word in words):
            return text
        page.wait_for_timeout(300)
    raise AssertionError(f"no caption with {words} in {timeout} s: {_caption_text(page)!r}")


def test_the_practitioner_reads_what_the_client_says_and_captions_survive_a_worker_kill(
    captions_server, live_data, browser, new_context, log_in, speaking_browser, start_worker
):
    org = live_data.organisation(name="Captions clinic")
    live_data._save(
        PluginEnablement(
            organisation_id=org.id,
            plugin="translation",
            enabled=True,
            settings={"start": "on_request", "languages": "en, es", "keep_transcript": False},
        )
    )
    doctor = live_data.user(org, name="Dr. Jansen")
    client = live_data.client(org, initials="A.", last_name="Bakker")
    appointment = live_data.appointment(org, practitioner=doctor, client=client)
    worker = start_worker()

    speaker = speaking_browser.new_context(permissions=["camera", "microphone"]).new_page()
    speaker.goto(captions_server.url(org.subdomain, f"/c/{appointment.token}"))
    expect(speaker.locator("[data-connection]")).to_have_attribute("data-state", "online")

    staff = new_context().new_page()
    log_in(staff, doctor)
    staff.goto(captions_server.url(org.subdomain, "/waiting-room"))
    entry = staff.locator(".waiting-entry", has_text="Bakker")
    expect(entry).to_be_visible()
    entry.locator("[data-call-in]").click()
    staff.wait_for_url("**/room/**")
    button = staff.locator('[data-room-button="translation.cc"]')
    expect(button).to_have_attribute("aria-pressed", "false")
    button.click()
    expect(button).to_have_attribute("aria-pressed", "true")
    expect(staff.locator("[data-translation-status]")).to_be_visible()

    text = _wait_for_words(staff)
    line = staff.locator(CAPTION).first
    expect(line).to_have_attribute("data-speaker", "A. Bakker")
    # Under the client's video: in the tile that plays the client's stream.
    assert line.evaluate("(p) => p.closest('.room-tile').querySelector('video') !== null")
    live = staff.locator("[data-translation-live]").inner_text()
    assert live.startswith("A. Bakker: ")
    assert "headache" in text
    # Two people in the room, however many peers: the worker has no tile
    # and is no participant.
    expect(staff.locator(".room-tile:visible")).to_have_count(1)
    expect(staff.locator("[data-participants] li")).to_have_count(2)

    # Killed mid-sentence: another worker takes the room over.
    worker.kill()
    worker.wait()
    staff.evaluate(
        "document.querySelectorAll('[data-translation-line]').forEach(p => p.textContent = '')"
    )
    second = start_worker()
    _wait_for_words(staff, timeout=120)
    expect(staff.locator(".room-tile:visible")).to_have_count(1)

    # A guest without a microphone (not allowed one) joins: nothing breaks,
    # the client's captions go on and the worker is still there.
    room_id = staff.url.rstrip("/").rsplit("/", 1)[1]
    invite = live_data._save(RoomInvite(room_id=room_id, name="Tolk", email="tolk@example.org"))
    guest_context = browser.new_context(permissions=["camera"])
    guest = guest_context.new_page()
    guest.goto(captions_server.url(org.subdomain, f"/join/{invite.token}"))
    expect(staff.locator(".room-tile:visible")).to_have_count(2)
    guest_caption = guest.locator(CAPTION)
    expect(guest_caption.first).to_contain_text("Monday", timeout=90_000)
    assert second.poll() is None
    guest_context.close()

    # The practitioner reads Spanish: the worker translates for them.
    staff.evaluate(
        """() => {
        const select = document.querySelector('[data-translation-caption]');
        select.value = 'es';
        select.dispatchEvent(new Event('change'));
    }"""
    )
    _wait_for_words(staff, words=("cabeza", "lunes"), timeout=90)
    expect(staff.locator(CAPTION).first).to_have_attribute("data-speaker", "A. Bakker")
