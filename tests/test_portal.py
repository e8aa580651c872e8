"""The client portal behind its PIN (consultroom.portal): the token alone
opens only the waiting room of an appointment whose link is open; the rest
needs the PIN e-mailed to the client (six digits, ten minutes, once, five
wrong tries, limited per client and per address); the portal session ends
when idle, on leaving, and when staff replace the link. Staff see, send,
print (PDF letter with QR code) and replace the link on the client page.
The portal is an installable web app (manifest, service worker, offline page)."""

import json
import os
import re
import subprocess
from contextlib import contextmanager
from datetime import timedelta

import pytest
import time_machine
from pyramid.request import Request, apply_request_extensions
from sqlalchemy import select

from consultroom.audit.models import AuditEntry
from consultroom.clients.models import Client
from consultroom.portal import pins
from consultroom.portal.models import PortalPin
from consultroom.testing import BASE_DOMAIN

from clientmail_support import START, body_of, book

PIN = re.compile(r"^\s+([0-9]{6})\s*$", re.M)
WAITING_ROOM = "Go to the waiting room"


def _home(client):
    return f"/portal/{client.portal_token}"


def _pin_mails(smtp):
    return [m for m in smtp.messages if m["Subject"].startswith("Your PIN for")]


def _ask_pin(browser, client, status=303, **kw):
    page = browser.get(_home(client), **kw)
    form = next(f for f in page.forms.values() if "/pin" in f.action)
    return form.submit(status=status, **kw)


def _enter(browser, client, pin, status=303, **kw):
    page = browser.get(_home(client), **kw)
    form = next(f for f in page.forms.values() if "/unlock" in f.action)
    form["pin"] = pin
    return form.submit(status=status, **kw)


def _mailed_pin(smtp):
    [pin] = PIN.findall(body_of(_pin_mails(smtp)[-1]))
    return pin


@pytest.fixture
def clinic(clinic_oost, app):
    """The clinic with one appointment on START (10:00 Amsterdam), seen well
    before its link opens (a week earlier) unless a test travels."""
    clinic_oost.appointment_id = book(
        app, "clinic", clinic_oost.client.id, clinic_oost.gp_practitioner.id
    )
    return clinic_oost


@pytest.fixture
def week_before():
    with time_machine.travel(START - timedelta(days=7), tick=False) as traveller:
        yield traveller


# --- the PIN ---------------------------------------------------------------------------


def test_the_token_alone_shows_nothing_but_the_pin_step(clinic, webtest, week_before):
    page = webtest("clinic").get(_home(clinic.client))
    assert "Send me a PIN" in page.text and "PIN from the e-mail" in page.text
    assert "2030" not in page.text and "Dr. Bakker" not in page.text
    assert page.headers["Cache-Control"] == "no-store"
    assert page.headers["Referrer-Policy"] == "no-referrer"


def test_the_mailed_pin_opens_the_portal_once(clinic, webtest, smtp, week_before):
    browser = webtest("clinic")
    sent = _ask_pin(browser, clinic.client).follow()
    assert "we have sent a PIN to it. It is valid for 10 minutes" in sent.text
    [mail] = _pin_mails(smtp)
    assert mail["To"] == "a.devries@example.org"
    body = body_of(mail)
    assert "valid for 10 minutes" in body and "/portal/" not in body
    pin = _mailed_pin(smtp)

    page = _enter(browser, clinic.client, pin).follow()
    assert "Tuesday, 5 March 2030" in page.text and "Dr. Bakker" in page.text
    # Outside the link window: listed, but no way into the waiting room yet.
    assert WAITING_ROOM not in page.text
    # Used once: after leaving, the same PIN does not open it again.
    form = next(f for f in page.forms.values() if "/leave" in f.action)
    assert "PIN from the e-mail" in form.submit().follow().text
    refused = _enter(browser, clinic.client, pin, status=400)
    assert "That PIN is not right, or no longer valid" in refused.text


def test_asking_gives_the_same_answer_without_an_e_mail_address(
    clinic, webtest, smtp, dbsession, week_before
):
    clinic.client.email = ""
    dbsession.flush()
    sent = _ask_pin(webtest("clinic"), clinic.client).follow()
    assert "we have sent a PIN to it" in sent.text
    assert _pin_mails(smtp) == []


