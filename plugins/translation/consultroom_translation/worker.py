"""``consultroom captions``: the caption worker, an asyncio process of its
own (aiortc does not run under gevent).

Every ``TICK`` seconds it claims rooms whose captions are on
(``service.claim``: a lease renewed while it serves them, so that several
workers share the rooms and another takes over a room whose worker died)
and joins each as a room member of role ``captions`` through the room's own
service (the participant limit applies) and the normal signalling: bus
``_signal`` messages on the peers' channels, exactly what a browser's socket
relays. It offers each participant a receive-only connection (audio and
video, so that the room's script sends its tracks as to any peer), answers
newcomers' offers, decodes each audio track to 16 kHz mono, cuts speech out
(``segments``) and has the engine recognise it in the speaker's spoken
language. A caption goes to the room as ``translation.caption``: speaker
peer and name, text, language, and translations for the caption languages
listeners chose (``translators``).
"""

import asyncio
import logging
import secrets
import signal
import threading
from concurrent.futures import ThreadPoolExecutor

import av
from aiortc import (
    RTCConfiguration,
    RTCIceServer,
    RTCPeerConnection,
    RTCSessionDescription,
)
from aiortc.contrib.media import MediaBlackhole
from aiortc.mediastreams import MediaStreamError
from aiortc.sdp import candidate_from_sdp

from consultroom.db import utcnow
from consultroom.db.scope import all_organisations
from consultroom.realtime import peer_channel, room_channel
from consultroom.realtime.bus import message_bus
from consultroom.realtime.events import Events
from consultroom.realtime.turn import ice_servers
from consultroom.room import presence
from consultroom.room import service as rooms
from consultroom.room.models import Room
from consultroom.secretbox import secret_box
from consultroom.tenancy.models import Organisation
from consultroom.web.sites import site_request
from consultroom_translation import service
from consultroom_translation.engine import engine_from_settings
from consultroom_translation.segments import SAMPLE_RATE, Segmenter
from consultroom_translation.settings import languages_in, settings_of
from consultroom_translation.translators import translations, translator_of

log = logging.getLogger(__name__)

TICK = 2.0
ROLE = "captions"


def in_transaction(registry, action, subdomain=None):
    """``action(dbsession, events)`` in one transaction, scoped to the
    organisation at ``subdomain``; the events are published on the bus after
    the commit, as a socket's are."""
    request = site_request(registry, subdomain)
    events = Events(request=request)
    with request.tm:
        result = action(request.dbsession, events)
        events.finish(request.dbsession)
    bus = message_bus(registry)
    for channel, message in events.messages:
        bus.publish(channel, message)
    return result


