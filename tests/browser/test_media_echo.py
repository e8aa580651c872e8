"""The media server's echo peer against a real aiortc peer (FFmpeg's lavfi
test picture and sine tone as camera and microphone): the audio and video
come back, data-channel pings are answered, and the server keeps to its
limits on concurrent peers and on a peer's lifetime. Real WebRTC: runs in
the private network namespace with the other browser tests."""

import asyncio
import json
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.contrib.media import MediaPlayer
from aiortc.mediastreams import MediaStreamError

from consultroom.media.server import restrict_host_addresses
from consultroom.media.testing import media_server

CONNECTED = ("connected", "completed")


@pytest.fixture(autouse=True)
def loopback_candidates(monkeypatch):
    # Our own aiortc peer, like the server, must offer 127.0.0.1.
    import aioice.ice

    monkeypatch.setattr(aioice.ice, "get_host_addresses", aioice.ice.get_host_addresses)
    restrict_host_addresses(["127.0.0.1"])


def post_offer(url, description):
    request = urllib.request.Request(
        f"{url}/offer",
        json.dumps({"sdp": description.sdp, "type": description.type}).encode(),
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


class TestPeer:
    """An aiortc peer sending a test picture and tone, counting what comes back."""

    __test__ = False

    def __init__(self):
        self.pc = RTCPeerConnection()
        self.video = MediaPlayer("testsrc=size=320x240:rate=15", format="lavfi")
        self.audio = MediaPlayer("sine=frequency=440:sample_rate=48000", format="lavfi")
        self.pc.addTrack(self.video.video)
        self.pc.addTrack(self.audio.audio)
        self.channel = self.pc.createDataChannel("ping")
        self.frames = {"audio": 0, "video": 0}
        self.sizes = set()
        self.pongs = []
        self.channel.on("message", self.pongs.append)
        self.pc.on("track", lambda track: asyncio.ensure_future(self._count(track)))

    async def _count(self, track):
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            self.frames[track.kind] += 1
            if track.kind == "video":
                self.sizes.add((frame.width, frame.height))

    async def connect(self, url):
        await self.pc.setLocalDescription(await self.pc.createOffer())
        status, body = await asyncio.to_thread(post_offer, url, self.pc.localDescription)
        if status == 200:
            await self.pc.setRemoteDescription(RTCSessionDescription(**body))
        return status, body

    async def wait_for(self, condition, timeout=15):
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"timed out: frames {self.frames}, pongs {self.pongs},"
                    f" state {self.pc.connectionState}"
                )
            await asyncio.sleep(0.05)

    async def close(self):
        await self.pc.close()


def run(scenario):
    """Run the coroutine in a thread of its own: Playwright's sync API (the
    browser tests' session browser) keeps an event loop running in this one."""
    with ThreadPoolExecutor(1) as thread:
        thread.submit(asyncio.run, scenario).result()


@pytest.fixture
def media(tmp_path):
    with media_server(tmp_path, ice_addresses="127.0.0.1", max_peers=1, max_seconds=4) as server:
        yield server


def test_echo_returns_audio_and_video_and_answers_pings(media):
    async def scenario():
        peer = TestPeer()
        try:
            status, _ = await peer.connect(media.url)
            assert status == 200
            await peer.wait_for(lambda: peer.pc.connectionState in CONNECTED)
            await peer.wait_for(lambda: peer.channel.readyState == "open")
            peer.channel.send("ping 12.5")
            await peer.wait_for(
                lambda: peer.frames["video"] >= 10 and peer.frames["audio"] >= 50 and peer.pongs
            )
            assert peer.pongs == ["pong 12.5"]
            assert peer.sizes == {(320, 240)}  # our own picture, back again
            assert media.health()["peers"] == 1
        finally:
            await peer.close()

    run(scenario())


def test_one_peer_too_many_is_told_busy_and_peers_end_after_max_seconds(media):
    async def scenario():
        first, second = TestPeer(), TestPeer()
        try:
            assert (await first.connect(media.url))[0] == 200
            await first.wait_for(lambda: first.frames["video"] > 0)
            assert await second.connect(media.url) == (503, {"error": "busy"})
            # max_seconds = 4: the server hangs up on the first peer.
            await first.wait_for(lambda: media.health()["peers"] == 0, timeout=10)
            await first.wait_for(
                lambda: first.pc.connectionState in ("closed", "failed"), timeout=15
            )
            await second.close()
            second = TestPeer()
            assert (await second.connect(media.url))[0] == 200
            await second.wait_for(lambda: second.frames["video"] > 0)
        finally:
            await first.close()
            await second.close()

    run(scenario())
