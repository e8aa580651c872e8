"""The room's extras in real Chromium (issue 19): background blur visibly
changes the frames the other side receives, a background image replaces
them and the other side reads the organisation's notice, the hide setting
leaves no control; the waiting room's frames each in its place (the
evaluation only after the end); "stop if the webcam fails" sends the client
to the check page.

The client's camera is a Y4M file of a fine checkerboard (Chromium's
``--use-file-for-fake-video-capture``): a background full of sharp edges, so
that blurring it shows in the pixels. The statistics are of the corners of
the picture the practitioner's page decodes (the background: the
segmentation finds no person in a checkerboard)."""

import io
import time

import pytest
from PIL import Image
from playwright.sync_api import expect

from consultroom.browser_testing import CHROMIUM, TEST_CHROMIUM_FLAGS
from consultroom.room import extras
from consultroom.room.models import BackgroundImage

WIDTH, HEIGHT, SQUARE = 640, 480, 16
GREEN = (30, 160, 60)

# Mean absolute difference of horizontal neighbours (sharp edges: high),
# and the mean colour, in the top-left and bottom-right fifths of the
# practitioner's view of the client.
REMOTE_CORNERS = """(() => {
  const video = document.querySelector('.room-tile video');
  if (!video || !video.videoWidth) return null;
  const w = video.videoWidth, h = video.videoHeight;
  const canvas = document.createElement('canvas');
  canvas.width = w; canvas.height = h;
  const context = canvas.getContext('2d', { willReadFrequently: true });
  context.drawImage(video, 0, 0);
  const bw = Math.floor(w / 5), bh = Math.floor(h / 5);
  let edge = 0, n = 0; const sum = [0, 0, 0];
  for (const [x0, y0] of [[0, 0], [w - bw, h - bh]]) {
    const d = context.getImageData(x0, y0, bw, bh).data;
    for (let j = 0; j < bh; j++) {
      for (let i = 0; i < bw; i++) {
        const k = (j * bw + i) * 4;
        for (let c = 0; c < 3; c++) sum[c] += d[k + c];
        if (i < bw - 1) { edge += Math.abs(d[k] - d[k + 4]); n++; }
      }
    }
  }
  const pixels = 2 * bw * bh;
  return { edge: edge / n, mean: sum.map((s) => s / pixels), width: w };
})()"""


