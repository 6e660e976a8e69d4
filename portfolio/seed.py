"""Starting content for a fresh install, so the site looks like a site before the owner edits it.

The text describes this very system and nothing else; personal details are placeholders for the
owner to replace in the admin.
"""

from __future__ import annotations

from django.db import transaction

from portfolio.models import Profile, Project, Skill

BIO = """\
I build trading systems end to end: the venue they trade on, the engine that trades, and the
research tools that decide what it should trade.

This site is served by the same Django project that runs the private control desk of that system.
Edit this text, the links and the projects in the admin.
"""

LINKS = "Source | https://github.com/your-name\nEmail | mailto:you@example.com"

SKILLS = [
    ("Python", "Languages", 0),
    ("numba and numpy", "Languages", 1),
    ("SQL", "Languages", 2),
    ("Market microstructure", "Trading", 0),
    ("Binary exchange protocols (OUCH, ITCH, SoupBinTCP)", "Trading", 1),
    ("Backtesting and research", "Trading", 2),
    ("Django", "Systems", 0),
    ("PostgreSQL and TimescaleDB", "Systems", 1),
    ("Redis, Celery and Channels", "Systems", 2),
]

PROJECTS = [
    {
        "title": "Exchange simulator",
        "slug": "exchange-simulator",
        "summary": (
            "A matching engine that speaks the exchange's own binary protocols: order entry over "
            "OUCH, market data over ITCH, both carried on SoupBinTCP sessions."
        ),
        "technologies": "Python, numba, asyncio, OUCH, ITCH, SoupBinTCP",
        "body": """\
## What it does

A price-time priority limit order book behind real wire protocols, so the trading engine is
tested against the same bytes it would send to a venue.

- **Order entry** over OUCH: enter, replace and cancel orders, with accepted, executed and
  rejected messages back.
- **Market data** over ITCH: every add, execute and delete on the book, sequenced.
- **Sessions** over SoupBinTCP: login, heartbeats, sequence numbers and replay after a reconnect.

## Why build it

Testing against a live venue is slow, costly and cannot be repeated. A simulator that speaks
the protocols exactly makes every failure reproducible, from a dropped session to a crossed book.
""",
    },
    {
        "title": "Trading engine",
        "slug": "trading-engine",
        "summary": (
            "The live engine: a feed handler that rebuilds the book from ITCH, strategies, "
            "pre-trade risk checks and an order gateway, with a durable ledger for recovery."
        ),
        "technologies": "Python, numba, uvloop, PostgreSQL, Redis",
        "body": """\
## Design

A pure domain core with no framework in it: records, order book, strategies, risk and
positions. Adapters connect it to a venue, and the same strategy objects run live and in the
backtester.

- Pre-trade risk checks on every order: position, notional, rate and price-collar limits.
- An order manager that tracks every order through its life.
- A ledger of fills, equity and audit events, enough to restore the portfolio after a crash.

## Public figures

The equity curve of the demo account is on the Track record page.
""",
    },
    {
        "title": "Research backtester",
        "slug": "research-backtester",
        "summary": (
            "An event-driven backtester that replays historical order-book data through the "
            "same strategies the live engine runs."
        ),
        "technologies": "Python, numba, numpy",
        "body": """\
## Approach

Whole replays are compiled loops over typed arrays, so a day of order-book messages replays
in seconds. Fills are modelled against the queue ahead of the order rather than assumed at the
touch.

## Why it matters

Research and production share one implementation of each strategy, so a result in research
is a statement about the code that will trade.
""",
    },
]


@transaction.atomic
def seed_default_content() -> list[str]:
    """Create what is missing (a profile, skills, the three projects); return what was made."""
    created: list[str] = []
    if not Profile.objects.exists():
        Profile.objects.create(
            name="Your Name",
            headline="Engineer building a low-latency trading system",
            bio=BIO,
            location="Your City",
            links=LINKS,
        )
        created.append("profile")
    if not Skill.objects.exists():
        # One save per row (not bulk_create) so the signal that clears cached pages fires.
        for name, category, order in SKILLS:
            Skill.objects.create(name=name, category=category, order=order)
        created.append(f"{len(SKILLS)} skills")
    for order, fields in enumerate(PROJECTS):
        _, made = Project.objects.get_or_create(
            slug=fields["slug"], defaults={**fields, "order": order, "published": True}
        )
        if made:
            created.append(f"project {fields['slug']}")
    return created
