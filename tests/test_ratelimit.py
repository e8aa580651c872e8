"""Rate limits, on both backends (the database, and Redis when ``redis.url``
is set): lockout after the configured failures for one window with a message
saying how long, the sliding window, a try counted before it is checked and
taken back when right, login / password-link / set-password token limits per
account and per address, API keys per key prefix and address, Redis key
expiry and the fallback to the database when Redis is down. (Concurrent
bursts against a real server: test_ratelimit_live.py.)

The Redis tests need a server at 127.0.0.1:6379 (``CONSULTROOM_TEST_REDIS``
to use another); under CI=true it must be there."""

import os
import secrets
from datetime import UTC, datetime, timedelta

import pytest
from pyramid.request import Request
from pyramid.scripting import prepare
from sqlalchemy import func, select
from webtest import TestApp

from consultroom.ratelimit import (
    Attempt,
    DatabaseCounter,
    IRateLimitCounter,
    Limit,
    RedisCounter,
    limits_from_settings,
    make_counter,
    prune,
)
from consultroom.ratelimit.models import Failure, LimitedKey
from consultroom.testing import PASSWORD, free_port

REDIS_URL = os.environ.get("CONSULTROOM_TEST_REDIS", "redis://127.0.0.1:6379/0")
TOO_MANY = "Too many failed attempts."


def redis_client():
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_timeout=2, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"Redis is required under CI=true ({REDIS_URL}): {exc}")
        pytest.skip(f"no Redis at {REDIS_URL}: {exc}")
    return client


@pytest.fixture
def redis_counter():
    """A Redis counter with a key prefix of its own; its keys removed after."""
    prefix = f"consultroom-test:{secrets.token_hex(6)}:"
    counter = RedisCounter.from_settings({"redis.url": REDIS_URL, "ratelimit.prefix": prefix})
    redis_client()
    yield counter
    for key in counter.client.scan_iter(match=prefix + "*"):
        counter.client.delete(key)


@pytest.fixture(params=["database", "redis"])
def backend(request, swap_service):
    counter = (
        DatabaseCounter()
        if request.param == "database"
        else request.getfixturevalue("redis_counter")
    )
    return swap_service(IRateLimitCounter, counter)


@pytest.fixture
def clock(time_machine):
    time_machine.move_to(datetime.now(UTC), tick=False)
    return time_machine


@pytest.fixture
def org(make_organisation):
    return make_organisation("acme", name="Acme Clinic")


@pytest.fixture
def limit_request(app, org, db_connection):
    """A request on the organisation's site, inside a transaction."""
    request = Request.blank("/", base_url="http://acme.consultroom.test")
    env = prepare(request=request, registry=app.registry)
    request.tm.begin()
    yield request
    request.tm.abort()
    env["closer"]()


def visitor(app, address="192.0.2.10", host="acme.consultroom.test"):
    return TestApp(app, extra_environ={"HTTP_HOST": host, "REMOTE_ADDR": address})


def submit_login(testapp, email, password):
    form = testapp.get("/login").forms[0]
    form["email"], form["password"] = email, password
    return form.submit()


# --- the limit itself, on both backends ----------------------------------------------------

LIMIT = Limit("test", 3, timedelta(minutes=10))


def test_the_failure_that_reaches_the_maximum_locks_for_a_window(backend, limit_request, clock):
    for _ in range(2):
        LIMIT.fail(limit_request, "k")
        clock.shift(timedelta(minutes=1))
    assert LIMIT.exceeded(limit_request, "k") is None
    LIMIT.fail(limit_request, "k")
    assert LIMIT.exceeded(limit_request, "k") == timedelta(minutes=10)
    clock.shift(timedelta(minutes=9, seconds=30))
    assert LIMIT.exceeded(limit_request, "k") == timedelta(seconds=30)
    assert LIMIT.minutes(LIMIT.exceeded(limit_request, "k")) == 1
    clock.shift(timedelta(seconds=30))
    assert LIMIT.exceeded(limit_request, "k") is None
    assert LIMIT.exceeded(limit_request, "other key") is None


def test_failures_spread_over_more_than_a_window_do_not_lock(backend, limit_request, clock):
    for _ in range(6):
        LIMIT.fail(limit_request, "k")
        clock.shift(timedelta(minutes=5, seconds=1))
        assert LIMIT.exceeded(limit_request, "k") is None


def test_clear_forgets_the_failures(backend, limit_request):
    for _ in range(3):
        LIMIT.fail(limit_request, "k")
    LIMIT.clear(limit_request, "k")
    assert LIMIT.exceeded(limit_request, "k") is None
    LIMIT.fail(limit_request, "k")
    assert LIMIT.exceeded(limit_request, "k") is None


def test_a_try_counts_before_it_is_checked_and_a_right_one_is_taken_back(
    backend, limit_request, clock
):
    right = Attempt(limit_request, (LIMIT, "k"))
    assert right.locked is None
    for _ in range(2):
        assert Attempt(limit_request, (LIMIT, "k")).locked is None  # wrong: kept
    assert LIMIT.exceeded(limit_request, "k") == timedelta(minutes=10)
    right.refund()
    assert LIMIT.exceeded(limit_request, "k") is None


