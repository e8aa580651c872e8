"""Captions in the database: switching a room's captions on and off, the
caption workers' leases on rooms (so that several workers share the rooms and
a room whose worker died is picked up by another), and the kept transcript.
"""

from datetime import timedelta

from sqlalchemy import delete, or_, select, update

from consultroom.db import utcnow
from consultroom.room.models import Room
from consultroom.secretbox import secret_box
from consultroom.tenancy.models import Organisation
from consultroom_translation.models import CaptionRoom, TranscriptLine
from consultroom_translation.settings import settings_of


def is_on(dbsession, room_id) -> bool:
    return dbsession.get(CaptionRoom, room_id) is not None


def switch(dbsession, room, on: bool) -> None:
    """Captions on (a worker will join) or off (the worker leaves) in ``room``."""
    row = dbsession.get(CaptionRoom, room.id)
    if on and row is None:
        dbsession.add(CaptionRoom(room_id=room.id, organisation_id=room.organisation_id))
    elif not on and row is not None:
        dbsession.delete(row)
    dbsession.flush()


def claim(dbsession, worker: str, capacity: int, lease_seconds: float, now=None) -> list[str]:
    """The rooms ``worker`` serves from now on: those it held, renewed, and
    free ones (never claimed, or their worker's lease ran out) up to
    ``capacity``. Rooms that ended or whose organisation turned captions off
    are let go. Each take is a conditional update, so two workers never
    take the same room."""
    now = now or utcnow()
    until = now + timedelta(seconds=lease_seconds)
    _forget_finished(dbsession)
    dbsession.execute(
        update(CaptionRoom).where(CaptionRoom.worker == worker).values(lease_until=until)
    )
    held = list(dbsession.scalars(select(CaptionRoom.room_id).where(CaptionRoom.worker == worker)))
    free = dbsession.scalars(
        select(CaptionRoom.room_id)
        .where(or_(CaptionRoom.worker.is_(None), CaptionRoom.lease_until < now))
        .order_by(CaptionRoom.switched_on_at)
        .limit(max(capacity - len(held), 0))
    ).all()
    for room_id in free:
        taken = dbsession.execute(
            update(CaptionRoom)
            .where(
                CaptionRoom.room_id == room_id,
                or_(CaptionRoom.worker.is_(None), CaptionRoom.lease_until < now),
            )
            .values(worker=worker, lease_until=until)
        )
        if taken.rowcount == 1:
            held.append(room_id)
    return held


def _forget_finished(dbsession):
    ended = select(Room.id).where(Room.ended_at.is_not(None))
    dbsession.execute(delete(CaptionRoom).where(CaptionRoom.room_id.in_(ended)))
    for row in dbsession.scalars(select(CaptionRoom)).all():
        organisation = dbsession.get(Organisation, row.organisation_id)
        if settings_of(dbsession, organisation) is None:
            dbsession.delete(row)
    dbsession.flush()


def subdomains_of(dbsession, room_ids) -> dict[str, str]:
    """Each room's organisation's subdomain (a worker's transactions for a
    room are scoped to its organisation)."""
    rows = dbsession.execute(
        select(Room.id, Organisation.subdomain)
        .join(Organisation, Organisation.id == Room.organisation_id)
        .where(Room.id.in_(room_ids))
    )
    return dict(rows.all())


def release(dbsession, worker: str) -> None:
    """A worker stopping lets its rooms go at once."""
    dbsession.execute(update(CaptionRoom).where(CaptionRoom.worker == worker).values(worker=None))


def keep(dbsession, registry, room, speaker: str, language: str, text: str) -> None:
    """One caption into the transcript, where the organisation keeps one."""
    organisation = dbsession.get(Organisation, room.organisation_id)
    settings = settings_of(dbsession, organisation)
    if not settings or not settings["keep_transcript"]:
        return
    dbsession.add(
        TranscriptLine(
            organisation_id=room.organisation_id,
            room_id=room.id,
            appointment_id=room.appointment_id,
            speaker=speaker,
            language=language,
            body=secret_box(registry).encrypt(text.encode()),
        )
    )


def transcript(dbsession, registry, organisation_id: int, appointment_id: int) -> list[dict]:
    box = secret_box(registry)
    lines = dbsession.scalars(
        select(TranscriptLine)
        .where(
            TranscriptLine.organisation_id == organisation_id,
            TranscriptLine.appointment_id == appointment_id,
        )
        .order_by(TranscriptLine.at, TranscriptLine.id)
    )
    return [
        {"at": line.at, "speaker": line.speaker, "text": box.decrypt(line.body).decode()}
        for line in lines
    ]
