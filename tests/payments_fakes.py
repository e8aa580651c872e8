"""Fake payment providers on loopback for the payments plugin's tests: a
small Stripe API (Checkout Sessions, refunds, a checkout page, signed
webhooks) that the real ``stripe`` SDK talks to. It speaks Stripe's wire
protocol (form-encoded requests, JSON objects, the Idempotency-Key header,
the Stripe-Signature scheme) and keeps what it was asked, for the tests'
assertions."""

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


class FakeStripe:
    """Stripe's API on 127.0.0.1: ``url`` is its base address."""

    def __init__(self):
        self.sessions = {}
        self.by_key = {}  # Idempotency-Key -> session id
        self.creates = []  # every POST /v1/checkout/sessions: (key, form)
        self.refunds = []
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

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _json(self, status, body):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _authorised(self):
                if self.headers.get("Authorization") == f"Bearer {SECRET_KEY}":
                    return True
                error = {"message": "Invalid API Key provided", "type": "invalid_request_error"}
                self._json(401, {"error": error})
                return False

            def _form(self):
                length = int(self.headers.get("Content-Length") or 0)
                return dict(parse_qsl(self.rfile.read(length).decode()))

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
                    self.send_response(303)
                    self.send_header("Location", session["success_url"])
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return None
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
                page = (
                    "<!doctype html><html lang=en><title>Fake Stripe Checkout</title>"
                    f"<h1>Pay {amount:.2f} {session['currency'].upper()}</h1>"
                    f'<form method=post action="/checkout/{session_id}">'
                    "<button type=submit>Pay now</button></form>"
                    f'<a href="{session["cancel_url"]}">Cancel</a>'
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(page)))
                self.end_headers()
                self.wfile.write(page)

        return Handler