def test_a_locked_out_try_is_refused_and_not_counted(backend, limit_request, clock):
    for _ in range(3):
        Attempt(limit_request, (LIMIT, "k"))
    clock.shift(timedelta(minutes=4))
    for _ in range(5):
        assert Attempt(limit_request, (LIMIT, "k")).locked == timedelta(minutes=6)
    clock.shift(timedelta(minutes=6))
    # Had the refused tries counted, the key would still be locked.
    assert Attempt(limit_request, (LIMIT, "k")).locked is None


def test_a_try_locked_out_under_one_limit_is_taken_back_under_the_others(
    backend, limit_request, clock
):
    other = Limit("other", 3, timedelta(minutes=10))
    for _ in range(3):
        other.fail(limit_request, "address")
    for _ in range(3):
        assert Attempt(limit_request, (LIMIT, "account"), (other, "address")).locked == timedelta(
            minutes=10
        )
    assert LIMIT.exceeded(limit_request, "account") is None
    assert Attempt(limit_request, (LIMIT, "account")).locked is None


def test_limits_follow_the_settings():
    limit = limits_from_settings({"ratelimit.x.max": "7", "ratelimit.x.minutes": "3"}, "x", 5, 15)
    assert limit == Limit("x", 7, timedelta(minutes=3))
    assert limits_from_settings({}, "x", 5, 15) == Limit("x", 5, timedelta(minutes=15))


def test_message_says_how_long_in_whole_minutes():
    assert Limit.message(timedelta(minutes=14, seconds=1)).mapping == {"minutes": 15}
    assert Limit.message(timedelta(seconds=1)).mapping == {"minutes": 1}


# --- where the limits apply --------------------------------------------------------------


def test_login_lockout_says_how_long_and_ends(backend, app, org, make_user, monkeypatch, clock):
    monkeypatch.setitem(app.registry.settings, "ratelimit.login_account.max", "3")
    user = make_user(org)
    for n in range(3):
        page = submit_login(visitor(app, f"198.51.100.{n}"), user.email, "wrong")
        assert TOO_MANY not in page.text
    page = submit_login(visitor(app), user.email, PASSWORD)
    assert "Too many failed attempts. Wait 15 minutes and try again." in page.text
    clock.shift(timedelta(minutes=10))
    page = submit_login(visitor(app), user.email, PASSWORD)
    assert "Wait 5 minutes" in page.text
    clock.shift(timedelta(minutes=5))
    assert submit_login(visitor(app), user.email, PASSWORD).status_int == 303


def test_login_is_limited_per_address(backend, app, org, make_user, monkeypatch):
    monkeypatch.setitem(app.registry.settings, "ratelimit.login_address.max", "3")
    victims = [make_user(org) for _ in range(3)]
    for victim in victims:
        submit_login(visitor(app), victim.email, "wrong")
    user = make_user(org)
    assert "Wait 15 minutes" in submit_login(visitor(app), user.email, PASSWORD).text
    assert submit_login(visitor(app, "203.0.113.5"), user.email, PASSWORD).status_int == 303


NEW_LINK_LOCKED = "Too many requests. Try again in 60 minutes."


def ask_new_link(testapp, email):
    form = testapp.get("/new-link").forms[0]
    form["email"] = email
    return form.submit()


def test_password_links_are_limited_per_account(
    backend, app, org, make_organisation, make_user, smtp
):
    make_organisation("beta")
    user = make_user(org, email="ada@example.org")
    for n in range(5):
        assert NEW_LINK_LOCKED not in ask_new_link(visitor(app, f"198.51.100.{n}"), user.email).text
    assert NEW_LINK_LOCKED in ask_new_link(visitor(app, "203.0.113.5"), user.email).text
    assert len(smtp.messages) == 5
    # The same address at another organisation is another account.
    beta = visitor(app, "203.0.113.5", host="beta.consultroom.test")
    assert NEW_LINK_LOCKED not in ask_new_link(beta, user.email).text


def test_password_links_are_limited_per_address(backend, app, org, make_user, smtp):
    for n in range(5):
        ask_new_link(visitor(app), f"person{n}@example.org")
    assert NEW_LINK_LOCKED in ask_new_link(visitor(app), "someone@example.org").text
    assert (
        NEW_LINK_LOCKED not in ask_new_link(visitor(app, "203.0.113.5"), "someone@example.org").text
    )


def test_set_password_token_guesses_are_limited_per_address(backend, app, org, monkeypatch):
    monkeypatch.setitem(app.registry.settings, "ratelimit.token_address.max", "3")
    guesser = visitor(app)
    for n in range(3):
        guesser.get(f"/set-password/guess{n}", status=410)
    page = guesser.get("/set-password/guess3", status=429)
    assert "Too many links were tried from your address. Wait 60 minutes" in page.text
    visitor(app, "203.0.113.5").get("/set-password/guess4", status=410)


