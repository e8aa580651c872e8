"""The organisation's room settings in real Chromium: force start (the
client arriving later goes straight in), "always show the settings first",
video fit, resolution change; and full screen, picture in picture, changing
the camera during the call, and muting."""

import time
from datetime import timedelta

from playwright.sync_api import expect
from sqlalchemy import select

from consultroom.db import utcnow
from consultroom.sessions.models import StoredSession

LOCAL_VIDEO = "document.querySelector('[data-self]').srcObject.getVideoTracks()[0]"
LOCAL_AUDIO = "document.querySelector('[data-self]').srcObject.getAudioTracks()[0]"


def _frames_decoded(stats):
    return sum(
        r.get("framesDecoded", 0)
        for r in stats
        if r["type"] == "inbound-rtp" and r["kind"] == "video"
    )


def _staff_list(page, log_in, live_server, org, user):
    log_in(page, user)
    page.goto(live_server.url(org.subdomain, "/waiting-room"))
    expect(page.locator("[data-connection]")).to_have_attribute("data-state", "online")


def test_force_start_then_the_client_goes_straight_in(
    live_data, live_server, client_context, staff_context, log_in, wait_for_media
):
    org = live_data.organisation(name="Clinic", options={"force_start": True})
    doctor = live_data.user(org, name="Dr. Jansen")
    appointment = live_data.appointment(
        org, practitioner=doctor, client=live_data.client(org, last_name="Peters")
    )
    staff = staff_context.new_page()
    _staff_list(staff, log_in, live_server, org, doctor)
    upcoming = staff.locator("[data-upcoming] li", has_text="Peters")
    upcoming.locator("[data-force-start]").click()
    staff.wait_for_url("**/room/**")
    expect(staff.locator("[data-alone]")).to_be_visible()

    client = client_context.new_page()
    client.goto(live_server.url(org.subdomain, f"/c/{appointment.token}"))
    expect(client.locator("[data-room]")).to_be_visible()
    expect(client.locator("[data-waiting-part]")).to_be_hidden()
    for page in (client, staff):
        wait_for_media(page, video=1)
    expect(staff.locator(".room-tile figcaption")).to_have_text("A. Peters")


def test_settings_first_video_fit_resolution_and_mute(
    live_data, live_server, client_context, staff_context, log_in, rtc_stats, wait_for_media, poll
):
    org = live_data.organisation(
        name="Clinic",
        options={"settings_first": True, "video_fit": "contain", "allow_resolution_change": True},
    )
    doctor = live_data.user(org, name="Dr. Jansen")
    appointment = live_data.appointment(
        org, practitioner=doctor, client=live_data.client(org, last_name="Smit")
    )
    client = client_context.new_page()
    client.goto(live_server.url(org.subdomain, f"/c/{appointment.token}"))
    staff = staff_context.new_page()
    _staff_list(staff, log_in, live_server, org, doctor)
    staff.locator(".waiting-entry", has_text="Smit").locator("[data-call-in]").click()
    staff.wait_for_url("**/room/**")

    # Settings first: the practitioner checks camera and microphone before joining.
    prejoin = staff.locator("[data-prejoin]")
    expect(prejoin).to_be_visible()
    expect(prejoin.locator("[data-device=videoinput] option")).not_to_have_count(0)
    poll(staff, "document.querySelector('[data-preview]').videoWidth > 0")
    expect(staff.locator("[data-connection]")).to_be_empty()
    prejoin.locator("[data-action=join]").click()
    expect(prejoin).to_be_hidden()
    for page in (client, staff):
        wait_for_media(page, video=1)

    expect(staff.locator("[data-room]")).to_have_class("room fit-contain")
    expect(client.locator("[data-room]")).to_have_class("room fit-contain")
    staff.locator("[data-resolution] select").select_option("360")
    poll(staff, f"{LOCAL_VIDEO}.getSettings().height === 360")

    staff.locator("[data-action=fullscreen]").click()
    poll(staff, "document.fullscreenElement && document.fullscreenElement.matches('[data-room]')")
    staff.locator("[data-action=fullscreen]").click()
    poll(staff, "document.fullscreenElement === null")
    staff.locator("[data-action=pip]").click()
    poll(
        staff,
        "document.pictureInPictureElement"
        " && document.pictureInPictureElement.matches('.room-tile video')",
    )
    staff.locator("[data-action=pip]").click()
    poll(staff, "document.pictureInPictureElement === null")

    # Another camera during the call: the client receives the new track.
    old_track = staff.evaluate(f"{LOCAL_VIDEO}.id")
    staff.locator("[data-action=settings]").click()
    dialog = staff.locator("[data-settings-dialog]")
    poll(staff, "document.querySelector('[data-settings-dialog] [data-preview]').videoWidth > 0")
    dialog.locator("[data-action=apply]").click()
    expect(dialog).to_be_hidden()
    assert staff.evaluate(f"{LOCAL_VIDEO}.id") != old_track
    decoded = _frames_decoded(rtc_stats(client))
    for _ in range(50):
        if _frames_decoded(rtc_stats(client)) > decoded + 10:
            break
        client.wait_for_timeout(100)
    else:
        raise AssertionError("the client stopped decoding after the camera change")

    mute = staff.locator("[data-action=microphone]")
    mute.click()
    expect(mute).to_have_attribute("aria-pressed", "true")
    assert staff.evaluate(f"{LOCAL_AUDIO}.enabled") is False
    camera = staff.locator("[data-action=camera]")
    camera.click()
    expect(camera).to_have_attribute("aria-pressed", "true")
    assert staff.evaluate(f"{LOCAL_VIDEO}.enabled") is False


def test_a_running_consultation_keeps_the_staff_session_alive(
    live_data, live_db, live_server, staff_context, log_in
):
    org = live_data.organisation(
        name="Clinic", options={"force_start": True, "session_idle_minutes": 5}
    )
    doctor = live_data.user(org, name="Dr. Jansen")
    live_data.appointment(
        org, practitioner=doctor, client=live_data.client(org, last_name="Peters")
    )
    staff = staff_context.new_page()
    staff.clock.install()
    _staff_list(staff, log_in, live_server, org, doctor)
    staff.locator("[data-upcoming] li", has_text="Peters").locator("[data-force-start]").click()
    staff.wait_for_url("**/room/**")
    expect(staff.locator("[data-alone]")).to_be_visible()

    # Four of the five idle minutes pass without a request (a video call
    # makes none); the page's warning time comes.
    session = live_db.scalars(select(StoredSession).where(StoredSession.user_id == doctor.id)).one()
    session.last_seen = utcnow() - timedelta(minutes=4)
    live_db.commit()
    staff.clock.fast_forward("03:01")

    # Instead of asking "are you still there?", the page extends the session.
    def extended():
        live_db.expire_all()
        return live_db.get(StoredSession, session.id_hash).last_seen > utcnow() - timedelta(
            seconds=30
        )

    deadline = time.monotonic() + 10
    while not extended():
        assert time.monotonic() < deadline, "the session was not kept alive"
        staff.wait_for_timeout(200)
    expect(staff.locator("#idle-dialog")).not_to_have_attribute("open", "")
