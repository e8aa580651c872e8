"""``consultroom media``: the echo peer of the network test, an asyncio
process of its own (aiortc does not run under gevent).

It listens where ``media.url`` points, on loopback or a private address:
only the application talks to it, forwarding a browser's offer.

    POST /offer   {"sdp": ..., "type": "offer"} -> {"sdp": ..., "type": "answer"}
                  400 {"error": "bad_offer"}, 503 {"error": "busy"}
    GET  /health  {"peers": n, "max_peers": m}

Each peer gets its own audio and video sent back to it, and every data
channel message "ping <anything>" is answered "pong <anything>" (the page
measures round-trip time with it). At most ``media.max_peers`` peers at once,
each closed after ``media.max_seconds``.
"""

import asyncio
import logging

import aioice.ice
from aiohttp import web
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.contrib.media import MediaRelay
from aiortc.sdp import SessionDescription

log = logging.getLogger(__name__)

# Audio, video and the data channel: anything more is not our page's offer,
# and every extra video section would cost a decoder and an encoder.
MAX_MEDIA_SECTIONS = 3
MAX_OFFER_BYTES = 64 * 1024
CLOSED_STATES = ("failed", "closed")


def restrict_host_addresses(addresses):
    """Offer only ``addresses`` as host candidates.

    aioice discovers the machine's interfaces itself and always leaves out
    127.0.0.1, so a server on loopback (development, tests in a network
    namespace) would offer nothing reachable without this.
    """
    aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: list(addresses)


def bad_offer():
    return web.json_response({"error": "bad_offer"}, status=400)


def parse_offer(body):
    """The offer's ``RTCSessionDescription``, or None when it is not one we take."""
    if not isinstance(body, dict) or body.get("type") != "offer":
        return None
    sdp = body.get("sdp")
    if not isinstance(sdp, str):
        return None
    try:
        sections = len(SessionDescription.parse(sdp).media)
    except Exception:  # aiortc's parser reports bad input with asserts, unpacking errors...
        return None
    if not 0 < sections <= MAX_MEDIA_SECTIONS:
        return None
    return RTCSessionDescription(sdp=sdp, type="offer")


class EchoServer:
    def __init__(self, max_peers, max_seconds):
        self.max_peers = max_peers
        self.max_seconds = max_seconds
        self.peers = set()
        self.relay = MediaRelay()

    async def offer(self, request):
        if request.content_length and request.content_length > MAX_OFFER_BYTES:
            return bad_offer()
        try:
            offer = parse_offer(await request.json())
        except ValueError:
            return bad_offer()
        if offer is None:
            return bad_offer()
        if len(self.peers) >= self.max_peers:
            return web.json_response({"error": "busy"}, status=503)
        pc = self._new_peer()
        try:
            await pc.setRemoteDescription(offer)
            await pc.setLocalDescription(await pc.createAnswer())
        except Exception as exc:  # as above: whatever aiortc finds wrong with the offer
            log.info("refused offer: %s", exc)
            await self.close(pc)
            return bad_offer()
        asyncio.get_running_loop().call_later(
            self.max_seconds, lambda: asyncio.ensure_future(self.close(pc))
        )
        answer = pc.localDescription
        return web.json_response({"sdp": answer.sdp, "type": answer.type})

    def _new_peer(self):
        pc = RTCPeerConnection()
        self.peers.add(pc)

        @pc.on("track")
        def echo(track):
            pc.addTrack(self.relay.subscribe(track, buffered=False))

        @pc.on("datachannel")
        def answer_pings(channel):
            @channel.on("message")
            def pong(message):
                if isinstance(message, str) and message.startswith("ping"):
                    channel.send("pong" + message[4:])

        @pc.on("connectionstatechange")
        async def forget_when_closed():
            if pc.connectionState in CLOSED_STATES:
                await self.close(pc)

        return pc

    async def close(self, pc):
        if pc in self.peers:
            self.peers.discard(pc)
            await pc.close()

    async def health(self, request):
        return web.json_response({"peers": len(self.peers), "max_peers": self.max_peers})

    async def close_all(self, app):
        await asyncio.gather(*(self.close(pc) for pc in list(self.peers)))


def make_app(media):
    """The aiohttp application for :class:`~consultroom.media.config.MediaSettings`."""
    echo = EchoServer(media.max_peers, media.max_seconds)
    app = web.Application(client_max_size=MAX_OFFER_BYTES)
    app.router.add_post("/offer", echo.offer)
    app.router.add_get("/health", echo.health)
    app.on_shutdown.append(echo.close_all)
    app["echo"] = echo
    return app


def run(media, host, port):
    if media.ice_addresses:
        restrict_host_addresses(media.ice_addresses)
    web.run_app(
        make_app(media),
        host=host,
        port=port,
        access_log=None,
        print=lambda _: print(f"media server on {media.url}", flush=True),
    )