class RoomCaptions:
    """The worker's peer in one room."""

    def __init__(self, worker, room_id, subdomain):
        self.worker = worker
        self.subdomain = subdomain
        self.registry = worker.registry
        self.room_id = room_id
        self.peer = "cc" + secrets.token_hex(8)
        self.pcs = {}  # browser peer -> RTCPeerConnection
        self.names = {}
        self.spoken = {}
        self.caption = {}
        self.language = "en"
        self.ice = []
        self.tasks = set()
        self.early = {}  # browser peer -> candidates that came before its description

    # -- joining and leaving ---------------------------------------------------

    async def start(self):
        def join(dbsession, events):
            room = dbsession.get(Room, self.room_id)
            organisation = dbsession.get(Organisation, room.organisation_id)
            self.language = languages_in(settings_of(dbsession, organisation)["languages"])[0]
            self.ice = ice_servers(
                self.registry.settings,
                organisation.options_with_secrets(secret_box(self.registry)),
                self.peer,
            )
            others = rooms.join(dbsession, room, self.peer, ROLE, "Captions", None, events)
            events.add(
                room_channel(self.room_id),
                {"type": "translation.state", "on": True, "peer": self.peer},
            )
            return others

        bus = message_bus(self.registry)
        bus.subscribe(peer_channel(self.peer), self.heard)
        bus.subscribe(room_channel(self.room_id), self.heard)
        others = self.transaction(join)
        for info in others:
            if info["role"] != ROLE:
                self.names[info["peer"]] = info["name"]
                await self.offer(info["peer"])

    async def stop(self):
        bus = message_bus(self.registry)
        bus.unsubscribe(peer_channel(self.peer), self.heard)
        bus.unsubscribe(room_channel(self.room_id), self.heard)
        for pc in list(self.pcs.values()):
            await pc.close()
        for task in self.tasks:
            task.cancel()
        self.transaction(lambda db, events: rooms.leave(db, self.peer, events))

    def transaction(self, action):
        return in_transaction(self.registry, action, self.subdomain)

    # -- signalling --------------------------------------------------------------

    def heard(self, message):
        """A bus message (from the bus's thread): handled on the worker's loop."""
        self.worker.loop.call_soon_threadsafe(self._spawn, self.on_bus(message))

    def _spawn(self, coroutine):
        task = asyncio.ensure_future(coroutine)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def on_bus(self, message):
        kind = message.get("type")
        try:
            if kind == "_signal" and message.get("room") == self.room_id:
                await self.signal(message.get("from"), message.get("data") or {})
            elif kind == "peer_joined" and message.get("role") != ROLE:
                self.names[message["peer"]] = message.get("name", "")
            elif kind == "peer_left":
                pc = self.pcs.pop(message.get("peer"), None)
                if pc is not None:
                    await pc.close()
            elif kind == "translation.languages":
                self.spoken[message["peer"]] = message["spoken"]
                self.caption[message["peer"]] = message["caption"]
            elif kind == "_ended":
                self.worker.forget(self.room_id)
        except Exception:
            # A malformed or stale signal from one browser must not stop the room.
            log.warning("captions: room message %s not handled", kind, exc_info=True)

    def send(self, to, data):
        message_bus(self.registry).publish(
            peer_channel(to),
            {"type": "_signal", "room": self.room_id, "from": self.peer, "data": data},
        )

    def connection(self, peer):
        pc = self.pcs.get(peer)
        if pc is None:
            servers = [RTCIceServer(**server) for server in self.ice]
            pc = RTCPeerConnection(RTCConfiguration(iceServers=servers or None))
            pc.on("track", lambda track, peer=peer: self._spawn(self.listen(peer, track)))
            self.pcs[peer] = pc
        return pc

    async def offer(self, peer):
        pc = self.connection(peer)
        pc.addTransceiver("audio", direction="recvonly")
        pc.addTransceiver("video", direction="recvonly")
        await pc.setLocalDescription(await pc.createOffer())
        self.send(peer, {"sdp": {"type": "offer", "sdp": pc.localDescription.sdp}})

    async def signal(self, peer, data):
        if not isinstance(peer, str):
            return
        sdp = data.get("sdp")
        if isinstance(sdp, dict):
            pc = self.connection(peer)
            if sdp.get("type") == "offer" and pc.signalingState != "stable":
                return  # our offer is on its way: the browser yields (it is polite to us)
            await pc.setRemoteDescription(RTCSessionDescription(sdp["sdp"], sdp["type"]))
            for candidate in self.early.pop(peer, []):
                await pc.addIceCandidate(candidate)
            if sdp.get("type") == "offer":
                await pc.setLocalDescription(await pc.createAnswer())
                self.send(peer, {"sdp": {"type": "answer", "sdp": pc.localDescription.sdp}})
        elif isinstance(data.get("candidate"), dict) and peer in self.pcs:
            line = data["candidate"].get("candidate") or ""
            if line:
                candidate = candidate_from_sdp(line.split(":", 1)[1])
                candidate.sdpMid = data["candidate"].get("sdpMid")
                candidate.sdpMLineIndex = data["candidate"].get("sdpMLineIndex")
                pc = self.pcs[peer]
                if pc.remoteDescription is None:
                    # Trickled before the description it belongs to: kept for it.
                    self.early.setdefault(peer, []).append(candidate)
                else:
                    await pc.addIceCandidate(candidate)

    # -- listening -----------------------------------------------------------------

    async def listen(self, peer, track):
        if track.kind != "audio":
            sink = MediaBlackhole()
            sink.addTrack(track)
            await sink.start()
            return
        resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
        segmenter = Segmenter()
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                break
            for out in resampler.resample(frame):
                for segment in segmenter.feed(out.to_ndarray().tobytes()):
                    await self.caption_of(peer, segment)

    async def caption_of(self, peer, segment):
        language = self.spoken.get(peer, self.language)
        text = await self.worker.recognise(segment, language)
        if not text:
            return
        name = self.names.get(peer, "")
        targets = {c for p, c in self.caption.items() if p != peer and c != language}
        message = {
            "type": "translation.caption",
            "peer": peer,
            "name": name,
            "text": text,
            "language": language,
            # A blocking call (a subprocess or HTTP): off the loop.
            "translations": await self.worker.loop.run_in_executor(
                None, translations, translator_of(self.registry), text, language, targets
            ),
        }

        def publish(dbsession, events):
            room = dbsession.get(Room, self.room_id)
            if room is None or room.ended_at is not None:
                return
            service.keep(dbsession, self.registry, room, name, language, text)
            events.add(room_channel(self.room_id), message)

        self.transaction(publish)


