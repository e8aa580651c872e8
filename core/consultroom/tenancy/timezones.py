"""Converting between UTC (what the database stores) and an organisation's
local time (what people read and type), correctly across daylight saving."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo, available_timezones

ZONES = sorted(available_timezones())


def zone(organisation):
    return ZoneInfo(organisation.timezone)


def to_local(utc_naive, organisation):
    """A stored (naive UTC) datetime as an aware local datetime."""
    return utc_naive.replace(tzinfo=UTC).astimezone(zone(organisation))


def exists_locally(local_naive, organisation):
    """False for wall-clock times skipped by a spring-forward change."""
    tz = zone(organisation)
    aware = local_naive.replace(tzinfo=tz)
    return aware.astimezone(UTC).astimezone(tz).replace(tzinfo=None) == local_naive


def to_utc(local_naive, organisation):
    """A local wall-clock datetime as naive UTC, for storing. In the hour a
    fall-back change repeats, the first (summer-time) occurrence is meant."""
    aware = local_naive.replace(tzinfo=zone(organisation), fold=0)
    return aware.astimezone(UTC).replace(tzinfo=None)


def local_now(organisation, now=None):
    now = now or datetime.now(UTC)
    return now.astimezone(zone(organisation))
