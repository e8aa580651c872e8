"""The ``media.*`` settings, read the same way by the application (which
forwards offers to the media server) and by ``consultroom media`` (which
listens where ``media.url`` points)."""

from dataclasses import dataclass
from urllib.parse import urlsplit


@dataclass(frozen=True)
class MediaSettings:
    url: str  # empty: no media server, the echo test is off
    ice_addresses: tuple  # host candidates the server offers; empty: every interface
    max_peers: int
    max_seconds: float
    timeout: float  # the application's wait for an answer

    @property
    def enabled(self):
        return bool(self.url)

    @property
    def bind(self):
        """``(host, port)`` to listen on, from ``url``."""
        parts = urlsplit(self.url)
        if parts.scheme != "http" or not parts.hostname or not parts.port:
            raise ValueError(f"media.url must look like http://127.0.0.1:8765, not {self.url!r}")
        return parts.hostname, parts.port


def media_settings(settings):
    return MediaSettings(
        url=settings.get("media.url", "").strip().rstrip("/"),
        ice_addresses=tuple(settings.get("media.ice_addresses", "").split()),
        max_peers=int(settings.get("media.max_peers", 10)),
        max_seconds=float(settings.get("media.max_seconds", 60)),
        timeout=float(settings.get("media.timeout", 10)),
    )
