"""The Redis bus: delivery between bus instances, two app processes serving
one organisation, and kick_user reaching a socket in another process.
Needs Redis at 127.0.0.1:6379; under CI=true its absence is a failure."""

import json
import os
import secrets
import shutil
import subprocess
import time
import types

import pytest
import redis
from pyramid.registry import Registry

from consultroom.realtime import bus as bus_module
from consultroom.realtime import kick_user, user_channel
from consultroom.realtime.bus import IMessageBus, RedisBus

from realtime_support import Browser, Server, database_url, free_port

REDIS_URL = "redis://127.0.0.1:6379/0"


def registry_with(bus):
    """A registry whose message bus is ``bus``: what ``kick_user`` needs."""
    registry = Registry()
    registry.registerUtility(bus, IMessageBus)
    return registry


def redis_reachable():
    try:
        return redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError:
        return False


@pytest.fixture(scope="module", autouse=True)
def needs_redis():
    if not redis_reachable():
        if os.environ.get("CI") == "true":
            pytest.fail("Redis must be reachable at 127.0.0.1:6379 under CI")
        pytest.skip("no Redis at 127.0.0.1:6379")


@pytest.fixture
def buses():
    channel = f"consultroom:test:{secrets.token_hex(4)}"
    pair = [RedisBus(REDIS_URL, channel=channel) for _ in range(2)]
    # Each has the other's list: the first may be ready before it heard of
    # the second, and would then send everything through Redis for a moment.
    for bus in pair:
        assert bus.wait_ready(peers=1)
    yield pair
    for bus in pair:
        bus.close()


def wait_until(predicate, timeout=5):
    deadline = time.time() + timeout
    while not predicate():
        assert time.time() < deadline, "timed out"
        time.sleep(0.02)


def test_a_message_reaches_the_other_bus_once_and_the_own_subscribers_directly(buses):
    first, second = buses
    got_first, got_second = [], []
    first.subscribe("room:abc", got_first.append)
    second.subscribe("room:abc", got_second.append)
    second.subscribe("room:other", got_second.append)
    first.publish("room:abc", {"type": "peer_joined", "peer": "p1"})
    wait_until(lambda: got_second)
    time.sleep(0.2)
    assert got_first == [{"type": "peer_joined", "peer": "p1"}]
    assert got_second == [{"type": "peer_joined", "peer": "p1"}]
    second.unsubscribe("room:abc", got_second.append)
    first.publish("room:abc", {"type": "x"})
    time.sleep(0.2)
    assert len(got_second) == 1


class Spy:
    """Who listens on the bus's Redis channel: the channels of the messages
    that went through Redis (announcements left out)."""

    def __init__(self, bus):
        self.pubsub = redis.Redis.from_url(REDIS_URL).pubsub(ignore_subscribe_messages=True)
        self.pubsub.subscribe(bus._channel)
        self.pubsub.get_message(timeout=0.5)  # the subscription's confirmation

    def channels(self, seconds=0.3):
        seen = []
        deadline = time.time() + seconds
        while time.time() < deadline:
            item = self.pubsub.get_message(timeout=0.05)
            if item is not None:
                header = item["data"].split(b"\n", 1)[0][16:].decode()
                if not header.startswith("!"):
                    seen.append(header)
        return seen

    def close(self):
        self.pubsub.close()


@pytest.fixture
def spy(buses):
    watching = Spy(buses[0])
    yield watching
    watching.close()


def test_a_message_goes_through_redis_only_when_another_process_may_subscribe(buses, spy):
    first, second = buses
    got, got_there = [], []
    first.subscribe("peer:here", got.append)
    first.subscribe("room:here", got.append)
    first.subscribe("room:both", got.append)
    second.subscribe("room:both", got_there.append)
    first.publish("peer:here", {"type": "_signal", "n": 1})
    first.publish("peer:elsewhere", {"type": "_signal", "n": 2})
    first.publish("room:here", {"type": "peer_left", "n": 3})
    first.publish("room:nobody", {"type": "peer_left", "n": 4})
    first.publish("room:both", {"type": "peer_left", "n": 5})
    # A peer's socket may be in another process unless it is here; a
    # room's, only when that process said it has one.
    assert spy.channels() == ["peer:elsewhere", "room:both"]
    assert [m["n"] for m in got] == [1, 3, 5]
    assert [m["n"] for m in got_there] == [5]