@pytest.fixture(scope="module")
def checkerboard(tmp_path_factory):
    """A Y4M video (4:2:0) of a black and white checkerboard, two frames."""
    path = tmp_path_factory.mktemp("camera") / "checkerboard.y4m"
    luma = bytes(
        255 if ((x // SQUARE) + (y // SQUARE)) % 2 else 0
        for y in range(HEIGHT)
        for x in range(WIDTH)
    )
    chroma = bytes([128]) * (WIDTH // 2 * HEIGHT // 2)
    frame = b"FRAME\n" + luma + chroma + chroma
    header = f"YUV4MPEG2 W{WIDTH} H{HEIGHT} F15:1 Ip A1:1 C420jpeg\n".encode()
    path.write_bytes(header + frame + frame)
    return path


@pytest.fixture
def checkerboard_camera(browser, checkerboard):
    """A second Chromium whose fake camera shows the checkerboard."""
    if not extras.model_present():
        pytest.fail("run scripts/fetch-segmentation first", pytrace=False)
    other = browser.browser_type.launch(
        executable_path=CHROMIUM,
        headless=True,
        args=[*TEST_CHROMIUM_FLAGS, f"--use-file-for-fake-video-capture={checkerboard}"],
    )
    context = other.new_context(permissions=["camera", "microphone"])
    context.set_default_timeout(20_000)
    context.on("console", lambda m: print(f"[client console.{m.type}] {m.text}"))
    yield context
    context.close()
    other.close()


def _png(colour):
    out = io.BytesIO()
    Image.new("RGB", (320, 180), colour).save(out, format="PNG")
    return out.getvalue()


def _into_the_room(live_server, log_in, org, doctor, appointment, client, staff):
    client.goto(live_server.url(org.subdomain, f"/c/{appointment.token}"))
    log_in(staff, doctor)
    staff.goto(live_server.url(org.subdomain, "/waiting-room"))
    staff.locator(".waiting-entry").locator("[data-call-in]").click()
    staff.wait_for_url("**/room/**")
    expect(client.locator("[data-room]")).to_be_visible()


def _corners(staff, poll, until=lambda stats: True, seconds=30):
    """The corners' statistics once ``until`` holds for them (the new
    picture takes a moment to be processed, sent and decoded on a busy
    machine), else the last ones measured."""
    deadline = time.monotonic() + seconds
    while True:
        stats = poll(staff, REMOTE_CORNERS, timeout=20)
        if until(stats) or time.monotonic() > deadline:
            return stats
        staff.wait_for_timeout(500)


def _choose(client, poll, label, effect):
    client.locator("[data-room-button=effects]").click()
    client.locator("[data-effects] label", has_text=label).click()
    poll(client, f"document.querySelector('[data-effects]').dataset.effect === '{effect}'", 60)
    # The processed picture is what the self-view and the others get.
    poll(
        client,
        "window.consultroom.room.outgoing('video') === window.consultroom.room.effectTrack"
        if effect != "none"
        else "window.consultroom.room.outgoing('video') === window.consultroom.room.track('video')",
    )


def test_blur_and_a_background_image_change_what_the_other_side_receives(
    live_data,
    live_db,
    live_server,
    checkerboard_camera,
    staff_context,
    log_in,
    poll,
    wait_for_media,
):
    org = live_data.organisation(name="Clinic", options={"background_warning": True})
    live_db.add(BackgroundImage(organisation_id=org.id, name="Green room", image=_png(GREEN)))
    live_db.commit()
    doctor = live_data.user(org, name="Dr. Jansen")
    appointment = live_data.appointment(
        org, practitioner=doctor, client=live_data.client(org, last_name="Peters")
    )
    client = checkerboard_camera.new_page()
    staff = staff_context.new_page()
    _into_the_room(live_server, log_in, org, doctor, appointment, client, staff)
    wait_for_media(staff, video=1)

    sharp = _corners(staff, poll, lambda now: now["edge"] > 8)
    assert sharp["edge"] > 8, sharp  # the checkerboard arrives as it is (255 every 16 px)
    notice = staff.locator("[data-background-notice]")
    expect(notice).to_be_hidden()

    _choose(client, poll, "Blurred", "blur")
    blurred = _corners(staff, poll, lambda now: now["edge"] < sharp["edge"] / 4)
    print("background edges: off", sharp, "blur", blurred)
    assert blurred["edge"] < sharp["edge"] / 4, (sharp, blurred)
    # Blurred, not blacked out: the corners keep the checkerboard's mean grey.
    assert all(60 < c < 200 for c in blurred["mean"]), blurred
    expect(notice).to_be_hidden()  # blurring is not replacing

    _choose(client, poll, "Green room", "image")
    replaced = _corners(staff, poll, lambda now: abs(now["mean"][1] - GREEN[1]) < 30)
    assert all(abs(c - g) < 30 for c, g in zip(replaced["mean"], GREEN, strict=True)), replaced
    expect(notice).to_be_visible()
    expect(notice).to_have_text("The background of A. Peters is replaced by a picture.")

    _choose(client, poll, "As it is", "none")
    back = _corners(staff, poll, lambda now: now["edge"] > sharp["edge"] / 2)
    assert back["edge"] > sharp["edge"] / 2, (sharp, back)
    expect(notice).to_be_hidden()


def test_the_hide_setting_leaves_no_control(
    live_data, live_server, client_context, staff_context, log_in, wait_for_media
):
    org = live_data.organisation(name="Clinic", options={"background_effects": False})
    doctor = live_data.user(org)
    appointment = live_data.appointment(org, practitioner=doctor)
    client = client_context.new_page()
    staff = staff_context.new_page()
    _into_the_room(live_server, log_in, org, doctor, appointment, client, staff)
    wait_for_media(staff, video=1)
    for page in (client, staff):
        expect(page.locator("[data-action=microphone]")).to_be_visible()
        expect(page.locator("[data-room-button=effects]")).to_have_count(0)
        expect(page.locator("[data-effects]")).to_have_count(0)


FRAME_PAGE = b"<!doctype html><title>frame</title><p>framed</p>"


def test_the_waiting_rooms_frames_each_in_their_place(
    live_data, live_server, client_context, staff_context, log_in, wait_for_media, poll
):
    # https origins that are never reached: the frames' requests are
    # answered here, so nothing leaves the machine.
    frames = {
        "explainer_url": "https://video.example/embed/1",
        "info_frame_url": "https://info.example/page",
        "evaluation_url": "https://survey.example/form",
    }
    org = live_data.organisation(name="Clinic", options=frames)
    doctor = live_data.user(org)
    appointment = live_data.appointment(org, practitioner=doctor)
    requested = []

    def answer(route):
        requested.append(route.request.url)
        route.fulfill(status=200, content_type="text/html", body=FRAME_PAGE)

    client_context.route("https://*.example/**", answer)
    client = client_context.new_page()
    response = client.goto(live_server.url(org.subdomain, f"/c/{appointment.token}"))
    policy = response.headers["content-security-policy"]
    assert "frame-src https://video.example https://info.example https://survey.example" in policy
    expect(client.locator("iframe[data-frame=explainer]")).to_be_visible()
    info = client.locator("iframe[data-frame=info]")
    expect(info).to_be_hidden()
    expect(client.locator("iframe[data-frame=evaluation]")).to_have_count(0)
    assert frames["info_frame_url"] not in requested
    client.locator("[data-action=more-info]").click()
    expect(info).to_be_visible()
    poll(client, "document.querySelector('iframe[data-frame=info]').src.startsWith('https://')")
    assert frames["evaluation_url"] not in requested

    staff = staff_context.new_page()
    log_in(staff, doctor)
    staff.goto(live_server.url(org.subdomain, "/waiting-room"))
    staff.locator(".waiting-entry").locator("[data-call-in]").click()
    staff.wait_for_url("**/room/**")
    expect(client.locator("[data-room]")).to_be_visible()
    expect(client.locator("iframe[data-frame=explainer]")).to_have_count(0)
    expect(staff.locator("iframe")).to_have_count(0)
    # Sent back, the client waits with the explainer again; called in
    # again, it goes.
    staff.locator("[data-action=send-back]").click()
    expect(client.locator("iframe[data-frame=explainer]")).to_be_visible()
    staff.goto(live_server.url(org.subdomain, "/waiting-room"))
    staff.locator(".waiting-entry").locator("[data-call-in]").click()
    staff.wait_for_url("**/room/**")
    expect(client.locator("[data-room]")).to_be_visible()
    expect(client.locator("iframe[data-frame=explainer]")).to_have_count(0)
    wait_for_media(staff, video=1)
    staff.once("dialog", lambda dialog: dialog.accept())
    staff.locator("[data-action=end]").click()
    ended = client.locator("[data-ended]")
    expect(ended).to_be_visible()
    evaluation = client.locator("iframe[data-frame=evaluation]")
    expect(evaluation).to_be_visible()
    poll(client, "document.querySelector('[data-ended] + [data-evaluation-card]') !== null")
    assert frames["evaluation_url"] in requested


STOP_VIDEO = """(() => {
  const original = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
  navigator.mediaDevices.getUserMedia = (wanted) => (wanted && wanted.video
      && !sessionStorage.getItem('cameraBack')
    ? Promise.reject(new DOMException('camera broken', 'NotReadableError'))
    : original(wanted));
})();"""


def test_a_failing_webcam_sends_the_client_to_the_check_page_and_back(
    live_data, live_server, client_context
):
    org = live_data.organisation(name="Clinic", options={"stop_if_webcam_fails": True})
    appointment = live_data.appointment(org, practitioner=live_data.user(org))
    client_context.add_init_script(STOP_VIDEO)
    client = client_context.new_page()
    client.goto(live_server.url(org.subdomain, f"/c/{appointment.token}"))
    client.wait_for_url(f"**/c/{appointment.token}/network-test?camera=failed")
    expect(client.locator("[data-camera-failed]")).to_be_visible()
    # The camera works again: back to the waiting room.
    client.evaluate("sessionStorage.setItem('cameraBack', 'yes')")
    client.wait_for_url(f"**/c/{appointment.token}", timeout=15_000)
    expect(client.locator("[data-waiting]")).to_be_visible()
    # With a working camera the client stays.
    client.wait_for_timeout(2500)
    assert client.url.endswith(f"/c/{appointment.token}")
