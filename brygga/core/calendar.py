"""Deadlines in calendar days (issue 13 item 6). "Within N days" in the rules (R-SIP-K-1: the SIP summons
"senast 3 dagar" after discharge-ready) is counted on Europe/Stockholm local dates and wall-clock time:
discharge-ready 2026-10-23 10:00 gives 2026-10-26 10:00 local, across the autumn change as across the spring
one. Adding 72 elapsed hours instead would give 09:00 in autumn and 11:00 in spring. Deadlines in hours
(R-INS-2: 24 hours from admission) stay elapsed time and do not use this."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone


def local_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def add_calendar_days(moment: dt.datetime, days: int) -> dt.datetime:
    """The same local wall-clock time ``days`` calendar days later, as an aware datetime. A wall-clock time
    that does not exist that day (02:30 on the spring change) is read as the time after the gap; one that
    exists twice (02:30 on the autumn change) as the first of the two."""
    zone = local_zone()
    local = timezone.localtime(moment, zone)
    naive = dt.datetime.combine(local.date() + dt.timedelta(days=days), local.time().replace(tzinfo=None))
    # fold=0 (PEP 495): in the spring gap the offset before the change, i.e. the instant after the gap;
    # in the autumn overlap the first occurrence. astimezone normalises the wall-clock reading.
    return naive.replace(tzinfo=zone, fold=0).astimezone(dt.UTC).astimezone(zone)