class CaptionWorker:
    def __init__(self, registry, engine, capacity=4, lease_seconds=15):
        self.registry = registry
        self.engine = engine
        self.capacity = capacity
        self.lease_seconds = lease_seconds
        self.name = "w" + secrets.token_hex(8)
        self.rooms = {}
        self.loop = None
        # One recognition at a time per worker: the machine's cores are shared.
        self.recogniser = ThreadPoolExecutor(1, thread_name_prefix="captions-engine")

    async def recognise(self, pcm, language):
        return await self.loop.run_in_executor(
            self.recogniser, self.engine.transcribe, pcm, language
        )

    def forget(self, room_id):
        session = self.rooms.pop(room_id, None)
        if session is not None:
            asyncio.ensure_future(session.stop())

    async def tick(self):
        def claim(dbsession, events):
            # A worker serves the rooms of every organisation.
            with all_organisations(dbsession):
                held = service.claim(dbsession, self.name, self.capacity, self.lease_seconds)
                presence.mark(dbsession, [s.peer for s in self.rooms.values()], utcnow())
                return service.subdomains_of(dbsession, held)

        held = in_transaction(self.registry, claim)
        for room_id in set(self.rooms) - set(held):
            self.forget(room_id)
        for room_id in set(held) - set(self.rooms):
            session = RoomCaptions(self, room_id, held[room_id])
            self.rooms[room_id] = session
            try:
                await session.start()
            except rooms.RoomFull:
                log.warning("captions: room %s is full", room_id)
                self.rooms.pop(room_id)

    async def run(self, stopping: asyncio.Event):
        self.loop = asyncio.get_running_loop()
        while not stopping.is_set():
            try:
                await self.tick()
            except Exception:
                log.exception("captions: claiming rooms failed; trying again")
            try:
                await asyncio.wait_for(stopping.wait(), TICK)
            except TimeoutError:
                pass
        for room_id in list(self.rooms):
            session = self.rooms.pop(room_id)
            await session.stop()

        def release(dbsession, events):
            with all_organisations(dbsession):
                service.release(dbsession, self.name)

        in_transaction(self.registry, release)


def run_worker(registry, stopping=None):
    """Run a caption worker until ``stopping`` (a ``threading.Event``) is set
    or the process gets SIGTERM/SIGINT."""
    from consultroom.media.server import restrict_host_addresses

    # Only these addresses as host candidates (aioice leaves 127.0.0.1 out).
    addresses = registry.settings.get("consultroom_translation.host_addresses", "")
    if addresses.strip():
        restrict_host_addresses(addresses.split())
    settings = registry.settings
    worker = CaptionWorker(
        registry,
        engine_from_settings(settings),
        capacity=int(settings.get("consultroom_translation.rooms_per_worker", 4)),
        lease_seconds=float(settings.get("consultroom_translation.lease_seconds", 15)),
    )

    async def main():
        event = asyncio.Event()
        loop = asyncio.get_running_loop()
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(sig, event.set)
        if stopping is not None:
            threading.Thread(
                target=lambda: (stopping.wait(), loop.call_soon_threadsafe(event.set)),
                daemon=True,
            ).start()
        await worker.run(event)

    asyncio.run(main())