def test_a_subscription_hears_every_message_sent_after_it_returns(buses, spy):
    first, second = buses
    got = []
    first.publish("room:later", {"type": "x", "n": 1})
    second.subscribe("room:later", got.append)
    # No pause: the first process acknowledged the subscription before it returned.
    first.publish("room:later", {"type": "x", "n": 2})
    wait_until(lambda: got)
    assert spy.channels() == ["room:later"]
    assert got == [{"type": "x", "n": 2}]


def test_after_the_last_subscriber_leaves_the_messages_stay_in_their_process(buses, spy):
    first, second = buses
    got = []
    second.subscribe("room:gone", got.append)
    first.publish("room:gone", {"type": "x"})
    wait_until(lambda: got)
    second.unsubscribe("room:gone", got.append)
    wait_until(lambda: not first._interests.needs_redis("room:gone"))
    spy.channels()
    first.publish("room:gone", {"type": "y"})
    assert spy.channels() == []


class QuickBus(RedisBus):
    HEARTBEAT = 0.1
    EXPIRY = 0.6


def test_a_process_that_joins_later_hears_the_others_and_a_dead_one_is_forgotten():
    channel = f"consultroom:test:{secrets.token_hex(4)}"
    first = QuickBus(REDIS_URL, channel=channel)
    assert first.wait_ready()
    watching = Spy(first)
    got_first = []
    first.subscribe("room:r", got_first.append)
    first.publish("room:r", {"n": 1})
    assert watching.channels() == []  # alone: nothing goes through Redis
    second = QuickBus(REDIS_URL, channel=channel)
    try:
        # Its directory entry made it wait for the first's list.
        assert second.wait_ready()
        got_second = []
        second.subscribe("room:r", got_second.append)
        second.publish("room:r", {"n": 2})
        first.publish("room:r", {"n": 3})
        wait_until(lambda: len(got_first) == 3 and got_second == [{"n": 2}, {"n": 3}])
        assert watching.channels() == ["room:r", "room:r"]
        # It dies without a word: its directory entry grows old.
        _die(second)
        wait_until(lambda: not first._interests.needs_redis("room:r"))
        watching.channels()
        first.publish("room:r", {"n": 4})
        assert watching.channels() == []
        assert second._origin not in redis.Redis.from_url(REDIS_URL).hkeys(first._directory)
        # The directory itself expires with the last process.
        assert 0 < redis.Redis.from_url(REDIS_URL).ttl(first._directory) <= 3 * QuickBus.EXPIRY
    finally:
        watching.close()
        first.close()


class PatientBus(RedisBus):
    EXPIRY = 60.0  # a dead process stays listed for the whole test
    ACK_SECONDS = 0.3


def _die(bus):
    """Stop ``bus`` as SIGKILL would: no goodbye, its directory entry left."""
    bus._stopped.set()
    bus._outgoing.put(None)
    for thread in bus._threads:
        thread.join(timeout=3)


def test_a_process_that_died_delays_one_subscription_not_each():
    channel = f"consultroom:test:{secrets.token_hex(4)}"
    first, second = PatientBus(REDIS_URL, channel=channel), PatientBus(REDIS_URL, channel=channel)
    try:
        assert first.wait_ready(peers=1) and second.wait_ready(peers=1)
        _die(second)
        started = time.monotonic()
        first.subscribe("room:a", lambda message: None)
        assert time.monotonic() - started >= PatientBus.ACK_SECONDS
        started = time.monotonic()
        first.subscribe("room:b", lambda message: None)
        assert time.monotonic() - started < PatientBus.ACK_SECONDS
    finally:
        first.close()
        redis.Redis.from_url(REDIS_URL).delete(first._directory)


