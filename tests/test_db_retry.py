"""pyramid_retry's replays of a refused request (a PostgreSQL serialization
failure, SQLite's "database is locked"), as consultroom.db configures them:
each after a random pause that grows with the attempts."""

import pytest
from pyramid.config import Configurator
from pyramid_retry import mark_error_retryable
from webtest import TestApp

from consultroom import db


class Refused(Exception):
    """What a concurrent transaction makes a request raise."""


mark_error_retryable(Refused)


def refusing_app(refusals):
    """An app of five attempts whose one page is refused ``refusals`` times,
    and the attempts' numbers."""
    attempts = []

    def page(request):
        attempts.append(request.environ["retry.attempt"])
        if len(attempts) <= refusals:
            raise Refused()
        return "served"

    config = Configurator(settings={"sqlalchemy.url": "sqlite://", "retry.attempts": "5"})
    config.include("consultroom.db")
    config.add_route("page", "/")
    config.add_view(page, route_name="page", renderer="string")
    return TestApp(config.make_wsgi_app()), attempts


@pytest.fixture
def pauses(monkeypatch):
    """Each pause's upper bound, taken whole, instead of slept."""
    taken = []
    monkeypatch.setattr(db.random, "uniform", lambda low, high: (low, high))
    monkeypatch.setattr(db.time, "sleep", taken.append)
    return taken


def test_a_refused_request_runs_again_after_pauses_that_double(pauses):
    app, attempts = refusing_app(refusals=4)
    assert app.get("/").text == "served"
    assert attempts == [0, 1, 2, 3, 4]
    first = db.RETRY_FIRST_PAUSE
    # Random between nothing and a bound, so that colliding requests part.
    assert pauses == [(0, first), (0, 2 * first), (0, 4 * first), (0, 8 * first)]


def test_the_pause_has_a_ceiling(pauses):
    class Event:
        environ = {"retry.attempt": 30}

    db.pause_before_retry(Event())
    assert pauses == [(0, db.RETRY_LONGEST_PAUSE)]


def test_the_last_attempt_refused_fails_without_a_pause(pauses):
    app, attempts = refusing_app(refusals=5)
    with pytest.raises(Refused):
        app.get("/")
    assert len(attempts) == 5
    assert len(pauses) == 4  # between the attempts, none after the last
