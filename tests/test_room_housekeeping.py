"""The worker closes consultation rooms left open: a room that started more
than ``jobs.close_rooms_after_hours`` (24) ago is ended like "End" does (the
visit ends, its members leave, its files go from disk and database, the
sockets still in it hear ``ended``, after the commit; the audit trail
records it as left open); younger rooms and ended ones are left alone, and
each organisation's run touches only its own rooms."""

from datetime import UTC, timedelta

import time_machine
from sqlalchemy import select

from consultroom.accounts.models import Role
from consultroom.appointments.models import Appointment
from consultroom.audit.models import AuditEntry
from consultroom.clients.models import Client
from consultroom.db import utcnow
from consultroom.jobs import in_organisation, run_due
from consultroom.realtime import client_channel, message_bus, room_channel
from consultroom.room import housekeeping
from consultroom.room.models import Room, RoomMember, SharedFile
from consultroom.waitingroom.models import ENDED, IN_ROOM, Visit


def _room(dbsession, org, started_at, tmp_path):
    """An open room of ``org`` with its client's visit, two members and a
    shared file on disk."""
    doctor_name = f"Dr {org.subdomain}"
    client = Client(organisation_id=org.id, last_name="Jansen", email="jansen@example.org")
    dbsession.add(client)
    dbsession.flush()
    appointment = Appointment(
        organisation_id=org.id, client_id=client.id, starts_at=started_at, duration_minutes=20
    )
    dbsession.add(appointment)
    dbsession.flush()
    room = Room(organisation_id=org.id, appointment_id=appointment.id, started_at=started_at)
    dbsession.add(room)
    dbsession.flush()
    dbsession.add(
        Visit(
            organisation_id=org.id,
            appointment_id=appointment.id,
            state=IN_ROOM,
            room_id=room.id,
            arrived_at=started_at,
        )
    )
    for peer, role, name in (
        (f"c{room.id[:8]}", "client", "Jansen"),
        (f"s{room.id[:8]}", "staff", doctor_name),
    ):
        dbsession.add(
            RoomMember(peer=peer, room_id=room.id, role=role, name=name, joined_at=started_at)
        )
    folder = tmp_path / room.id
    folder.mkdir()
    path = folder / "scan.pdf"
    path.write_bytes(b"%PDF-1.4 left behind")
    dbsession.add(
        SharedFile(
            room_id=room.id,
            name="scan.pdf",
            size=20,
            content_type="application/pdf",
            path=str(path),
        )
    )
    dbsession.flush()
    return room, appointment, path


def _heard(app, channels):
    """What the bus carries on ``channels`` from now on."""
    heard = []
    for channel in channels:
        message_bus(app.registry).subscribe(channel, lambda m, c=channel: heard.append((c, m)))
    return heard


def test_a_room_left_open_for_a_day_is_ended_with_its_visit_members_and_files(
    app, dbsession, make_organisation, make_user, tmp_path
):
    org = make_organisation("alpha", settings={"follow_up_text": "Get well soon."})
    make_user(org, role=Role.practitioner)
    now = utcnow()
    old, appointment, old_file = _room(dbsession, org, now - timedelta(hours=25), tmp_path)
    young, _young_appointment, young_file = _room(
        dbsession, org, now - timedelta(hours=2), tmp_path
    )
    heard = _heard(
        app, [room_channel(old.id), client_channel(appointment.id), room_channel(young.id)]
    )

    assert in_organisation(app.registry, "alpha", lambda r: housekeeping.job(r, now)) == 1

    dbsession.expire_all()
    assert dbsession.get(Room, old.id).ended_at is not None
    assert dbsession.get(Room, young.id).ended_at is None
    visit = dbsession.scalar(select(Visit).where(Visit.room_id == old.id))
    assert visit.state == ENDED
    present = dbsession.scalars(
        select(RoomMember.room_id).where(RoomMember.left_at.is_(None))
    ).all()
    assert old.id not in present and present.count(young.id) == 2
    assert not old_file.exists() and not old_file.parent.exists()
    assert young_file.exists()
    assert dbsession.scalars(select(SharedFile.room_id)).all() == [young.id]
    ended = {"type": "_ended", "room": old.id, "follow_up": "Get well soon."}
    assert (room_channel(old.id), ended) in heard
    assert (client_channel(appointment.id), ended) in heard
    assert not [m for c, m in heard if c == room_channel(young.id)]
    # The audit trail says the worker ended it: no one's name, left open.
    audited = dbsession.execute(
        select(AuditEntry.object_id, AuditEntry.user_name, AuditEntry.detail).where(
            AuditEntry.action == "room.end"
        )
    ).all()
    assert audited == [(old.id, "", {"left_open": True})]
    # Nothing left to close.
    assert in_organisation(app.registry, "alpha", lambda r: housekeeping.job(r, now)) == 0


def test_the_worker_runs_it_for_each_organisation_and_the_setting_sets_the_age(
    app, dbsession, make_organisation, tmp_path
):
    alpha, beta = make_organisation("alpha"), make_organisation("beta")
    now = utcnow().replace(microsecond=0)
    mine, _a, _f = _room(dbsession, alpha, now - timedelta(hours=30), tmp_path)
    theirs, _b, _g = _room(dbsession, beta, now - timedelta(hours=30), tmp_path)
    recent, _c, _h = _room(dbsession, beta, now - timedelta(hours=5), tmp_path)
    # The alpha run sees only alpha's rooms.
    assert in_organisation(app.registry, "alpha", lambda r: housekeeping.job(r, now)) == 1
    dbsession.expire_all()
    assert dbsession.get(Room, theirs.id).ended_at is None

    settings = app.registry.settings
    settings["jobs.close_rooms_after_hours"] = "4"
    try:
        with time_machine.travel(now.replace(tzinfo=UTC), tick=False):
            assert run_due(app.registry)["rooms closed"] == 2
    finally:
        del settings["jobs.close_rooms_after_hours"]
    dbsession.expire_all()
    assert all(dbsession.get(Room, r.id).ended_at is not None for r in (mine, theirs, recent))
