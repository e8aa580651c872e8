"""Caption workers sharing rooms (plugins/translation): each takes free rooms
up to its capacity and keeps them while it renews its lease; a room whose
worker stopped renewing (it died) goes to another; ended rooms and rooms of
an organisation that turned the plugin off are let go; the room pages show
the cc button only where the organisation has captions."""

from datetime import timedelta

import pytest
from consultroom_translation import service
from consultroom_translation.models import CaptionRoom

from consultroom.accounts.models import Role
from consultroom.db import utcnow
from consultroom.room.models import Room

BUTTON = 'data-room-button="translation.cc"'


@pytest.fixture
def rooms(make_organisation, make_user, enable_plugin, dbsession):
    def make(subdomain, count, enabled=True):
        org = make_organisation(subdomain)
        if enabled:
            enable_plugin(org, "translation")
        doctor = make_user(org, role=Role.practitioner)
        made = [Room(organisation_id=org.id, created_by_id=doctor.id) for _ in range(count)]
        dbsession.add_all(made)
        dbsession.flush()
        for room in made:
            service.switch(dbsession, room, True)
        return org, doctor, made

    return make


def test_workers_share_rooms_and_a_dead_workers_rooms_are_taken_over(rooms, dbsession):
    _org, _doctor, made = rooms("cc", 3)
    now = utcnow()
    first = service.claim(dbsession, "one", capacity=2, lease_seconds=10, now=now)
    second = service.claim(dbsession, "two", capacity=2, lease_seconds=10, now=now)
    assert len(first) == 2 and len(second) == 1
    assert not set(first) & set(second)
    # "one" renews; "two" stops renewing, and a third worker takes its room.
    later = now + timedelta(seconds=8)
    assert sorted(service.claim(dbsession, "one", 2, 10, now=later)) == sorted(first)
    assert service.claim(dbsession, "three", 2, 10, now=later) == []
    much_later = now + timedelta(seconds=12)
    assert service.claim(dbsession, "three", 2, 10, now=much_later) == second


def test_ended_rooms_and_disabled_organisations_are_let_go(rooms, enable_plugin, dbsession):
    org, _doctor, (ended, kept) = rooms("cc", 2)
    other, _d, (elsewhere,) = rooms("other", 1)
    ended.ended_at = utcnow()
    enable_plugin(other, "translation", enabled=False)
    assert service.claim(dbsession, "one", 5, 10) == [kept.id]
    assert dbsession.get(CaptionRoom, ended.id) is None
    assert dbsession.get(CaptionRoom, elsewhere.id) is None


def test_the_cc_button_is_on_the_room_page_only_with_the_plugin(
    rooms, webtest, login, make_organisation, make_user, dbsession
):
    _org, doctor, (room,) = rooms("cc", 1)
    staff = webtest("cc")
    login(staff, doctor)
    page = staff.get(f"/room/{room.id}").text
    assert BUTTON in page
    assert "/translation-static/captions.js" in page
    assert "aria-live" in page
    _org, other_doctor, (other_room,) = rooms("off", 1, enabled=False)
    staff = webtest("off")
    login(staff, other_doctor)
    page = staff.get(f"/room/{other_room.id}").text
    assert BUTTON not in page
    assert "captions.js" not in page
