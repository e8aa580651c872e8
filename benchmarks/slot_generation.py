"""Slot generation for the booking widget: 100 practitioners, each with a
year of weekly availability (Monday to Friday 09:00–12:00 and 13:00–17:00,
20-minute consultations with a 10-minute gap), a quarter of the slots
booked, in Europe/Amsterdam (both daylight-saving changes fall in the year).

Measures ``scheduling.slots.free_slots`` per practitioner-year, against a
baseline in the same run: the naive loop (every day, every block, a
time-zone conversion per slot, no booked-set filtering) producing the same
slots without removing the booked ones.

    .venv/bin/python benchmarks/slot_generation.py [--practitioners 100]
"""

import argparse
import timeit
from datetime import UTC, date, datetime, time, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from consultroom.scheduling.slots import booked_key, free_slots

ZONE = ZoneInfo("Europe/Amsterdam")
FIRST_DAY = date(2030, 1, 1)
LAST_DAY = date(2030, 12, 31)
LONG_AGO = datetime(2000, 1, 1)


def blocks_for(practitioner_id):
    return [
        SimpleNamespace(
            practitioner_id=practitioner_id,
            department_id=None,
            weekday=day,
            on_date=None,
            valid_from=None,
            valid_until=None,
            start_time=start,
            end_time=end,
            slot_minutes=20,
            gap_minutes=10,
        )
        for day in range(5)
        for start, end in ((time(9), time(12)), (time(13), time(17)))
    ]


def naive_slots(blocks, first_day, last_day):
    """The obvious implementation: walk every day, convert every slot."""
    result = []
    day = first_day
    while day <= last_day:
        for block in blocks:
            if block.weekday != day.weekday():
                continue
            at = datetime.combine(day, block.start_time)
            end = datetime.combine(day, block.end_time)
            while at + timedelta(minutes=block.slot_minutes) <= end:
                aware = at.replace(tzinfo=ZONE)
                utc = aware.astimezone(UTC)
                if utc.astimezone(ZONE).replace(tzinfo=None) == at:
                    start = utc.replace(tzinfo=None)
                    result.append((start, start + timedelta(minutes=block.slot_minutes)))
                at += timedelta(minutes=block.slot_minutes + block.gap_minutes)
        day += timedelta(days=1)
    return result


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--practitioners", type=int, default=100)
    args = parser.parse_args()
    practitioners = {n: blocks_for(n) for n in range(1, args.practitioners + 1)}
    booked = set()
    for n, blocks in practitioners.items():
        every = list(free_slots(blocks, ZONE, FIRST_DAY, LAST_DAY, now=LONG_AGO))
        booked.update(
            booked_key(
                SimpleNamespace(practitioner_id=n, department_id=None, starts_at=s.starts_at)
            )
            for s in every[::4]
        )
    sample = practitioners[1]
    free = list(free_slots(sample, ZONE, FIRST_DAY, LAST_DAY, booked, now=LONG_AGO))
    everything = naive_slots(sample, FIRST_DAY, LAST_DAY)
    assert len(free) == len(everything) - len(everything[::4]), (len(free), len(everything))

    def ours():
        for blocks in practitioners.values():
            for _slot in free_slots(blocks, ZONE, FIRST_DAY, LAST_DAY, booked, now=LONG_AGO):
                pass

    def baseline():
        for blocks in practitioners.values():
            naive_slots(blocks, FIRST_DAY, LAST_DAY)

    count = len(practitioners)
    ours_ms = min(timeit.repeat(ours, number=1, repeat=5)) / count * 1000
    naive_ms = min(timeit.repeat(baseline, number=1, repeat=5)) / count * 1000
    print(
        f"practitioners: {count}, slots per practitioner-year: {len(everything)} ({len(free)} free)"
    )
    print(f"naive loop, no booked filtering (baseline): {naive_ms:8.3f} ms per practitioner-year")
    print(
        f"free_slots with booked filtering:           {ours_ms:8.3f} ms per practitioner-year"
        f"   ratio {ours_ms / naive_ms:.2f}"
    )
    print(f"all {count} practitioners, one year:         {ours_ms * count:8.1f} ms")


if __name__ == "__main__":
    main()
