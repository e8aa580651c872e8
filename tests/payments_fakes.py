"""Fake payment providers on loopback for the payments plugin's tests: a
small Stripe API (Checkout Sessions, refunds, a checkout page, signed
webhooks) that the real ``stripe`` SDK talks to. It speaks Stripe's wire
protocol (form-encoded requests, JSON objects, the Idempotency-Key header,
the Stripe-Signature scheme) and keeps what it was asked, for the tests'
assertions."""

import base64
import hashlib
import hmac
import itertools
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

SECRET_KEY = "sk_test_consultroom"
WEBHOOK_SECRET = "whsec_test_consultroom"


def stripe_signature(payload, secret=WEBHOOK_SECRET, timestamp=None):
    """The Stripe-Signature header of ``payload`` (bytes) as Stripe signs it."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    signed = f"{timestamp}.".encode() + payload
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


class _JsonHandler(BaseHTTPRequestHandler):
    """What both fakes' handlers share: quiet, JSON answers, bodies, redirects, pages."""

    def log_message(self, *args):
        pass

    def _json(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length)

    def _redirect(self, location):
        self.send_response(303)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _html(self, page):
        data = page.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class _FakeServer:
    """A threaded HTTP server on 127.0.0.1 (``url``), run while in ``with``."""

    def __init__(self):
        self.lock = threading.Lock()
        self._ids = itertools.count(1)
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def _handler(self):
        raise NotImplementedError


class FakeStripe(_FakeServer):
    """Stripe's API on 127.0.0.1: ``url`` is its base address."""

    def __init__(self):
        self.sessions = {}
        self.by_key = {}  # Idempotency-Key -> session id
        self.creates = []  # every POST /v1/checkout/sessions: (key, form)
        self.refunds = []
        super().__init__()

    # -- what the tests do ---------------------------------------------------

    def pay(self, session_id, amount=None):
        """The client pays on Stripe's page (``amount`` in minor units: what
        Stripe says was paid, to test a changed amount)."""
        session = self.sessions[session_id]
        session.update(status="complete", payment_status="paid")
        if amount is not None:
            session["amount_total"] = amount
        return session

    def event(self, session_id, kind="checkout.session.completed", event_id=None):
        """A webhook event's body (bytes) about a session, as Stripe sends it."""
        body = {
            "id": event_id or f"evt_{next(self._ids)}",
            "object": "event",
            "type": kind,
            "created": int(time.time()),
            "data": {"object": self.sessions[session_id]},
        }
        return json.dumps(body).encode()

    # -- the API -------------------------------------------------------------

    def _create_session(self, key, form):
        with self.lock:
            self.creates.append((key, form))
            if key and key in self.by_key:
                return self.sessions[self.by_key[key]]
            number = next(self._ids)
            session = {
                "id": f"cs_test_{number}",
                "object": "checkout.session",
                "mode": form.get("mode"),
                "status": "open",
                "payment_status": "unpaid",
                "amount_total": int(form["line_items[0][price_data][unit_amount]"]),
                "currency": form["line_items[0][price_data][currency]"],
                "success_url": form["success_url"],
                "cancel_url": form["cancel_url"],
                "client_reference_id": form.get("client_reference_id"),
                "customer_email": form.get("customer_email"),
                "payment_intent": f"pi_test_{number}",
                "url": f"{self.url}/checkout/cs_test_{number}",
            }
            self.sessions[session["id"]] = session
            if key:
                self.by_key[key] = session["id"]
            return session

    def _handler(self):
        fake = self

        class Handler(_JsonHandler):
            def _authorised(self):
                if self.headers.get("Authorization") == f"Bearer {SECRET_KEY}":
                    return True
                error = {"message": "Invalid API Key provided", "type": "invalid_request_error"}
                self._json(401, {"error": error})
                return False

            def _form(self):
                return dict(parse_qsl(self._body().decode()))

            def do_GET(self):
                path = urlsplit(self.path).path
                if path.startswith("/checkout/"):
                    return self._checkout_page(path.rsplit("/", 1)[1])
                if not self._authorised():
                    return None
                if path.startswith("/v1/checkout/sessions/"):
                    session = fake.sessions.get(path.rsplit("/", 1)[1])
                    if session is None:
                        error = {
                            "message": "No such checkout.session",
                            "type": "invalid_request_error",
                        }
                        return self._json(404, {"error": error})
                    return self._json(200, session)
                return self._json(404, {"error": {"message": "Unknown path"}})

            def do_POST(self):
                path = urlsplit(self.path).path
                form = self._form()
                if path.startswith("/checkout/"):
                    session = fake.pay(path.rsplit("/", 1)[1])
                    return self._redirect(session["success_url"])
                if not self._authorised():
                    return None
                if path == "/v1/checkout/sessions":
                    key = self.headers.get("Idempotency-Key")
                    return self._json(200, fake._create_session(key, form))
                if path == "/v1/refunds":
                    refund = {
                        "id": f"re_test_{next(fake._ids)}",
                        "object": "refund",
                        "amount": int(form["amount"]),
                        "payment_intent": form["payment_intent"],
                        "status": "succeeded",
                    }
                    fake.refunds.append(refund)
                    return self._json(200, refund)
                return self._json(404, {"error": {"message": "Unknown path"}})

            def _checkout_page(self, session_id):
                session = fake.sessions.get(session_id)
                if session is None:
                    self.send_response(404)
                    self.end_headers()
                    return
                amount = session["amount_total"] / 100
                self._html(
                    "<!doctype html><html lang=en><title>Fake Stripe Checkout</title>"
                    f"<h1>Pay {amount:.2f} {session['currency'].upper()}</h1>"
                    f'<form method=post action="/checkout/{session_id}">'
                    "<button type=submit>Pay now</button></form>"
                    f'<a href="{session["cancel_url"]}">Cancel</a>'
                )

        return Handler