def test_a_pin_lasts_ten_minutes(clinic, webtest, smtp, week_before):
    browser = webtest("clinic")
    _ask_pin(browser, clinic.client)
    pin = _mailed_pin(smtp)
    week_before.shift(timedelta(minutes=10))
    assert "no longer valid" in _enter(browser, clinic.client, pin, status=400).text
    # A new one replaces it, and works within its ten minutes.
    _ask_pin(browser, clinic.client)
    assert len(_pin_mails(smtp)) == 2
    week_before.shift(timedelta(minutes=9, seconds=59))
    _enter(browser, clinic.client, _mailed_pin(smtp))


def test_a_pin_dies_after_five_wrong_tries(clinic, webtest, smtp, week_before):
    browser = webtest("clinic")
    _ask_pin(browser, clinic.client)
    pin = _mailed_pin(smtp)
    wrong = f"{(int(pin) + 1) % 10**6:06d}"
    for _ in range(4):
        _enter(browser, clinic.client, wrong, status=400)
    _enter(browser, clinic.client, wrong, status=400)
    assert "no longer valid" in _enter(browser, clinic.client, pin, status=400).text


def test_a_malformed_pin_is_explained_and_costs_no_try(clinic, webtest, smtp, dbsession):
    browser = webtest("clinic")
    _ask_pin(browser, clinic.client)
    for typed in ["", "12345", "abcdef", "1234567", "１２３４５６"]:
        page = _enter(browser, clinic.client, typed, status=200)
        assert "Enter the six digits of the PIN" in page.text
    row = dbsession.scalar(select(PortalPin).where(PortalPin.client_id == clinic.client.id))
    assert row.wrong_tries == 0
    # Spaces and dashes as people type them are fine.
    pin = _mailed_pin(smtp)
    _enter(browser, clinic.client, f"{pin[:3]} {pin[3:]}")


def test_asking_for_pins_is_limited_per_client_and_per_address(
    clinic, webtest, smtp, app, monkeypatch, week_before
):
    browser = webtest("clinic")
    for n in range(5):
        _ask_pin(browser, clinic.client, extra_environ={"REMOTE_ADDR": f"192.0.2.{n}"})
    refused = _ask_pin(browser, clinic.client, extra_environ={"REMOTE_ADDR": "192.0.2.50"})
    assert "Too many failed attempts" in refused.follow().text
    assert len(_pin_mails(smtp)) == 5

    monkeypatch.setitem(app.registry.settings, "ratelimit.portal_pin_request_address.max", "2")
    other = webtest("clinic")
    clients = _more_clients(clinic, 3)  # the first client may not ask any more
    for client in clients[:2]:
        _ask_pin(other, client, extra_environ={"REMOTE_ADDR": "198.51.100.7"})
    refused = _ask_pin(other, clients[2], extra_environ={"REMOTE_ADDR": "198.51.100.7"})
    assert "Too many failed attempts" in refused.follow().text


def _more_clients(clinic, n):
    from consultroom.clients.models import Client

    dbsession = clinic.client._sa_instance_state.session
    extra = [
        Client(organisation_id=clinic.org.id, last_name=f"Extra {i}", email=f"x{i}@example.org")
        for i in range(n)
    ]
    dbsession.add_all(extra)
    dbsession.flush()
    return extra


# 10,000 on SQLite; on the PostgreSQL pass, where each guess's transaction
# costs several times more, 1,000 (the same limiter code, its row locks).
GUESSES = 10_000 if os.environ.get("CONSULTROOM_TEST_DB", "sqlite") == "sqlite" else 1_000


def test_ten_thousand_guesses_from_fifty_addresses_open_nothing(clinic, webtest, smtp, app):
    """Guessing the PIN: 10,000 guesses spread over 50 addresses, the right
    PIN the last of them, each in a request of its own (the PIN check as the
    unlock page calls it; the page itself is tested above). The per-client
    limit stops comparing after ten wrong guesses an hour, so none succeeds,
    not even the right one."""
    _ask_pin(webtest("clinic"), clinic.client)
    pin = _mailed_pin(smtp)
    wrong = (f"{n:06d}" for n in range(GUESSES + 1) if f"{n:06d}" != pin)
    guesses = [next(wrong) for _ in range(GUESSES - 1)] + [pin]
    # Loaded by its id: merging the test's object loaded its relations
    # too, about as much work as the PIN check itself.
    client_id = clinic.client.id
    opened = refused = 0
    for n, guess in enumerate(guesses):
        with _request_from(app, f"203.0.113.{n % 50}") as request:
            try:
                client = request.dbsession.get(Client, client_id)
                opened += pins.check_pin(request, client, guess)
            except pins.Locked:
                refused += 1
    assert opened == 0
    assert refused == GUESSES - 10  # ten wrong PINs were compared: the limit per client
    assert "PIN from the e-mail" in webtest("clinic").get(_home(clinic.client)).text


