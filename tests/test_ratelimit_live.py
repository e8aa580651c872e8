"""Rate limits against real servers (tests/realtime_support.py), with the
counts in Redis and in the database (``redis.url`` empty):

- a burst of concurrent wrong passwords for one account, or wrong second-factor
  codes for one user, is evaluated at most up to the limit, and the right one,
  sent in the burst once the limit is reached, is refused;
- websocket token guesses are limited per address like invalid links over
  HTTP: valid tokens do not count, and once the limit is reached even a valid
  token is refused, with the reason.

The servers: two pserve processes. On SQLite a process opens one request's
transaction at a time (consultroom.db.sqlite; before, SQLite's wait for a
lock held by another request of the same process stopped the whole process,
and the bursts here failed). SQLite has one writer, and a transaction that
has read cannot write once another has: a request is retried (up to 20
times here) and then fails (500), an answer that reveals nothing either.
The race of checking before and counting after the verification shows on
PostgreSQL (where the bursts fail without the atomic step); on SQLite the
database backend never had it, and with Redis SQLite's own conflicts hide
it.

The Redis runs need a server at 127.0.0.1:6379; under CI=true it must be there.
"""

import os
import re
import threading
from concurrent.futures import ThreadPoolExecutor, as_completed

import pyotp
import pytest
import redis

from consultroom.db import utcnow
from consultroom.secretbox import box_from_settings
from consultroom.twofactor.models import TwoFactor

from realtime_support import PASSWORD, Browser, Server, database_url, refused

REDIS_URL = "redis://127.0.0.1:6379/0"
LIMIT = 5  # the default of login_account and second_factor_account
BURST = 30
# A burst's requests queue behind each other (SQLite: one writer at a time,
# retried): on a busy machine the last may wait well over the usual 10 s.
# What the tests count is the answers, not their speed.
BURST_TIMEOUT = 60
TOKEN_LIMIT = 3
WRONG_PASSWORD = b"The e-mail address or the password is wrong."
WRONG_CODE = b"This code is not right."
LOCKED = b"Too many failed attempts."


def redis_or_skip():
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"Redis must be reachable at {REDIS_URL} under CI: {exc}")
        pytest.skip(f"no Redis at {REDIS_URL}")


def on_sqlite(server):
    return server.url.startswith("sqlite")


@pytest.fixture(scope="module", params=["redis", "database"])
def server(request, tmp_path_factory):
    if request.param == "redis":
        redis_or_skip()
    here = tmp_path_factory.mktemp(f"ratelimit-{request.param}")
    url, drop = database_url(here)
    # The address limits are set high: every request comes from 127.0.0.1.
    server = Server(
        here,
        url,
        processes=2,
        redis_url=REDIS_URL if request.param == "redis" else "",
        settings={
            "ratelimit.login_address.max": 1000,
            "ratelimit.second_factor_address.max": 1000,
            "ratelimit.token_address.max": TOKEN_LIMIT,
            "retry.attempts": 20,
        },
    ).start()
    yield server
    server.stop()
    drop()


@pytest.fixture
def org(server):
    return server.organisation()


def browsers(server, org, count):
    """``count`` new visitors, spread over the server's processes."""
    return [Browser(server.ports[n % len(server.ports)], org) for n in range(count)]


def csrf_token(browser, path):
    status, _headers, page = browser.request(path)
    assert status == 200, page
    return re.search(rb'name="csrf_token" value="([^"]+)"', page).group(1).decode()


def burst(posts, last):
    """Send ``posts`` (each a function making one request) at the same
    instant from threads, and ``last`` as soon as ``LIMIT`` of them have been
    answered, while the others may still be under way. Their answers, and
    ``last``'s."""
    start = threading.Barrier(len(posts))

    def at_once(post):
        start.wait()
        return post()

    with ThreadPoolExecutor(len(posts) + 1) as pool:
        futures = [pool.submit(at_once, post) for post in posts]
        answered = as_completed(futures)
        for _ in range(LIMIT):
            next(answered)
        last_answer = pool.submit(last).result()
        return [f.result() for f in futures], last_answer


