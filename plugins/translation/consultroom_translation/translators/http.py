"""What the HTTP adapters (LibreTranslate, DeepL) share: one requests
session, a timeout on every call, failures turned into
:class:`TranslationFailed` with a reason safe to log (a status code or the
exception's class, never a URL, header or body that could hold a key), and
the service's language list cached for an hour (a minute after a failure,
so that a service that was down is asked again soon, not on every caption)."""

import threading
import time
from urllib.parse import urlsplit

import requests
from pyramid.exceptions import ConfigurationError

from consultroom_translation.translators import TranslationFailed, Translator, log

PAIRS_SECONDS = 3600
PAIRS_RETRY_SECONDS = 60
MAX_ANSWER_BYTES = 1024 * 1024


def checked_url(setting, url):
    """``url`` without a trailing slash; ConfigurationError unless it is an
    http(s) address with a host."""
    parts = urlsplit(url or "")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigurationError(f"{setting}: an http:// or https:// address, not {url!r}")
    return url.rstrip("/")


class HttpTranslator(Translator):
    def __init__(self, url, timeout):
        self.url = url
        self.timeout = timeout
        self._session = requests.Session()
        self._lock = threading.Lock()
        self._pairs = frozenset()
        self._pairs_until = 0.0

    def _headers(self):
        return {}

    def request(self, method, path, **kwargs):
        """The JSON answer of ``method path``; TranslationFailed otherwise."""
        try:
            response = self._session.request(
                method,
                self.url + path,
                headers=self._headers(),
                timeout=self.timeout,
                allow_redirects=False,
                **kwargs,
            )
            if response.status_code != 200:
                raise TranslationFailed(f"HTTP {response.status_code}")
            if len(response.content) > MAX_ANSWER_BYTES:
                raise TranslationFailed("answer too large")
            return response.json()
        except requests.Timeout:
            raise TranslationFailed("timed out") from None
        except ValueError:  # before RequestException: requests' JSONDecodeError is both
            raise TranslationFailed("answer is not JSON") from None
        except requests.RequestException as exc:
            raise TranslationFailed(f"unreachable ({type(exc).__name__})") from None

    def pairs(self):
        with self._lock:
            if time.monotonic() >= self._pairs_until:
                try:
                    self._pairs = frozenset(self._fetch_pairs())
                    self._pairs_until = time.monotonic() + PAIRS_SECONDS
                except (TranslationFailed, TypeError, KeyError, AttributeError) as exc:
                    reason = getattr(exc, "reason", "bad language list")
                    log.warning("translator %s: languages not read: %s", self.name, reason)
                    self._pairs = frozenset()
                    self._pairs_until = time.monotonic() + PAIRS_RETRY_SECONDS
            return self._pairs

    def _fetch_pairs(self):
        raise NotImplementedError