def test_api_keys_are_limited_per_address(backend, app, org, monkeypatch):
    monkeypatch.setitem(app.registry.settings, "ratelimit.api_key_address.max", "2")
    caller = visitor(app)
    headers = {"Authorization": "Bearer crk_wrong"}
    for _ in range(2):
        caller.get("/api/v1/clients", headers=headers, status=401)
    assert (
        caller.get("/api/v1/clients", headers=headers, status=429)
        .json["error"]
        .startswith("Too many")
    )


def test_a_valid_api_key_is_never_refused_for_wrong_keys_of_others(
    backend, app, org, make_organisation, dbsession
):
    beta = make_organisation("beta")
    acme_key, beta_key = org.rotate_api_key(), beta.rotate_api_key()
    dbsession.flush()
    caller = visitor(app)
    wrong = {"Authorization": "Bearer crk_wrong"}
    for _ in range(20):
        caller.get("/api/v1/clients", headers=wrong, status=401)
    caller.get("/api/v1/clients", headers=wrong, status=429)
    # Counted per key prefix and address: another prefix, or another address, is not locked.
    caller.get("/api/v1/clients", headers={"Authorization": "Bearer crk_other"}, status=401)
    visitor(app, "203.0.113.5").get("/api/v1/clients", headers=wrong, status=401)
    # Valid keys from the same address, of this organisation and of another.
    caller.get("/api/v1/clients", headers={"Authorization": f"Bearer {acme_key}"}, status=200)
    visitor(app, host="beta.consultroom.test").get(
        "/api/v1/clients", headers={"Authorization": f"Bearer {beta_key}"}, status=200
    )
    # Wrong keys that start like the valid one lock themselves out, not it.
    same_start = {"Authorization": f"Bearer {acme_key[:8]}wrong"}
    for _ in range(20):
        caller.get("/api/v1/clients", headers=same_start, status=401)
    caller.get("/api/v1/clients", headers=same_start, status=429)
    caller.get("/api/v1/clients", headers={"Authorization": f"Bearer {acme_key}"}, status=200)


# --- the Redis backend ---------------------------------------------------------------------


def test_redis_is_used_when_configured(redis_counter):
    assert isinstance(make_counter({"redis.url": REDIS_URL}), RedisCounter)
    assert isinstance(make_counter({}), DatabaseCounter)


def test_redis_keys_expire_and_keep_only_the_last_failures(
    swap_service, redis_counter, limit_request, dbsession
):
    swap_service(IRateLimitCounter, redis_counter)
    for _ in range(5):
        LIMIT.fail(limit_request, "k")
    key = redis_counter.prefix + "test:k"
    assert redis_counter.client.zcard(key) == 3
    assert 590_000 < redis_counter.client.pttl(key) <= 600_000
    # Nothing of it in the database.
    assert dbsession.scalar(select(func.count()).select_from(Failure)) == 0


def test_without_redis_the_database_counts(swap_service, limit_request, clock):
    down = RedisCounter.from_settings({"redis.url": f"redis://127.0.0.1:{free_port()}/0"})
    swap_service(IRateLimitCounter, down)
    for _ in range(3):
        LIMIT.fail(limit_request, "k")
    assert LIMIT.exceeded(limit_request, "k") == timedelta(minutes=10)
    LIMIT.clear(limit_request, "k")
    assert LIMIT.exceeded(limit_request, "k") is None
    tries = [Attempt(limit_request, (LIMIT, "k")) for _ in range(3)]
    assert Attempt(limit_request, (LIMIT, "k")).locked == timedelta(minutes=10)
    tries[0].refund()
    assert LIMIT.exceeded(limit_request, "k") is None


def test_the_database_counts_a_try_in_the_key_row_s_lock(limit_request):
    counter = DatabaseCounter()
    ticket, locked = counter.reserve(limit_request, "test:k", LIMIT)
    assert locked is None
    db = limit_request.dbsession
    assert db.scalars(select(LimitedKey.key)).all() == ["test:k"]
    assert db.scalars(select(Failure.id).where(Failure.key == "test:k")).all() == [ticket]


# --- pruning ---------------------------------------------------------------------------------


def test_worker_prunes_old_database_failures(limit_request, dbsession, clock):
    counter = DatabaseCounter()
    counter.fail(limit_request, "old", LIMIT)
    counter.reserve(limit_request, "old key", LIMIT)
    limit_request.dbsession.flush()
    clock.shift(timedelta(days=1, minutes=1))
    counter.fail(limit_request, "new", LIMIT)
    counter.reserve(limit_request, "new key", LIMIT)
    prune(limit_request.dbsession)
    assert sorted(limit_request.dbsession.scalars(select(Failure.key))) == ["new", "new key"]
    assert limit_request.dbsession.scalars(select(LimitedKey.key)).all() == ["new key"]
