"""The network test's pages and offer forwarding, without opening a peer
connection (those tests, real WebRTC, are in tests/browser/): who may open
the page, what the application answers when the media server refuses the
offer, is down, hangs or is not configured, the rate limit, and the
``consultroom media`` command itself."""

import json
import socket
import subprocess
import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from consultroom.accounts.models import Role
from consultroom.appointments.models import Appointment, Status
from consultroom.clients.models import Client
from consultroom.db import utcnow
from consultroom.media.server import parse_offer
from consultroom.media.testing import COMMAND, media_server
from consultroom.room.models import ConnectionProblem
from consultroom.testing import free_port

# Enough SDP for the app to pass on (its checks are shape only) and for the
# media server to refuse: no ICE credentials, no DTLS fingerprint.
UNUSABLE_OFFER = {
    "type": "offer",
    "sdp": "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"
    "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\n"
    "a=mid:0\r\na=rtpmap:111 opus/48000/2\r\n",
}


@pytest.fixture
def org(make_organisation):
    return make_organisation("clinic", name="Clinic")


@pytest.fixture
def staff(org, make_user, webtest, login):
    app = webtest("clinic")
    login(app, make_user(org, role=Role.practitioner))
    return app


@pytest.fixture
def appointment(org, make_user, dbsession):
    appointment = Appointment(
        organisation_id=org.id,
        practitioner=make_user(org, name="Dr. Jansen"),
        client=Client(
            organisation_id=org.id,
            initials="A.",
            last_name="Bakker",
            email="a@example.org",
            language="nl",
        ),
        starts_at=utcnow() + timedelta(minutes=5),
        duration_minutes=20,
    )
    dbsession.add(appointment)
    dbsession.flush()
    return appointment


@pytest.fixture
def media_url(app, monkeypatch):
    def set_url(url, **more):
        monkeypatch.setitem(app.registry.settings, "media.url", url)
        for name, value in more.items():
            monkeypatch.setitem(app.registry.settings, f"media.{name}", str(value))

    return set_url


def post_offer(testapp, page_url, offer=UNUSABLE_OFFER, status="*"):
    page = testapp.get(page_url)
    root = page.html.find(id="nettest")
    return testapp.post(
        root["data-offer-url"],
        json.dumps(offer),
        headers={"X-CSRF-Token": root["data-csrf-token"], "Content-Type": "application/json"},
        status=status,
    )


def test_staff_find_the_test_in_their_profile_menu(staff, media_url):
    media_url("http://127.0.0.1:9")
    home = staff.get("/")
    link = home.html.select_one(".menu-profile a[href='/network-test']")
    assert link.text == "Network test"
    page = staff.get("/network-test")
    assert page.html.find(id="nettest-preview") is not None
    assert page.html.find(id="nettest-start") is not None
    assert page.html.find("script", src="/static/js/nettest.js") is not None
    messages = json.loads(page.html.find(id="nettest-messages").string)
    assert "{seconds}" in messages["measuring"]


def test_staff_page_needs_a_login(webtest, org):
    assert webtest("clinic").get("/network-test", status="*").status_int in (302, 303, 403)
    assert webtest("clinic").post("/network-test/offer", status="*").status_int in (400, 403)


def test_client_reaches_the_test_from_the_waiting_room(webtest, appointment, media_url):
    media_url("http://127.0.0.1:9")
    client = webtest("clinic")
    waiting = client.get(f"/c/{appointment.token}")
    url = f"/c/{appointment.token}/network-test"
    assert waiting.html.select_one(f"a[href='{url}']") is not None
    page = client.get(url)
    assert page.html.find("html")["lang"] == "nl"  # the client's language
    assert page.headers["Cache-Control"] == "no-store"
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert page.html.find(id="nettest")["data-offer-url"] == f"{url}/offer"


def test_client_page_needs_a_live_appointment_of_this_organisation(
    webtest, appointment, make_organisation, dbsession
):
    make_organisation("other")
    url = f"/c/{appointment.token}/network-test"
    assert webtest("other").get(url, status="*").status_int == 404
    assert webtest("clinic").get("/c/not-a-token/network-test", status="*").status_int == 404
    appointment.status = Status.cancelled
    dbsession.flush()
    client = webtest("clinic")
    assert client.get(f"/c/{appointment.token}/network-test", status="*").status_int == 404
    assert client.post(f"/c/{appointment.token}/network-test/offer", status="*").status_int in (
        400,
        404,
    )


def test_media_server_refusing_the_offer_is_a_clear_400(staff, media_url, tmp_path):
    with media_server(tmp_path) as media:
        media_url(media.url)
        response = post_offer(staff, "/network-test")
        assert media.health()["peers"] == 0
    assert response.status_int == 400
    assert response.json["error"] == "bad_offer"
    assert "not understood" in response.json["message"]


def test_media_server_down_is_a_clear_503(webtest, appointment, media_url):
    media_url(f"http://127.0.0.1:{free_port()}")
    response = post_offer(webtest("clinic"), f"/c/{appointment.token}/network-test")
    assert response.status_int == 503
    assert response.json["error"] == "unavailable"
    assert response.json["message"]


