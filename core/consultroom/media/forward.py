"""Passing a browser's offer to the media server and its answer back, from
the application's (gevent) process: plain urllib, cooperative once gevent
has patched the socket module, with a timeout."""

import json
import urllib.error
import urllib.request

MAX_ANSWER_BYTES = 64 * 1024

# The media server is on loopback or a private address: never through a
# proxy from the environment (http_proxy), whatever no_proxy says.
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class MediaError(Exception):
    """The media server did not answer the offer; ``code`` says why:
    "unavailable" (down, timed out, nonsense), "busy" or "bad_offer"."""

    def __init__(self, code):
        super().__init__(code)
        self.code = code


def _error_code(exc):
    try:
        code = json.loads(exc.read(1024)).get("error")
    except (ValueError, AttributeError, OSError):
        code = None
    return code if code in ("busy", "bad_offer") else "unavailable"


def forward_offer(media, offer):
    """The media server's answer ``{"sdp", "type"}`` to ``offer``."""
    request = urllib.request.Request(
        f"{media.url}/offer",
        data=json.dumps(offer).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with _opener.open(request, timeout=media.timeout) as response:
            answer = json.loads(response.read(MAX_ANSWER_BYTES))
    except urllib.error.HTTPError as exc:
        raise MediaError(_error_code(exc)) from None
    except (OSError, ValueError):  # refused, timed out, not JSON
        raise MediaError("unavailable") from None
    if not (
        isinstance(answer, dict)
        and answer.get("type") == "answer"
        and isinstance(answer.get("sdp"), str)
    ):
        raise MediaError("unavailable")
    return {"sdp": answer["sdp"], "type": "answer"}