@contextmanager
def _request_from(app, address):
    request = Request.blank("/", base_url=f"http://clinic.{BASE_DOMAIN}")
    request.remote_addr = address
    request.registry = app.registry
    apply_request_extensions(request)
    with request.tm:
        yield request


# --- the link window ---------------------------------------------------------------------


def test_while_the_link_is_open_the_waiting_room_needs_no_pin(clinic, webtest):
    with time_machine.travel(START - timedelta(minutes=30), tick=False):
        page = webtest("clinic").get(_home(clinic.client))
    assert WAITING_ROOM in page.text
    assert "Send me a PIN" in page.text  # the rest still needs it
    assert "Dr. Bakker" not in page.text


# --- the portal session -------------------------------------------------------------------


def test_the_portal_closes_after_fifteen_idle_minutes(clinic, webtest, open_portal, week_before):
    browser = webtest("clinic")
    open_portal(browser, clinic.client)
    assert "Dr. Bakker" in browser.get(_home(clinic.client)).text
    week_before.shift(timedelta(minutes=14))
    assert "Dr. Bakker" in browser.get(_home(clinic.client)).text  # activity: 15 more
    week_before.shift(timedelta(minutes=15, seconds=1))
    assert "PIN from the e-mail" in browser.get(_home(clinic.client)).text


def test_after_the_pin_the_client_goes_back_where_they_were_going(clinic, webtest, smtp):
    browser = webtest("clinic")
    home = _home(clinic.client)
    wanted = f"{home}/messages/1"
    page = browser.get(f"{home}?next={wanted}")
    form = next(f for f in page.forms.values() if "/pin" in f.action)
    form.submit()
    page = browser.get(f"{home}?pin=sent&next={wanted}")
    form = next(f for f in page.forms.values() if "/unlock" in f.action)
    form["pin"] = _mailed_pin(smtp)
    assert form.submit(status=303).location.endswith(wanted)


@pytest.mark.parametrize(
    "elsewhere", ["https://evil.example/x", "//evil.example/x", "/clients", "/portal/other/x"]
)
def test_after_the_pin_no_address_outside_the_portal_is_followed(clinic, webtest, smtp, elsewhere):
    browser = webtest("clinic")
    home = _home(clinic.client)
    _ask_pin(browser, clinic.client)
    page = browser.get(f"{home}?next={elsewhere}")
    form = next(f for f in page.forms.values() if "/unlock" in f.action)
    form["pin"] = _mailed_pin(smtp)
    assert form.submit(status=303).location.endswith(home)


def test_the_portal_of_another_organisation_is_not_found(clinic, webtest, make_organisation):
    make_organisation("other")
    webtest("other").get(_home(clinic.client), status=404)
    webtest("other").get(_home(clinic.client) + "/manifest.webmanifest", status=404)


# --- staff: the link on the client page ------------------------------------------------


def _staff(webtest, login, user):
    browser = webtest("clinic")
    login(browser, user)
    return browser


def test_the_client_page_shows_the_portal_link_and_its_qr_code(clinic, webtest, login):
    page = _staff(webtest, login, clinic.gp_practitioner).get(f"/clients/{clinic.client.id}")
    card = page.html.select_one("#portal")
    url = card.select_one("#client-link")["value"]
    assert re.fullmatch(rf"https?://clinic\.consultroom\.test(:\d+)?{_home(clinic.client)}", url)
    assert card.select_one(".qr-code svg path")


def test_staff_e_mail_the_portal_link(clinic, webtest, login, smtp, dbsession):
    staff = _staff(webtest, login, clinic.gp_practitioner)
    page = staff.get(f"/clients/{clinic.client.id}")
    form = next(f for f in page.forms.values() if f.action.endswith("/portal/send"))
    assert "has been sent to a.devries@example.org" in form.submit().follow().text
    [mail] = [m for m in smtp.messages if m["Subject"].startswith("Your appointments with")]
    assert f"/portal/{clinic.client.portal_token}" in body_of(mail)
    entries = dbsession.scalars(
        select(AuditEntry.action).where(AuditEntry.object_id == str(clinic.client.id))
    ).all()
    assert "client.portal_link_sent" in entries

    clinic.client.email = ""
    dbsession.flush()
    page = staff.get(f"/clients/{clinic.client.id}")
    form = next(f for f in page.forms.values() if f.action.endswith("/portal/send"))
    assert (
        "no e-mail address"
        in staff.post(form.action, {"csrf_token": form["csrf_token"].value}).follow().text
    )