def test_media_server_that_hangs_times_out(staff, media_url):
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        media_url(f"http://127.0.0.1:{silent.getsockname()[1]}", timeout=0.5)
        started = time.monotonic()
        response = post_offer(staff, "/network-test")
    assert response.status_int == 503 and response.json["error"] == "unavailable"
    assert time.monotonic() - started < 5


def test_without_a_media_server_the_page_keeps_the_preview(staff, media_url):
    media_url("")
    page = staff.get("/network-test")
    assert page.html.find(id="nettest-preview") is not None
    assert page.html.find(id="nettest-start") is None
    assert "not available on this server" in page.text
    assert post_offer(staff, "/network-test").json["error"] == "unavailable"


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        json.dumps([1]),
        json.dumps({"type": "answer", "sdp": "v=0"}),
        json.dumps({"type": "offer", "sdp": 1}),
        json.dumps({"type": "offer", "sdp": "x" * 70000}),
        "[" * 50_000,  # nested too deeply to parse
    ],
)
def test_malformed_offers_are_refused_before_forwarding(staff, media_url, body):
    media_url(f"http://127.0.0.1:{free_port()}")
    root = staff.get("/network-test").html.find(id="nettest")
    response = staff.post(
        "/network-test/offer",
        body,
        status=400,
        headers={"X-CSRF-Token": root["data-csrf-token"], "Content-Type": "application/json"},
    )
    assert response.json["error"] == "bad_offer"


def test_offer_needs_the_csrf_token(staff, media_url):
    media_url(f"http://127.0.0.1:{free_port()}")
    staff.post(
        "/network-test/offer",
        json.dumps(UNUSABLE_OFFER),
        status=400,
        headers={"Content-Type": "application/json"},
    )


def test_tests_are_rate_limited(staff, media_url, app, monkeypatch):
    media_url(f"http://127.0.0.1:{free_port()}")
    monkeypatch.setitem(app.registry.settings, "ratelimit.network_test.max", "3")
    answers = [post_offer(staff, "/network-test") for _ in range(4)]
    assert [a.json["error"] for a in answers] == ["unavailable"] * 3 + ["rate_limited"]
    assert answers[-1].status_int == 429
    assert "Try again in 15 minutes" in answers[-1].json["message"]


def test_media_server_checks_the_offer_shape():
    section = "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=rtpmap:111 opus/48000/2\r\n"
    head = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"
    assert parse_offer({"type": "offer", "sdp": head + section}) is not None
    assert parse_offer({"type": "offer", "sdp": head + section * 4}) is None  # one encoder too many
    assert parse_offer({"type": "offer", "sdp": head}) is None
    assert parse_offer({"type": "offer", "sdp": "v=0\r\nm=audio"}) is None
    assert parse_offer({"type": "answer", "sdp": head + section}) is None
    assert parse_offer(["offer"]) is None


def test_media_command_serves_until_terminated(tmp_path):
    with media_server(tmp_path, max_peers=3) as media:
        assert media.health() == {"peers": 0, "max_peers": 3}
    assert media.process.returncode == 0
    assert f"media server on {media.url}" in media.output()


@pytest.mark.parametrize(
    "setting, message",
    [
        ("", "set media.url"),
        ("media.url = https://127.0.0.1", "media.url must look like http://127.0.0.1:8765"),
    ],
)
def test_media_command_needs_a_usable_url(tmp_path, setting, message):
    ini = tmp_path / "media.ini"
    ini.write_text(f"[app:main]\nuse = egg:consultroom\n{setting}\n")
    done = subprocess.run([COMMAND, "-c", ini, "media"], capture_output=True, text=True, timeout=30)
    assert done.returncode == 1
    assert message in done.stderr


# -- a test that could not connect counts in the usage report -----------------------------


def _report_problem(testapp, page_url, status=200):
    root = testapp.get(page_url).html.find(id="nettest")
    return testapp.post(
        root["data-problem-url"],
        "{}",
        headers={"X-CSRF-Token": root["data-csrf-token"], "Content-Type": "application/json"},
        status=status,
    )


def test_a_failed_test_is_recorded_as_a_connection_problem(
    staff, webtest, appointment, media_url, dbsession, app, monkeypatch
):
    media_url("http://127.0.0.1:9")
    assert _report_problem(staff, "/network-test").json == {"recorded": True}
    client = webtest("clinic")
    _report_problem(client, f"/c/{appointment.token}/network-test")
    rows = dbsession.execute(
        select(ConnectionProblem.kind, ConnectionProblem.role, ConnectionProblem.appointment_id)
        .where(ConnectionProblem.organisation_id == appointment.organisation_id)
        .order_by(ConnectionProblem.id)
    ).all()
    assert rows == [("network_test", "staff", None), ("network_test", "client", appointment.id)]
    # Under the tests' own limit, and only with the CSRF token.
    monkeypatch.setitem(app.registry.settings, "ratelimit.network_test.max", "1")
    assert (
        _report_problem(client, f"/c/{appointment.token}/network-test", 429).json["error"]
        == "rate_limited"
    )
    staff.post("/network-test/problem", "{}", status=400)