def test_on_sqlite_every_message_goes_through_redis():
    # A subscription waits for the other processes, sometimes in a database
    # transaction; SQLite's busy wait would stop a whole process meanwhile.
    channel = f"consultroom:test:{secrets.token_hex(4)}"
    settings = {"realtime.bus": "redis", "redis.url": REDIS_URL, "realtime.redis_channel": channel}
    on_sqlite = bus_module.make_bus({**settings, "sqlalchemy.url": "sqlite:///x.sqlite"})
    on_postgresql = bus_module.make_bus(
        {**settings, "sqlalchemy.url": "postgresql+psycopg:///consultroom"}
    )
    try:
        assert on_sqlite.wait_ready() and on_postgresql.wait_ready()
        wait_until(lambda: on_postgresql._interests.needs_redis("room:any"))  # the hello heard
        watching = Spy(on_sqlite)
        on_sqlite.publish("room:nobody", {"type": "x"})
        # It said it wants every message: the other sends it every message.
        on_postgresql.publish("room:nobody", {"type": "y"})
        got = []
        on_sqlite.subscribe("room:later", got.append)
        on_postgresql.publish("room:later", {"type": "z"})
        wait_until(lambda: got)
        # Two publishers: Redis keeps each one's order, not theirs together.
        assert sorted(watching.channels()) == ["room:later", "room:nobody", "room:nobody"]
        watching.close()
    finally:
        on_sqlite.close()
        on_postgresql.close()


def test_a_process_that_closes_says_goodbye(buses, spy):
    first, second = buses
    second.subscribe("room:bye", lambda message: None)
    assert first._interests.needs_redis("room:bye")
    second.close()
    wait_until(lambda: not first._interests.needs_redis("room:bye"))
    assert second._origin not in redis.Redis.from_url(REDIS_URL).hkeys(first._directory)


def test_the_own_echo_and_unsubscribed_channels_are_not_parsed(buses, monkeypatch):
    first, second = buses
    parsed = []

    def loads(data):
        parsed.append(data)
        return json.loads(data)

    # The bus module's json only: other threads of the test process parse too.
    monkeypatch.setattr(bus_module, "json", types.SimpleNamespace(dumps=json.dumps, loads=loads))
    got_first, got_second = [], []
    first.subscribe("room:both", got_first.append)
    second.subscribe("room:both", got_second.append)
    first.publish("room:nobody", {"type": "x"})
    first.publish("room:both", {"type": "y"})
    wait_until(lambda: got_second)
    time.sleep(0.2)
    assert got_first == got_second == [{"type": "y"}]
    assert parsed == [b'{"type":"y"}']  # once: by the second bus


def test_a_message_that_is_not_json_reaches_the_own_subscribers_and_the_bus_goes_on(buses):
    first, second = buses
    got_first, got_second = [], []
    first.subscribe("room:odd", got_first.append)
    second.subscribe("room:odd", got_second.append)
    odd = {"type": "odd", "at": object()}
    first.publish("room:odd", odd)  # encoded by the publisher thread: no error here
    first.publish("room:odd", {"type": "fine"})
    wait_until(lambda: got_second)
    time.sleep(0.2)
    assert got_first == [odd, {"type": "fine"}]
    assert got_second == [{"type": "fine"}]


@pytest.fixture(scope="module")
def two_processes(tmp_path_factory):
    here = tmp_path_factory.mktemp("realtime-redis")
    url, drop = database_url(here)
    server = Server(here, url, bus="redis", processes=2).start()
    yield server
    server.stop()
    drop()


def test_client_and_practitioner_on_different_processes(two_processes):
    server = two_processes
    org = server.organisation()
    doctor = server.user(org)
    appointment = server.appointment(org, doctor)
    on_a, on_b = (Browser(port, org) for port in server.ports)
    client = on_a.socket()
    client.hello("client", appointment.token)
    client.expect("waiting")
    on_b.log_in(doctor)
    staff = on_b.socket()
    staff.hello("staff")
    listing = staff.expect("waiting_list")
    if not listing["count"]:
        listing = staff.expect("waiting_list")
    staff.send({"type": "call_in", "visit": listing["entries"][0]["id"]})
    room = staff.expect("claimed")["room"]
    assert client.expect("admitted")["room"] == room
    staff.send({"type": "join", "room": room})
    assert [p["peer"] for p in staff.expect("room")["peers"]] == [client.peer]
    staff.send({"type": "signal", "to": client.peer, "data": {"sdp": {"type": "offer"}}})
    assert client.expect("signal")["from"] == staff.peer
    client.send({"type": "signal", "to": staff.peer, "data": {"sdp": {"type": "answer"}}})
    assert staff.expect("signal")["data"] == {"sdp": {"type": "answer"}}


