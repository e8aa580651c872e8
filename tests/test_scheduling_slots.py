"""Slot generation: blocks cut by slot length and gap, booked and past slots
left out, wall-clock times kept across daylight saving (Europe/Amsterdam
changes on the last Sundays of March and October)."""

from datetime import date, datetime, time
from types import SimpleNamespace

import pytest

from consultroom.scheduling.slots import booked_key, free_slots, slot_count

# No database.
pytestmark = pytest.mark.sqlite_only

AMS = "Europe/Amsterdam"
LONG_AGO = datetime(2000, 1, 1)


def block(
    start="09:00",
    end="11:00",
    weekday=None,
    on_date=None,
    slot=20,
    gap=10,
    practitioner_id=1,
    department_id=None,
    valid_from=None,
    valid_until=None,
):
    return SimpleNamespace(
        start_time=time.fromisoformat(start),
        end_time=time.fromisoformat(end),
        weekday=weekday,
        on_date=on_date,
        slot_minutes=slot,
        gap_minutes=gap,
        practitioner_id=practitioner_id,
        department_id=department_id,
        valid_from=valid_from,
        valid_until=valid_until,
    )


def starts(slots):
    return [s.starts_at for s in slots]


def test_two_hours_of_20_plus_10_give_four_slots():
    day = date(2025, 6, 2)  # summer: UTC+2
    slots = list(free_slots([block(on_date=day)], AMS, day, day, now=LONG_AGO))
    assert starts(slots) == [
        datetime(2025, 6, 2, h, m) for h, m in ((7, 0), (7, 30), (8, 0), (8, 30))
    ]
    assert slots[-1].ends_at == datetime(2025, 6, 2, 8, 50)
    assert {s.minutes for s in slots} == {20}
    assert slot_count(block()) == 4


def test_a_slot_that_does_not_fit_is_left_out():
    day = date(2025, 6, 2)
    assert (
        len(list(free_slots([block("09:00", "10:15", on_date=day)], AMS, day, day, now=LONG_AGO)))
        == 2
    )  # 09:00, 09:30; 10:00 would end 10:20
    assert (
        list(free_slots([block("09:00", "09:10", on_date=day)], AMS, day, day, now=LONG_AGO)) == []
    )


def test_weekly_block_keeps_local_time_across_both_changes():
    weekly = block(weekday=6)  # Sundays 09:00–11:00 local
    march = list(free_slots([weekly], AMS, date(2025, 3, 23), date(2025, 3, 30), now=LONG_AGO))
    # Before the change 09:00 is 08:00 UTC; on the changing Sunday itself 07:00 UTC.
    assert starts(march) == [
        datetime(2025, 3, 23, 8, 0),
        datetime(2025, 3, 23, 8, 30),
        datetime(2025, 3, 23, 9, 0),
        datetime(2025, 3, 23, 9, 30),
        datetime(2025, 3, 30, 7, 0),
        datetime(2025, 3, 30, 7, 30),
        datetime(2025, 3, 30, 8, 0),
        datetime(2025, 3, 30, 8, 30),
    ]
    october = list(free_slots([weekly], AMS, date(2025, 10, 19), date(2025, 10, 26), now=LONG_AGO))
    assert starts(october)[0] == datetime(2025, 10, 19, 7, 0)
    assert starts(october)[4] == datetime(2025, 10, 26, 8, 0)


def test_times_skipped_by_spring_forward_give_no_slot():
    # 30 March 2025: 02:00 becomes 03:00. A block 01:00–04:00 has wall-clock
    # slots 01:00, 01:30, [02:00, 02:30 do not exist], 03:00, 03:30.
    day = date(2025, 3, 30)
    slots = list(free_slots([block("01:00", "04:00", on_date=day)], AMS, day, day, now=LONG_AGO))
    assert starts(slots) == [
        datetime(2025, 3, 30, 0, 0),
        datetime(2025, 3, 30, 0, 30),
        datetime(2025, 3, 30, 1, 0),
        datetime(2025, 3, 30, 1, 30),
    ]
    # A block entirely inside the missing hour gives nothing at all.
    assert (
        list(free_slots([block("02:00", "02:50", on_date=day)], AMS, day, day, now=LONG_AGO)) == []
    )


def test_repeated_autumn_hour_means_its_first_occurrence():
    # 26 October 2025: 03:00 becomes 02:00 again.
    day = date(2025, 10, 26)
    slots = list(free_slots([block("01:00", "04:00", on_date=day)], AMS, day, day, now=LONG_AGO))
    assert starts(slots) == [
        datetime(2025, 10, 25, 23, 0),
        datetime(2025, 10, 25, 23, 30),
        datetime(2025, 10, 26, 0, 0),
        datetime(2025, 10, 26, 0, 30),
        datetime(2025, 10, 26, 2, 0),
        datetime(2025, 10, 26, 2, 30),
    ]
    assert len(set(starts(slots))) == len(slots)


def test_booked_slots_disappear_for_their_owner_only():
    day = date(2025, 6, 2)
    blocks = [block(on_date=day, practitioner_id=1), block(on_date=day, practitioner_id=2)]
    taken = {
        booked_key(
            SimpleNamespace(
                practitioner_id=1, department_id=None, starts_at=datetime(2025, 6, 2, 7, 30)
            )
        )
    }
    slots = list(free_slots(blocks, AMS, day, day, booked=taken, now=LONG_AGO))
    mine = [s.starts_at for s in slots if s.practitioner_id == 1]
    theirs = [s.starts_at for s in slots if s.practitioner_id == 2]
    assert datetime(2025, 6, 2, 7, 30) not in mine and len(mine) == 3
    assert len(theirs) == 4
    assert starts(slots) == sorted(starts(slots))


def test_department_slots_are_booked_per_department():
    day = date(2025, 6, 2)
    dept_block = block(on_date=day, practitioner_id=None, department_id=7)
    taken = {
        booked_key(
            SimpleNamespace(
                practitioner_id=None, department_id=7, starts_at=datetime(2025, 6, 2, 7, 0)
            )
        )
    }
    slots = list(free_slots([dept_block], AMS, day, day, booked=taken, now=LONG_AGO))
    assert starts(slots)[0] == datetime(2025, 6, 2, 7, 30)
    assert {s.department_id for s in slots} == {7}


def test_past_slots_disappear():
    day = date(2025, 6, 2)
    now = datetime(2025, 6, 2, 7, 30)  # 09:30 local: that slot has started
    slots = list(free_slots([block(on_date=day)], AMS, day, day, now=now))
    assert starts(slots) == [datetime(2025, 6, 2, 8, 0), datetime(2025, 6, 2, 8, 30)]


def test_weekly_blocks_respect_their_validity_and_weekday():
    weekly = block(weekday=0, valid_from=date(2025, 6, 9), valid_until=date(2025, 6, 23))
    slots = list(free_slots([weekly], AMS, date(2025, 6, 1), date(2025, 7, 31), now=LONG_AGO))
    assert sorted({s.starts_at.date() for s in slots}) == [
        date(2025, 6, 9),
        date(2025, 6, 16),
        date(2025, 6, 23),
    ]


def test_overlapping_blocks_give_each_slot_once():
    day = date(2025, 6, 2)
    slots = list(free_slots([block(on_date=day), block(weekday=0)], AMS, day, day, now=LONG_AGO))
    assert len(slots) == 4
