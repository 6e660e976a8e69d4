"""`manage.py seedportfolio` gives a fresh install a real-looking site, and only once."""

from io import StringIO

import pytest
from django.core.management import call_command

from portfolio.models import Profile, Project, Skill
from tests.portfolio.page_outline import outline

pytestmark = pytest.mark.django_db


def test_seeding_creates_a_profile_skills_and_the_three_published_projects(client):
    out = StringIO()
    call_command("seedportfolio", stdout=out)
    assert "Created profile" in out.getvalue()
    assert Profile.objects.get().name == "Your Name"
    assert Skill.objects.count() > 0
    assert sorted(Project.objects.published().values_list("slug", flat=True)) == [
        "exchange-simulator",
        "research-backtester",
        "trading-engine",
    ]
    simulator = Project.objects.get(slug="exchange-simulator")
    for word in ("OUCH", "ITCH", "SoupBinTCP"):
        assert word in simulator.summary
    assert simulator.body_html.startswith("<h2>")


def test_seeding_again_changes_nothing_and_keeps_owner_edits():
    call_command("seedportfolio", stdout=StringIO())
    Profile.objects.update(name="Ada Example")
    out = StringIO()
    call_command("seedportfolio", stdout=out)
    assert "nothing created" in out.getvalue()
    assert Profile.objects.get().name == "Ada Example"
    assert Project.objects.count() == 3


def test_the_seeded_site_renders_with_valid_heading_outlines(client):
    call_command("seedportfolio", stdout=StringIO())
    urls = ["/", "/about/", "/projects/", *[p.get_absolute_url() for p in Project.objects.all()]]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        levels = [level for level, _ in outline(response.content).headings]
        assert levels.count(1) == 1, url
        assert all(b - a <= 1 for a, b in zip(levels, levels[1:], strict=False)), (url, levels)