def test_kick_user_closes_the_users_sockets_in_every_process(two_processes):
    server = two_processes
    org = server.organisation()
    doctor = server.user(org)
    sockets = []
    for port in server.ports:
        browser = Browser(port, org).log_in(doctor)
        socket = browser.socket()
        socket.hello("staff")
        socket.expect("waiting_list")
        sockets.append(socket)
    bus = RedisBus(REDIS_URL, channel=server.channel)
    try:
        assert bus.wait_ready()
        kick_user(registry_with(bus), doctor.id)
        assert [s.close_code() for s in sockets] == [4403, 4403]
    finally:
        bus.close()


def test_kick_user_publishes_on_the_users_channel(buses):
    first, second = buses
    got = []
    second.subscribe(user_channel(7), got.append)
    kick_user(registry_with(first), 7)
    wait_until(lambda: got)
    assert got == [{"type": "_kick"}]


class OwnRedis:
    """A redis-server of this test's own, to restart at will."""

    def __init__(self, here):
        self.here = here
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = None

    def start(self):
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.here),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until(lambda: self._up(), timeout=10)

    def _up(self):
        try:
            return redis.Redis.from_url(self.url, socket_connect_timeout=0.2).ping()
        except redis.RedisError:
            return False

    def stop(self):
        self.process.terminate()
        self.process.wait(10)


@pytest.fixture
def own_redis(tmp_path):
    if not shutil.which("redis-server"):
        pytest.skip("redis-server is not installed")
    server = OwnRedis(tmp_path)
    server.start()
    yield server
    if server.process.poll() is None:
        server.stop()


def test_the_bus_reconnects_and_resubscribes_after_a_redis_restart(own_redis):
    first, second = (RedisBus(own_redis.url, channel="consultroom:test") for _ in range(2))
    try:
        resynced, got = [], []
        second.on_reconnect(lambda: resynced.append(True))
        second.subscribe("room:r", got.append)
        assert first.wait_ready() and second.wait_ready()
        own_redis.stop()
        time.sleep(0.5)
        own_redis.start()
        restarted = time.time()
        while not got:
            assert time.time() - restarted < 5, "no delivery within 5 s of the restart"
            first.publish("room:r", {"type": "peer_left", "peer": "p"})
            time.sleep(0.1)
        assert resynced
    finally:
        first.close()
        second.close()


def test_signalling_between_two_processes_resumes_after_a_redis_restart(own_redis, tmp_path):
    url, drop = database_url(tmp_path)
    server = Server(tmp_path, url, bus="redis", processes=2, redis_url=own_redis.url).start()
    try:
        org = server.organisation(force_start=True)
        doctor = server.user(org)
        appointment = server.appointment(org, doctor)
        client = Browser(server.ports[0], org).socket()
        client.hello("client", appointment.token)
        client.expect("waiting")
        staff = Browser(server.ports[1], org).log_in(doctor).socket()
        staff.hello("staff")
        staff.send({"type": "force_start", "appointment": appointment.id})
        room = staff.expect("started")["room"]
        client.expect("admitted")
        staff.send({"type": "join", "room": room})
        staff.expect("room")
        own_redis.stop()
        time.sleep(0.5)
        own_redis.start()
        restarted = time.time()
        while True:
            staff.send({"type": "signal", "to": client.peer, "data": {"candidate": {}}})
            try:
                client.expect("signal", timeout=0.3)
                break
            except AssertionError:
                assert time.time() - restarted < 5, "signalling did not resume within 5 s"
    finally:
        server.stop()
        drop()


def test_a_waiting_list_on_another_process_resyncs_after_a_redis_restart(own_redis, tmp_path):
    """A client arrives on one process while Redis is down: the other
    process's hub missed the delta, and after the restart it loads the
    section again and sends its staff socket the full list with the client."""
    url, drop = database_url(tmp_path)
    server = Server(tmp_path, url, bus="redis", processes=2, redis_url=own_redis.url).start()
    try:
        org = server.organisation()
        doctor = server.user(org)
        staff = Browser(server.ports[1], org).log_in(doctor).socket()
        staff.hello("staff")
        assert staff.expect("waiting_list")["count"] == 0
        own_redis.stop()
        appointment = server.appointment(org, doctor)
        client = Browser(server.ports[0], org).socket()
        client.hello("client", appointment.token)
        client.expect("waiting")
        own_redis.start()
        restarted = time.time()
        while True:
            listing = staff.expect("waiting_list", timeout=max(0.1, restarted + 5 - time.time()))
            if not listing.get("applied"):
                break
        assert [e["appointment_id"] for e in listing["entries"]] == [appointment.id]
    finally:
        server.stop()
        drop()