def test_replacing_the_link_kills_the_old_one_and_its_sessions(
    clinic, webtest, login, open_portal, dbsession, week_before
):
    client_browser = webtest("clinic")
    open_portal(client_browser, clinic.client)
    old = _home(clinic.client)
    assert "Dr. Bakker" in client_browser.get(old).text
    staff = _staff(webtest, login, clinic.gp_practitioner)
    page = staff.get(f"/clients/{clinic.client.id}")
    form = next(f for f in page.forms.values() if f.action.endswith("/portal/rotate"))
    assert "The old link no longer works" in form.submit().follow().text
    client_browser.get(old, status=404)
    client_browser.get(old + "/manifest.webmanifest", status=404)
    dbsession.refresh(clinic.client)
    assert _home(clinic.client) != old
    # Whoever holds only the new address still needs the PIN.
    assert "PIN from the e-mail" in webtest("clinic").get(_home(clinic.client)).text


def test_the_portal_letter_is_a_pdf_with_the_address_and_a_qr_code(
    clinic, webtest, login, tmp_path
):
    staff = _staff(webtest, login, clinic.gp_practitioner)
    response = staff.get(f"/clients/{clinic.client.id}/portal/letter.pdf")
    assert response.content_type == "application/pdf"
    assert response.headers["Cache-Control"] == "no-store"
    pdf = tmp_path / "letter.pdf"
    pdf.write_bytes(response.body)
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "A. de Vries" in text and "Clinic Oost" in text
    assert f"/portal/{clinic.client.portal_token}" in "".join(text.split())
    # The QR code is drawn: the page's image has far more dark pixels than text alone.
    subprocess.run(["pdftoppm", "-png", "-r", "50", str(pdf), str(tmp_path / "page")], check=True)
    from PIL import Image

    [png] = tmp_path.glob("page*.png")
    image = Image.open(png).convert("L")
    dark = sum(image.histogram()[:100])
    assert dark > 2_000


def test_the_portal_letter_writes_names_beyond_latin_1(clinic, webtest, login, dbsession, tmp_path):
    clinic.client.initials, clinic.client.last_name = "Ł.", "Wiśniewski-Çelik"
    clinic.org.name = "Zdrowie Łódź"
    dbsession.flush()
    staff = _staff(webtest, login, clinic.gp_practitioner)
    pdf = tmp_path / "letter.pdf"
    pdf.write_bytes(staff.get(f"/clients/{clinic.client.id}/portal/letter.pdf").body)
    text = subprocess.run(
        ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "Ł. Wiśniewski-Çelik" in text and "Zdrowie Łódź" in text


def test_staff_of_another_organisation_cannot_touch_the_link(
    clinic, webtest, login, make_organisation, make_user
):
    other = make_organisation("other")
    stranger = webtest("other")
    login(stranger, make_user(other))
    for path in ["/portal/letter.pdf"]:
        stranger.get(f"/clients/{clinic.client.id}{path}", status=404)
    page = stranger.get("/")
    token = page.html.select_one("input[name=csrf_token]")["value"]
    for action in ["rotate", "send"]:
        stranger.post(
            f"/clients/{clinic.client.id}/portal/{action}", {"csrf_token": token}, status=404
        )


def test_the_portal_actions_need_the_csrf_token(clinic, webtest, login):
    staff = _staff(webtest, login, clinic.gp_practitioner)
    staff.post(f"/clients/{clinic.client.id}/portal/rotate", status=400)
    webtest("clinic").post(f"{_home(clinic.client)}/pin", status=400)


# --- the installable web app --------------------------------------------------------------


def test_the_portal_is_an_installable_web_app(clinic, webtest, week_before):
    browser = webtest("clinic")
    page = browser.get(_home(clinic.client))
    link = page.html.select_one('link[rel="manifest"]')["href"]
    manifest = json.loads(browser.get(link).text)
    assert manifest["start_url"] == _home(clinic.client)
    assert manifest["scope"] == _home(clinic.client)
    assert manifest["name"] == "Clinic Oost" and manifest["display"] == "standalone"
    worker = browser.get("/portal/sw.js")
    assert worker.content_type == "text/javascript" and "/portal/offline.html" in worker.text
    assert "needs an internet connection" in browser.get("/portal/offline.html").text