def failed_on_sqlite(server, answer):
    status, _headers, page = answer
    return status == 500 and on_sqlite(server)


def evaluated(server, answers, wrong):
    """How many of the answers say the secret was wrong; the others say it
    was not tried (locked out)."""
    for answer in answers:
        status, _headers, page = answer
        if not failed_on_sqlite(server, answer):
            assert status == 200, page
            assert (wrong in page) != (LOCKED in page), page
    return sum(wrong in page for _status, _headers, page in answers)


def refused_as_locked(server, answer):
    status, _headers, page = answer
    if not failed_on_sqlite(server, answer):
        assert status == 200, page
        assert LOCKED in page


def test_a_burst_of_wrong_passwords_is_evaluated_up_to_the_limit(server, org):
    user = server.user(org)

    def login(browser, password):
        token = csrf_token(browser, "/login")
        return lambda: browser.request(
            "/login",
            {"csrf_token": token, "email": user.email, "password": password},
            timeout=BURST_TIMEOUT,
        )

    guesses = [login(b, f"wrong {n}") for n, b in enumerate(browsers(server, org, BURST))]
    right = login(Browser(server.port, org), PASSWORD)
    answers, right_answer = burst(guesses, right)
    assert 1 <= evaluated(server, answers, WRONG_PASSWORD) <= LIMIT
    refused_as_locked(server, right_answer)


def enrolled(server, user):
    """Turn on the second factor of ``user``; the TOTP secret."""
    secret = pyotp.random_base32()
    box = box_from_settings({"session.secret": server.secret})
    server.add(
        TwoFactor(
            user_id=user.id,
            secret_encrypted=box.encrypt(secret.encode()).decode(),
            confirmed_at=utcnow(),
        )
    )
    return secret


def a_wrong_code(secret):
    totp = pyotp.TOTP(secret)
    valid = {totp.at(utcnow().timestamp() + 30 * step) for step in (-1, 0, 1)}
    return next(code for code in (f"{n:06d}" for n in range(10**6)) if code not in valid)


def test_a_burst_of_wrong_second_factor_codes_is_evaluated_up_to_the_limit(server, org):
    user = server.user(org)
    secret = enrolled(server, user)
    wrong = a_wrong_code(secret)

    def second_step(browser, code):
        browser.log_in(user)
        token = csrf_token(browser, "/login/code")
        return lambda: browser.request(
            "/login/code", {"csrf_token": token, "code": code()}, timeout=BURST_TIMEOUT
        )

    guesses = [second_step(b, lambda: wrong) for b in browsers(server, org, BURST)]
    right = second_step(Browser(server.port, org), lambda: pyotp.TOTP(secret).now())
    answers, right_answer = burst(guesses, right)
    assert 1 <= evaluated(server, answers, WRONG_CODE) <= LIMIT
    refused_as_locked(server, right_answer)


def hello(server, org, role, token):
    socket = Browser(server.port, org).socket()
    socket.send({"type": "hello", "role": role, "token": token})
    return socket


def test_websocket_token_guesses_are_limited_per_address(server, org):
    appointment = server.appointment(org, server.user(org))
    for _ in range(TOKEN_LIMIT + 1):  # valid tokens do not count
        socket = hello(server, org, "client", appointment.token)
        socket.expect("welcome")
        socket.close()
    for n in range(TOKEN_LIMIT):
        refused(hello(server, org, "client", f"guess{n:02d}" * 4))
    for role, token in (("client", appointment.token), ("guest", "guess" * 8)):
        socket = hello(server, org, role, token)
        error = socket.expect("error")
        assert error["code"] == "rate_limited"
        assert error["message"] == "Too many failed attempts. Wait 60 minutes and try again."
        assert socket.close_code() == 4401
        assert socket.close_reason == "rate_limited"
