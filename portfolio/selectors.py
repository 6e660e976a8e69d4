"""Reads for the public pages. Only aggregate history leaves the ledger: never positions or orders."""

from __future__ import annotations

from datetime import datetime, time

from django.db.models import QuerySet
from django.utils import timezone

from ledger.models import EquityPoint, Fill
from portfolio.models import Experience, Profile, Project, Skill
from portfolio.track_record import TrackRecord, summarise


def published_projects() -> QuerySet[Project]:
    return Project.objects.published()


def skills_by_category() -> list[tuple[str, list[Skill]]]:
    grouped: dict[str, list[Skill]] = {}
    for skill in Skill.objects.all():
        grouped.setdefault(skill.category or "Other", []).append(skill)
    return list(grouped.items())


def experience_list() -> QuerySet[Experience]:
    return Experience.objects.all()


def _since(profile: Profile) -> datetime | None:
    if profile.track_record_since is None:
        return None
    # The day starts at midnight on the desk's clock (the exchange's time zone), like its sessions.
    return timezone.make_aware(datetime.combine(profile.track_record_since, time.min))


def equity_series(account: str, since: datetime | None = None) -> list[tuple[datetime, float]]:
    """(local time, equity in dollars) of the account, oldest first."""
    rows = EquityPoint.objects.filter(account=account)
    if since is not None:
        rows = rows.filter(ts__gte=since)
    return [
        (timezone.localtime(ts), float(equity))
        for ts, equity in rows.order_by("ts", "pk").values_list("ts", "equity").iterator()
    ]


def trade_count(account: str, since: datetime | None = None) -> int:
    """How many executions the account has had: one ledger `Fill` row is one trade."""
    fills = Fill.objects.filter(account=account)
    if since is not None:
        fills = fills.filter(ts__gte=since)
    return fills.count()


def public_track_record(profile: Profile) -> TrackRecord:
    since = _since(profile)
    account = profile.track_record_account
    return summarise(equity_series(account, since), trade_count(account, since))
