"""Fake translation services on loopback for the translation plugin's
translator tests: LibreTranslate (``GET /languages``, ``POST /translate``)
and DeepL's API v2 (``GET /v2/languages``, ``POST /v2/translate`` with the
``DeepL-Auth-Key`` authorisation), speaking their documented request and
answer shapes, with a small phrase book instead of a model. A test can make
either slow, broken or answer nonsense, and reads what it was asked."""

import json
import time
from urllib.parse import parse_qsl, urlsplit

from payments_fakes import _FakeServer, _JsonHandler

LIBRE_KEY = "libre-test-key-3f9a"
DEEPL_KEY = "0f4c6c1e-deepl-test-key:fx"
# What the fakes "translate": phrase -> {target: translation}.
PHRASES = {
    "Good morning": {"nl": "Goedemorgen", "de": "Guten Morgen", "es": "Buenos días"},
    "How are you?": {"nl": "Hoe gaat het?", "de": "Wie geht es dir?", "es": "¿Cómo estás?"},
}


def phrase(text, target):
    """The phrase book's translation, or the text in brackets with the
    target (so a test sees that the service was asked)."""
    return PHRASES.get(text, {}).get(target, f"[{target}] {text}")


class _Service(_FakeServer):
    """What both fakes share: the calls they had, and a mode a test sets:
    ``None`` (answer), ``"slow"`` (wait ``delay`` seconds first), an int
    (that HTTP status with an error body) or ``"nonsense"`` (200, not JSON)."""

    def __init__(self):
        self.calls = []  # (method, path, headers, body)
        self.mode = None
        self.delay = 2.0
        super().__init__()

    def _handler(self):
        fake = self

        class Handler(_JsonHandler):
            def handle(self):
                try:
                    super().handle()
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting ("slow"): what the test wanted

            def _call(self, method):
                parts = urlsplit(self.path)
                raw = self._body() if method == "POST" else b""
                body = json.loads(raw) if raw else dict(parse_qsl(parts.query))
                with fake.lock:
                    fake.calls.append((method, parts.path, dict(self.headers), body))
                if fake.mode == "slow":
                    time.sleep(fake.delay)
                elif fake.mode == "nonsense":
                    return self._raw(b"<html>gateway</html>")
                elif isinstance(fake.mode, int):
                    return self._json(fake.mode, {"error": "failed", "message": "failed"})
                status, answer = fake.answer(method, parts.path, self.headers, body)
                return self._json(status, answer)

            def _raw(self, data):
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                self._call("GET")

            def do_POST(self):
                self._call("POST")

        return Handler

    def translations(self):
        """The bodies of the translate calls so far."""
        with self.lock:
            return [c[3] for c in self.calls if c[0] == "POST"]


class FakeLibreTranslate(_Service):
    """LibreTranslate with English, Dutch and German (Spanish only from
    English); with ``api_key`` set, /translate refuses other keys (403)."""

    LANGUAGES = [
        {"code": "en", "name": "English", "targets": ["de", "en", "es", "nl"]},
        {"code": "nl", "name": "Dutch", "targets": ["de", "en", "nl"]},
        {"code": "de", "name": "German", "targets": ["de", "en", "nl"]},
    ]

    def __init__(self, api_key=""):
        self.api_key = api_key
        super().__init__()

    def answer(self, method, path, headers, body):
        if (method, path) == ("GET", "/languages"):
            return 200, self.LANGUAGES
        if (method, path) != ("POST", "/translate"):
            return 404, {"error": "Not Found"}
        if self.api_key and body.get("api_key") != self.api_key:
            return 403, {"error": "Invalid API key"}
        targets = {x["code"]: x["targets"] for x in self.LANGUAGES}
        if body.get("target") not in targets.get(body.get("source"), []):
            return 400, {"error": f"{body.get('target')} is not supported"}
        return 200, {"translatedText": phrase(body["q"], body["target"])}


class FakeDeepL(_Service):
    """DeepL's API v2 for the key ``DEEPL_KEY``: sources EN, NL, DE, SV;
    targets DE, EN-GB, EN-US, NL, SV (English only as a variety)."""

    SOURCES = [
        {"language": c, "name": n}
        for c, n in (("DE", "German"), ("EN", "English"), ("NL", "Dutch"), ("SV", "Swedish"))
    ]
    TARGETS = [
        {"language": c, "name": n, "supports_formality": f}
        for c, n, f in (
            ("DE", "German", True),
            ("EN-GB", "English (British)", False),
            ("EN-US", "English (American)", False),
            ("NL", "Dutch", True),
            ("SV", "Swedish", False),
        )
    ]

    def answer(self, method, path, headers, body):
        if headers.get("Authorization") != f"DeepL-Auth-Key {DEEPL_KEY}":
            return 403, {"message": "Wrong endpoint or authorization key"}
        if (method, path) == ("GET", "/v2/languages"):
            return 200, self.TARGETS if body.get("type") == "target" else self.SOURCES
        if (method, path) != ("POST", "/v2/translate"):
            return 404, {"message": "Not found"}
        if body.get("target_lang") not in {t["language"] for t in self.TARGETS}:
            return 400, {"message": "Value for 'target_lang' not supported."}
        if not isinstance(body.get("text"), list):
            return 400, {"message": "Parameter 'text' not specified."}
        target = body["target_lang"].split("-")[0].lower()
        translations = [
            {"detected_source_language": body.get("source_lang", "EN"), "text": phrase(t, target)}
            for t in body["text"]
        ]
        return 200, {"translations": translations}