PAYPAL_CLIENT_ID = "paypal-client-consultroom"
PAYPAL_SECRET = "paypal-secret-consultroom"
PAYPAL_WEBHOOK_ID = "WH-CONSULTROOM-1"


class FakePayPal(_FakeServer):
    """PayPal's REST API (OAuth2 client credentials, Orders v2, captures and
    refunds, verify-webhook-signature) and its approval page, on
    127.0.0.1: ``url`` is its base address."""

    def __init__(self):
        self.orders = {}
        self.by_request_id = {}
        self.creates = []
        self.captures = []  # PayPal-Request-Id of each capture call
        self.refunds = []
        self.issued = {}  # transmission id -> (signature, digest of the event) it signed
        self.token = "A21AA-fake-token"
        super().__init__()

    def approve(self, order_id):
        """The client approves the order at PayPal."""
        self.orders[order_id]["status"] = "APPROVED"
        return self.orders[order_id]

    def capture_event(self, order_id, event_id=None, value=None):
        """(body, headers) of PayPal's PAYMENT.CAPTURE.COMPLETED webhook call
        about a captured order, signed by this fake."""
        order = self.orders[order_id]
        capture = order["purchase_units"][0]["payments"]["captures"][0]
        resource = {
            **capture,
            "amount": {**capture["amount"], **({"value": value} if value else {})},
            "supplementary_data": {"related_ids": {"order_id": order_id}},
        }
        return self.signed_event("PAYMENT.CAPTURE.COMPLETED", resource, event_id)

    def approved_event(self, order_id):
        """(body, headers) of PayPal's CHECKOUT.ORDER.APPROVED webhook call:
        the client approved the order (and may never come back)."""
        return self.signed_event("CHECKOUT.ORDER.APPROVED", self.orders[order_id])

    def signed_event(self, kind, resource, event_id=None):
        body = json.dumps(
            {
                "id": event_id or f"WH-EVT-{next(self._ids)}",
                "event_type": kind,
                "resource": resource,
            }
        ).encode()
        transmission = f"tx-{next(self._ids)}"
        signature = hashlib.sha256(transmission.encode() + body).hexdigest()
        self.issued[transmission] = (signature, _digest(json.loads(body)))
        headers = {
            "PAYPAL-AUTH-ALGO": "SHA256withRSA",
            "PAYPAL-CERT-URL": f"{self.url}/certs/fake.pem",
            "PAYPAL-TRANSMISSION-ID": transmission,
            "PAYPAL-TRANSMISSION-SIG": signature,
            "PAYPAL-TRANSMISSION-TIME": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "Content-Type": "application/json",
        }
        return body, headers

    def _verified(self, call):
        """PayPal checks the signature over the event it signed: here, that
        this fake signed this transmission, with this signature, of this
        very event, for this webhook."""
        issued = self.issued.get(call.get("transmission_id"))
        return (
            issued is not None
            and call.get("webhook_id") == PAYPAL_WEBHOOK_ID
            and issued == (call.get("transmission_sig"), _digest(call.get("webhook_event")))
        )

    def _create(self, request_id, body):
        with self.lock:
            self.creates.append((request_id, body))
            if request_id and request_id in self.by_request_id:
                return self.orders[self.by_request_id[request_id]]
            order_id = f"ORDER{next(self._ids):06d}"
            context = body["payment_source"]["paypal"]["experience_context"]
            order = {
                "id": order_id,
                "intent": body["intent"],
                "status": "PAYER_ACTION_REQUIRED",
                "purchase_units": [
                    {
                        "amount": body["purchase_units"][0]["amount"],
                        "custom_id": body["purchase_units"][0].get("custom_id"),
                    }
                ],
                "return_url": context["return_url"],
                "cancel_url": context["cancel_url"],
                "links": [
                    {
                        "href": f"{self.url}/v2/checkout/orders/{order_id}",
                        "rel": "self",
                        "method": "GET",
                    },
                    {
                        "href": f"{self.url}/checkoutnow?token={order_id}",
                        "rel": "payer-action",
                        "method": "GET",
                    },
                ],
            }
            self.orders[order_id] = order
            if request_id:
                self.by_request_id[request_id] = order_id
            return order

    def _capture(self, order_id, request_id):
        with self.lock:
            self.captures.append(request_id)
            order = self.orders.get(order_id)
            if order is None:
                return 404, {"name": "RESOURCE_NOT_FOUND"}
            if order["status"] == "COMPLETED":
                return 200, order
            if order["status"] != "APPROVED":
                return 422, {
                    "name": "UNPROCESSABLE_ENTITY",
                    "details": [{"issue": "ORDER_NOT_APPROVED"}],
                }
            order["status"] = "COMPLETED"
            order["purchase_units"][0]["payments"] = {
                "captures": [
                    {
                        "id": f"CAPTURE{next(self._ids)}",
                        "status": "COMPLETED",
                        "amount": order["purchase_units"][0]["amount"],
                    }
                ]
            }
            return 201, order

    def _handler(self):
        fake = self

        class Handler(_JsonHandler):
            def _authorised(self):
                if self.headers.get("Authorization") == f"Bearer {fake.token}":
                    return True
                self._json(401, {"error": "invalid_token"})
                return False

            def do_GET(self):
                parts = urlsplit(self.path)
                if parts.path == "/checkoutnow":
                    return self._page(dict(parse_qsl(parts.query)).get("token", ""))
                if not self._authorised():
                    return None
                if parts.path.startswith("/v2/checkout/orders/"):
                    order = fake.orders.get(parts.path.rsplit("/", 1)[1])
                    return self._json(
                        200 if order else 404, order or {"name": "RESOURCE_NOT_FOUND"}
                    )
                return self._json(404, {"name": "NOT_FOUND"})

            def do_POST(self):
                parts = urlsplit(self.path)
                body = self._body()
                if parts.path == "/v1/oauth2/token":
                    expected = (
                        "Basic "
                        + base64.b64encode(f"{PAYPAL_CLIENT_ID}:{PAYPAL_SECRET}".encode()).decode()
                    )
                    if self.headers.get("Authorization") != expected:
                        return self._json(401, {"error": "invalid_client"})
                    token = {
                        "access_token": fake.token,
                        "token_type": "Bearer",
                        "expires_in": 32400,
                    }
                    return self._json(200, token)
                if parts.path == "/checkoutnow":
                    order_id = dict(parse_qsl(body.decode())).get("token", "")
                    order = fake.approve(order_id)
                    return self._redirect(f"{order['return_url']}&token={order_id}&PayerID=PAYER1")
                if not self._authorised():
                    return None
                request_id = self.headers.get("PayPal-Request-Id")
                if parts.path == "/v2/checkout/orders":
                    return self._json(201, fake._create(request_id, json.loads(body)))
                if parts.path.startswith("/v2/checkout/orders/") and parts.path.endswith(
                    "/capture"
                ):
                    return self._json(*fake._capture(parts.path.split("/")[-2], request_id))
                if parts.path.startswith("/v2/payments/captures/") and parts.path.endswith(
                    "/refund"
                ):
                    refund = {
                        "id": f"REFUND{next(fake._ids)}",
                        "status": "COMPLETED",
                        "amount": json.loads(body)["amount"],
                    }
                    fake.refunds.append(refund)
                    return self._json(201, refund)
                if parts.path == "/v1/notifications/verify-webhook-signature":
                    ok = fake._verified(json.loads(body))
                    return self._json(200, {"verification_status": "SUCCESS" if ok else "FAILURE"})
                return self._json(404, {"name": "NOT_FOUND"})

            def _page(self, order_id):
                order = fake.orders.get(order_id)
                if order is None:
                    return self._json(404, {"name": "RESOURCE_NOT_FOUND"})
                amount = order["purchase_units"][0]["amount"]
                return self._html(
                    "<!doctype html><html lang=en><title>Fake PayPal</title>"
                    f"<h1>Pay {amount['value']} {amount['currency_code']}</h1>"
                    '<form method=post action="/checkoutnow">'
                    f'<input type=hidden name=token value="{order_id}">'
                    "<button type=submit>Pay now</button></form>"
                )

        return Handler


def _digest(event):
    return hashlib.sha256(json.dumps(event, sort_keys=True).encode()).hexdigest()
