"""Arrival notifications by web push (consultroom.alerts): staff subscribe
a device (the JSON a browser's pushManager gives), and when a client
arrives in their waiting list each of their devices gets one push, sent
through pywebpush to a fake push service on loopback that checks what a
real one checks (the VAPID signature) and decrypts the message with the
device's key, as the browser would. Endpoints outside the known push
services are refused (no requests to the inside of the network)."""

import base64
import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import http_ece
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from py_vapid import Vapid02
from pyramid.request import Request
from sqlalchemy import select

from consultroom.accounts.models import Role
from consultroom.alerts import keys
from consultroom.alerts.models import InstallationKey, PushSubscription
from consultroom.mail.models import OutboxMessage

from realtime_support import client_socket


def b64(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def unb64(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class FakePushService:
    """A push service on 127.0.0.1: keeps each POST (path, headers, body);
    answers 410 Gone for paths in ``gone``, else 201 Created."""

    def __init__(self):
        self.received = []
        self.gone = set()
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                service.received.append(
                    (self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                )
                self.send_response(410 if self.path in service.gone else 201)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def wait(self, count, timeout=10):
        deadline = time.time() + timeout
        while len(self.received) < count and time.time() < deadline:
            time.sleep(0.05)
        return self.received


class Device:
    """A browser's push subscription: its own key pair and auth secret."""

    def __init__(self, endpoint):
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.auth = os.urandom(16)
        point = self.key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        self.json = {"endpoint": endpoint, "keys": {"p256dh": b64(point), "auth": b64(self.auth)}}

    def row(self, org, user):
        return PushSubscription(
            organisation_id=org.id,
            user_id=user.id,
            endpoint=self.json["endpoint"],
            p256dh=self.json["keys"]["p256dh"],
            auth=self.json["keys"]["auth"],
        )

    def read(self, body):
        return json.loads(
            http_ece.decrypt(body, private_key=self.key, auth_secret=self.auth, version="aes128gcm")
        )


@pytest.fixture(scope="module")
def push_service():
    service = FakePushService()
    yield service
    service.httpd.shutdown()


def _vapid_checked(headers, audience):
    """The VAPID header's JWT, verified with the key it names (RFC 8292)."""
    scheme, _space, params = headers["authorization"].partition(" ")
    assert scheme == "vapid"
    fields = dict(part.strip().split("=", 1) for part in params.split(","))
    public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64(fields["k"]))
    header, payload, signature = fields["t"].split(".")
    assert json.loads(unb64(header))["alg"] == "ES256"
    raw = unb64(signature)  # r and s, 32 bytes each (JWS)
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    public.verify(
        der, f"{header}.{payload}".encode(), ec.ECDSA(hashes.SHA256())
    )  # raises if forged
    claims = json.loads(unb64(payload))
    assert claims["aud"] == audience and claims["sub"].startswith("mailto:")
    assert claims["exp"] > time.time()
    return fields["k"]


def test_an_arrival_pushes_once_to_each_device_of_the_practitioner(server, clinic, push_service):
    org, doctor = clinic
    colleague = server.user(org, name="Colleague")
    start = len(push_service.received)
    phone, laptop, other = (Device(push_service.url(f"/d/{n}-{org.id}")) for n in range(3))
    server.add(phone.row(org, doctor))
    server.add(laptop.row(org, doctor))
    server.add(other.row(org, colleague))
    appointment = server.appointment(org, doctor)
    client = client_socket(server, org, appointment)
    client.expect("waiting")
    received = push_service.wait(start + 2)[start:]
    assert sorted(path for path, _h, _b in received) == sorted([f"/d/0-{org.id}", f"/d/1-{org.id}"])
    keys = set()
    for path, headers, body in received:
        keys.add(_vapid_checked(headers, f"http://127.0.0.1:{push_service.port}"))
        assert headers["content-encoding"] == "aes128gcm" and int(headers["ttl"]) > 0
        device = phone if path.startswith("/d/0") else laptop
        message = device.read(body)
        assert message == {
            "title": "A client is waiting",
            "body": f"A client has arrived in the waiting room of {org.name}.",
            "url": "/waiting-room",
        }
        assert "Jansen" not in body.decode("latin-1")  # never who
    assert len(keys) == 1  # the installation's one key
    # A reload is no new arrival.
    client_socket(server, org, appointment).expect("waiting")
    time.sleep(0.5)
    assert len(push_service.received) == start + 2


def test_a_department_appointment_pushes_to_the_departments_members(server, clinic, push_service):
    org, _doctor = clinic
    desk = server.department(org, "Desk")
    member, outsider = server.user(org, department=desk), server.user(org)
    start = len(push_service.received)
    mine, theirs = (
        Device(push_service.url(f"/m/{org.id}")),
        Device(push_service.url(f"/o/{org.id}")),
    )
    server.add(mine.row(org, member))
    server.add(theirs.row(org, outsider))
    client_socket(server, org, server.appointment(org, department=desk)).expect("waiting")
    [(path, _headers, body)] = push_service.wait(start + 1)[start:]
    assert path == f"/m/{org.id}" and mine.read(body)["title"] == "A client is waiting"


def test_a_device_the_push_service_says_is_gone_is_forgotten(server, clinic, push_service):
    org, doctor = clinic
    device = Device(push_service.url(f"/gone/{org.id}"))
    push_service.gone.add(f"/gone/{org.id}")
    server.add(device.row(org, doctor))
    start = len(push_service.received)
    client_socket(server, org, server.appointment(org, doctor)).expect("waiting")
    push_service.wait(start + 1)
    deadline = time.time() + 5
    while server.query(
        select(PushSubscription.id).where(PushSubscription.endpoint == device.json["endpoint"])
    ):
        assert time.time() < deadline, "the gone subscription stayed"
        time.sleep(0.05)


# -- subscribing, over HTTP ---------------------------------------------------------------

FCM = "https://fcm.googleapis.com/fcm/send/"


def _staff(webtest, login, user):
    browser = webtest(user.organisation.subdomain)
    login(browser, user)
    page = browser.get("/profile")
    card = page.html.select_one("[data-push-alerts]")
    return browser, card


def _post(browser, card, action, body, status=200):
    return browser.post(
        card[f"data-{action}-url"],
        json.dumps(body) if not isinstance(body, str) else body,
        headers={"X-CSRF-Token": card["data-csrf-token"], "Content-Type": "application/json"},
        status=status,
    )


def test_staff_subscribe_and_unsubscribe_a_device(
    make_organisation, make_user, webtest, login, dbsession
):
    org = make_organisation("clinic")
    user = make_user(org)
    browser, card = _staff(webtest, login, user)
    key = unb64(card["data-server-key"])
    assert len(key) == 65 and key[0] == 4  # an uncompressed P-256 point
    device = Device(FCM + "abc")
    assert _post(browser, card, "subscribe", device.json).json == {"subscribed": True}
    assert _post(browser, card, "subscribe", device.json).json == {"subscribed": True}  # again
    rows = dbsession.scalars(
        select(PushSubscription).where(PushSubscription.user_id == user.id)
    ).all()
    assert [r.endpoint for r in rows] == [FCM + "abc"]
    # The key stays the same for the next page (and the next process).
    assert _staff(webtest, login, user)[1]["data-server-key"] == card["data-server-key"]
    assert _post(browser, card, "unsubscribe", device.json).json == {"subscribed": False}
    assert (
        dbsession.scalars(select(PushSubscription).where(PushSubscription.user_id == user.id)).all()
        == []
    )


def test_the_installation_key_is_decrypted_once_for_each_stored_value(
    app, make_organisation, make_user, webtest, login, dbsession, monkeypatch
):
    user = make_user(make_organisation("clinic"))
    first = _staff(webtest, login, user)[1]["data-server-key"]  # made and stored
    decrypted = []
    real = keys.decrypt
    monkeypatch.setattr(keys, "decrypt", lambda r, v: decrypted.append(v) or real(r, v))
    shown = [_staff(webtest, login, user)[1]["data-server-key"] for _ in range(3)]
    assert shown == [first] * 3
    assert len(decrypted) <= 1  # read once from the row (unless this process knew it)
    # Another key stored (a restored backup, say): shown at once.
    other = Vapid02()
    other.generate_keys()
    request = Request.blank("/")
    request.registry = app.registry
    row = dbsession.get(InstallationKey, keys.NAME)
    row.value = keys.encrypt(request, other.private_pem().decode())
    dbsession.flush()
    point = other.public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    assert _staff(webtest, login, user)[1]["data-server-key"] == b64(point)


@pytest.mark.parametrize(
    "endpoint",
    [
        "http://127.0.0.1:8080/x",  # no request to the inside of the network
        "https://169.254.169.254/latest",
        "https://fcm.googleapis.com.evil.example/x",
        "https://evil.example/fcm.googleapis.com",
        "ftp://fcm.googleapis.com/x",
    ],
)
def test_only_known_push_services_are_accepted(
    make_organisation, make_user, webtest, login, endpoint
):
    browser, card = _staff(webtest, login, make_user(make_organisation("clinic")))
    answer = _post(browser, card, "subscribe", Device(endpoint).json, status=400)
    assert "not one we send to" in answer.json["error"]


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        [],
        {"endpoint": FCM + "x"},
        {"endpoint": FCM + "x", "keys": {"p256dh": "short", "auth": b64(os.urandom(16))}},
        {"endpoint": FCM + "x", "keys": {"p256dh": b64(os.urandom(65)), "auth": "!!"}},
        {
            "endpoint": FCM + "x" * 1000,
            "keys": {"p256dh": b64(os.urandom(65)), "auth": b64(os.urandom(16))},
        },
        {"endpoint": 5, "keys": {}},
    ],
)
def test_a_malformed_subscription_is_refused(make_organisation, make_user, webtest, login, body):
    browser, card = _staff(webtest, login, make_user(make_organisation("clinic")))
    answer = _post(browser, card, "subscribe", body, status=400)
    assert answer.json["error"] == "This is not a push subscription."


