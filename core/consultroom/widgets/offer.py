"""Who the walk-in widget offers to visitors now, and who it shows as busy.

Keep every "who may a walk-in visitor see" rule here. A practitioner is
offered when all of these hold:

- active staff of one of the widget's departments (any, when it names none);
- their walk-in switch (in the waiting room) is on: "off" always wins, even
  inside walk-in time;
- an availability block for walk-ins (purpose walk-in or both) covers now;
- no booked appointment takes the time: one running now, or starting within
  a walk-in's length, hides them until it ends (a booked slot is never
  offered to walk-ins; other walk-ins only queue, so they do not count).

Such a practitioner who is in a consultation (present in an open room) is
shown as busy instead of offered: a visitor sees that they are there and
will be free again (the list is live), but cannot walk in on a call.

``changes_at`` says when time alone changes the answer next (a block or a
booking starts or ends, or the day turns), for the live widget pages.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from consultroom.accounts.models import STAFF_ROLES, User
from consultroom.appointments.models import Appointment, Kind, Status
from consultroom.room.models import Room, RoomMember
from consultroom.scheduling.models import FOR_WALK_IN, AvailabilityBlock
from consultroom.scheduling.slots import block_days
from consultroom.tenancy.timezones import local_now, to_utc
from consultroom.waitingroom.models import WalkInSwitch

WALK_IN_MINUTES = 20
# The longest appointment (appointments.service.MAX_DURATION): one that
# started this long ago has ended.
LONGEST = timedelta(hours=8)


@dataclass(frozen=True)
class Offer:
    available: list  # User, by name
    busy: list  # User, by name
    changes_at: datetime  # naive UTC


def _switched_on(dbsession, organisation, widget):
    staff = select(User).where(
        User.organisation_id == organisation.id,
        User.active,
        User.role.in_(STAFF_ROLES),
        WalkInSwitch.user_id == User.id,
        WalkInSwitch.organisation_id == organisation.id,
        WalkInSwitch.available,
    )
    if widget.departments:
        staff = staff.where(User.department_id.in_([d.id for d in widget.departments]))
    return {user.id: user for user in dbsession.scalars(staff)}


def _in_walk_in_time(dbsession, organisation, user_ids, local, changes):
    """Of ``user_ids``, those with a walk-in block covering the local moment
    ``local``; the block's edges still to come today go into ``changes``."""
    blocks = dbsession.scalars(
        select(AvailabilityBlock).where(
            AvailabilityBlock.organisation_id == organisation.id,
            AvailabilityBlock.practitioner_id.in_(user_ids),
            AvailabilityBlock.purpose.in_(FOR_WALK_IN),
        )
    )
    day, moment = local.date(), local.time()
    covered = set()
    for block in blocks:
        if next(block_days(block, day, day), None) is None:
            continue
        if block.start_time <= moment < block.end_time:
            covered.add(block.practitioner_id)
        for edge in (block.start_time, block.end_time):
            if edge > moment:
                changes.append(to_utc(datetime.combine(day, edge), organisation))
    return covered


def _booked(dbsession, organisation, user_ids, now, changes):
    """Of ``user_ids``, those whose booked appointments take the time from
    ``now`` for a walk-in's length; when that changes goes into ``changes``."""
    walk_in = timedelta(minutes=WALK_IN_MINUTES)
    rows = dbsession.execute(
        select(
            Appointment.practitioner_id, Appointment.starts_at, Appointment.duration_minutes
        ).where(
            Appointment.organisation_id == organisation.id,
            Appointment.practitioner_id.in_(user_ids),
            Appointment.status == Status.scheduled,
            Appointment.kind == Kind.appointment,
            Appointment.starts_at > now - LONGEST,
            Appointment.starts_at < now + walk_in + timedelta(days=1),
        )
    )
    taken = set()
    for practitioner_id, starts_at, minutes in rows:
        hidden_from, hidden_until = starts_at - walk_in, starts_at + timedelta(minutes=minutes)
        if hidden_from <= now < hidden_until:
            taken.add(practitioner_id)
        changes.extend(edge for edge in (hidden_from, hidden_until) if edge > now)
    return taken


def in_consultation(dbsession, organisation, user_ids):
    """Of ``user_ids``, the staff present in an open room of the organisation."""
    return set(
        dbsession.scalars(
            select(RoomMember.user_id)
            .join(Room, Room.id == RoomMember.room_id)
            .where(
                Room.organisation_id == organisation.id,
                Room.ended_at.is_(None),
                RoomMember.left_at.is_(None),
                RoomMember.user_id.in_(user_ids),
            )
        )
    )


def walk_in_offer(dbsession, organisation, widget, now=None):
    """The Offer of ``widget`` at ``now`` (aware UTC; default: the current time)."""
    now = now or datetime.now(UTC)
    local = local_now(organisation, now)
    now_utc = now.astimezone(UTC).replace(tzinfo=None)
    midnight = datetime.combine(local.date() + timedelta(days=1), datetime.min.time())
    changes = [to_utc(midnight, organisation)]  # tomorrow's blocks
    staff = _switched_on(dbsession, organisation, widget)
    ids = _in_walk_in_time(dbsession, organisation, list(staff), local, changes)
    ids -= _booked(dbsession, organisation, list(ids), now_utc, changes)
    busy = in_consultation(dbsession, organisation, list(ids)) if ids else set()
    by_name = sorted((staff[i] for i in ids), key=lambda u: (u.name, u.id))
    return Offer(
        available=[u for u in by_name if u.id not in busy],
        busy=[u for u in by_name if u.id in busy],
        changes_at=min(changes),
    )
