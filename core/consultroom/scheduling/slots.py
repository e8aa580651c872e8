"""Availability turned into bookable slots: a pure function (no database, no
request), so that the booking widget, the API and the benchmark share it.

Blocks are wall-clock times in the organisation's time zone; slots come out
as naive UTC, like everything the database stores. A weekly 09:00–11:00
block stays 09:00–11:00 local on both sides of a daylight-saving change, so
its UTC times shift; wall-clock times that do not exist (the hour skipped on
the spring-forward day) give no slot.
"""

import heapq
from datetime import UTC, date, datetime, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

WEEK = timedelta(days=7)


class Slot(NamedTuple):
    starts_at: datetime  # naive UTC
    ends_at: datetime  # naive UTC
    practitioner_id: int | None
    department_id: int | None

    @property
    def owner(self):
        return owner_key(self.practitioner_id, self.department_id)

    @property
    def minutes(self):
        return int((self.ends_at - self.starts_at).total_seconds() // 60)


def owner_key(practitioner_id, department_id):
    """Who a slot or appointment belongs to, as the database's unique indexes
    see it: the practitioner when there is one, else the department."""
    if practitioner_id is not None:
        return ("practitioner", practitioner_id)
    return ("department", department_id)


def booked_key(appointment):
    """The key under which a booked appointment hides a slot."""
    return (
        owner_key(appointment.practitioner_id, appointment.department_id),
        appointment.starts_at,
    )


def block_days(block, first_day, last_day):
    """The dates in ``first_day..last_day`` (inclusive) on which ``block`` applies."""
    if block.on_date is not None:
        if first_day <= block.on_date <= last_day:
            yield block.on_date
        return
    start = max(first_day, block.valid_from or first_day)
    end = min(last_day, block.valid_until or last_day)
    # Jump straight to the block's weekday, then a week at a time.
    day = start + timedelta(days=(block.weekday - start.weekday()) % 7)
    while day <= end:
        yield day
        day += WEEK


def _utc(local_naive, tz):
    """Naive UTC for a local wall-clock time, or None if it does not exist
    (skipped by spring forward). In the repeated autumn hour the first
    (summer-time) occurrence is meant, as in tenancy.timezones.to_utc."""
    aware = local_naive.replace(tzinfo=tz)
    utc = aware.astimezone(UTC)
    if utc.astimezone(tz).replace(tzinfo=None) != local_naive:
        return None
    return utc.replace(tzinfo=None)


def _day_slots(block, day, tz):
    """(start, end) in naive UTC of ``block``'s slots on local date ``day``."""
    slot = timedelta(minutes=block.slot_minutes)
    step = slot + timedelta(minutes=block.gap_minutes)
    first = datetime.combine(day, block.start_time)
    last_start = datetime.combine(day, block.end_time) - slot
    if last_start < first:
        return
    count = (last_start - first) // step + 1
    start, last = _utc(first, tz), _utc(last_start, tz)
    if start is not None and last is not None and last - start == last_start - first:
        # The usual day: one UTC offset for the whole block, so the slots are
        # plain arithmetic, without a time-zone lookup per slot. (Two changes
        # within one block on one day happen in no zone.)
        for n in range(count):
            at = start + n * step
            yield at, at + slot
        return
    # A change falls inside the block: cut in wall-clock time and convert
    # each slot, skipping times that do not exist.
    for n in range(count):
        at = _utc(first + n * step, tz)
        if at is not None:
            yield at, at + slot


def _block_slots(block, tz, first_day, last_day, booked, now):
    owner = owner_key(block.practitioner_id, block.department_id)
    for day in block_days(block, first_day, last_day):
        for start, end in _day_slots(block, day, tz):
            if start > now and (owner, start) not in booked:
                yield Slot(start, end, block.practitioner_id, block.department_id)


def free_slots(blocks, tz, first_day, last_day, booked=frozenset(), now=None):
    """Free slots, sorted by start, from ``blocks`` (AvailabilityBlock or any
    object with its fields) on the local dates ``first_day..last_day``.

    ``tz`` is a ZoneInfo or a zone name; ``booked`` a set of ``booked_key``
    values (appointments that take a slot); ``now`` (naive UTC, default the
    current time): slots starting at or before it are left out. Overlapping
    blocks of one owner give each slot once.
    """
    if isinstance(tz, str):
        tz = ZoneInfo(tz)
    if now is None:
        now = datetime.now(UTC).replace(tzinfo=None)
    streams = [_block_slots(b, tz, first_day, last_day, booked, now) for b in blocks]
    seen_at, seen = None, set()
    for slot in heapq.merge(*streams, key=lambda s: s.starts_at):
        if slot.starts_at != seen_at:
            seen_at, seen = slot.starts_at, set()
        if slot.owner not in seen:
            seen.add(slot.owner)
            yield slot


def slot_count(block):
    """How many slots one occurrence of ``block`` gives (ignoring time-zone changes)."""
    minutes = (
        datetime.combine(date.min, block.end_time) - datetime.combine(date.min, block.start_time)
    ).total_seconds() // 60
    if minutes < block.slot_minutes:
        return 0
    return int((minutes - block.slot_minutes) // (block.slot_minutes + block.gap_minutes)) + 1