def test_subscribing_needs_a_staff_session_and_the_csrf_token(
    make_organisation, make_user, webtest, login
):
    org = make_organisation("clinic")
    browser, card = _staff(webtest, login, make_user(org, role=Role.org_admin))
    body = json.dumps(Device(FCM + "y").json)
    browser.post(
        "/alerts/push/subscribe", body, headers={"Content-Type": "application/json"}, status=400
    )
    webtest("clinic").post("/alerts/push/subscribe", body, status=(302, 303, 403))


def test_the_staff_service_worker_is_served_from_the_root(make_organisation, webtest):
    make_organisation("clinic")
    worker = webtest("clinic").get("/staff-sw.js")
    assert worker.content_type == "text/javascript" and "showNotification" in worker.text


def test_a_departments_arrival_e_mail_is_queued_once_per_arrival(server, clinic):
    org, _doctor = clinic
    desk = server.department(org, "Desk")
    server.set_department_email(desk, f"desk-{org.id}@clinic.example")
    member = server.user(org, department=desk)
    appointment = server.appointment(org, member)  # the practitioner's department counts
    client_socket(server, org, appointment).expect("waiting")
    client_socket(server, org, appointment).expect("waiting")  # a reload: no second mail
    deadline = time.time() + 5
    while not _outbox(server, f"desk-{org.id}@clinic.example"):
        assert time.time() < deadline, "no arrival e-mail"
        time.sleep(0.05)
    time.sleep(0.3)
    [(subject, message)] = _outbox(server, f"desk-{org.id}@clinic.example")
    assert subject == "A client is waiting"
    text = message.decode()
    assert "waiting room of Desk" in text and "/waiting-room" in text
    assert "Jansen" not in text  # never who


def _outbox(server, recipient):
    return server.query(
        select(OutboxMessage.subject, OutboxMessage.message).where(
            OutboxMessage.recipient == recipient
        )
    )
