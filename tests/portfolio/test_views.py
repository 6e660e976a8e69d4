"""The public pages: what each shows, how it is built and how it is cached."""

from pathlib import Path

import pytest
from django.conf import settings
from django.template.loader import get_template
from django.urls import reverse

from portfolio.models import Experience, Project, Skill
from tests.portfolio.page_outline import outline

pytestmark = pytest.mark.django_db

CSS = Path(settings.BASE_DIR) / "static" / "portfolio" / "site.css"


@pytest.fixture
def projects(profile):
    published = Project.objects.create(
        title="Exchange simulator",
        slug="exchange-simulator",
        summary="Speaks OUCH and ITCH over SoupBinTCP.",
        body="## Design\n\nA price-time order book.",
        technologies="Python, numba , ,asyncio",
        repository_url="https://example.com/repo",
        published=True,
    )
    draft = Project.objects.create(
        title="Secret draft", slug="secret-draft", summary="Not yet.", published=False
    )
    return published, draft


@pytest.fixture
def cv(profile):
    Skill.objects.create(name="Python", category="Languages", order=1)
    Skill.objects.create(name="SQL", category="Languages", order=2)
    Skill.objects.create(name="Order books", category="Trading")
    Experience.objects.create(
        role="Engineer",
        organisation="Example Org",
        start="2020-01-01",
        summary="# Shipped\n\nBuilt the **engine**.",
    )


def _public_urls(projects):
    published, _ = projects
    return {
        reverse("portfolio:home"): "Ada Example",
        reverse("portfolio:about"): "About Ada Example",
        reverse("portfolio:projects"): "Projects",
        published.get_absolute_url(): "Exchange simulator",
        reverse("portfolio:track_record"): "Track record",
    }


def test_every_page_has_one_h1_the_landmarks_and_headings_in_order(client, projects, cv):
    for url, h1 in _public_urls(projects).items():
        response = client.get(url)
        assert response.status_code == 200, url
        page = outline(response.content)
        assert [text for level, text in page.headings if level == 1] == [h1], url
        levels = [level for level, _ in page.headings]
        assert levels[0] == 1, url
        assert all(b - a <= 1 for a, b in zip(levels, levels[1:], strict=False)), (url, levels)
        assert page.count("header") >= 1 and page.count("footer") >= 1, url
        assert page.count("main") == 1 and page.first("main", id="main"), url
        assert page.first("nav", **{"aria-label": "Main"}), url
        assert page.first("a", href="#main"), url
        assert page.first("html", lang="en"), url


def test_no_public_page_carries_javascript(client, projects, cv):
    urls = [*_public_urls(projects), "/no-such-page/", reverse("robots_txt")]
    for url in urls:
        response = client.get(url)
        html = response.content.decode().lower()
        assert "<script" not in html, url
        assert "javascript:" not in html, url
        assert " onclick=" not in html and " onload=" not in html, url


def test_open_graph_and_twitter_tags_describe_each_page(client, projects):
    published, _ = projects
    page = outline(client.get(published.get_absolute_url()).content)
    assert page.meta("og:title") == "Exchange simulator"
    assert page.meta("og:description") == "Speaks OUCH and ITCH over SoupBinTCP."
    assert page.meta("og:url") == "http://testserver/projects/exchange-simulator/"
    assert page.meta("og:type") == "article"
    assert page.meta("twitter:card") == "summary"
    assert page.meta("twitter:title") == "Exchange simulator"
    assert page.meta("og:image") is None

    home = outline(client.get("/").content)
    assert home.meta("og:type") == "profile"
    assert home.meta("og:description") == "Builds trading systems"
    assert home.meta("description") == "Builds trading systems"


def test_the_share_image_appears_only_once_set(client, profile):
    profile.social_image_url = "https://example.com/card.png"
    profile.save()
    page = outline(client.get("/").content)
    assert page.meta("og:image") == "https://example.com/card.png"
    assert page.meta("twitter:image") == "https://example.com/card.png"
    assert page.meta("twitter:card") == "summary_large_image"


def test_the_pages_link_the_svg_favicon_and_the_stylesheet(client, profile):
    page = outline(client.get("/").content)
    icon = page.first("link", rel="icon")
    assert icon and icon["type"] == "image/svg+xml" and icon["href"].endswith("favicon.svg")
    assert page.first("link", rel="stylesheet")["href"].endswith("portfolio/site.css")


def test_favicon_ico_redirects_to_the_svg(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 302
    assert response["Location"] == "/static/portfolio/favicon.svg"
    svg = (CSS.parent / "favicon.svg").read_text()
    assert svg.startswith("<svg") and 'viewBox="0 0 32 32"' in svg


def test_home_lists_published_projects_and_the_owner(client, projects):
    html = client.get("/").content.decode()
    assert "Exchange simulator" in html
    assert "Secret draft" not in html
    assert "Builds trading systems" in html
    assert 'href="https://example.com/ada"' in html
    # Malformed links and other URL schemes in the profile's link list are dropped.
    assert "Broken line" not in html and ">Bad<" not in html


def test_a_fresh_install_without_content_still_renders(client, db):
    response = client.get("/")
    assert response.status_code == 200
    assert [t for lvl, t in outline(response.content).headings if lvl == 1] == ["Your Name"]
    assert "No projects are published yet." in response.content.decode()


def test_project_list_and_detail_show_only_published_projects(client, projects):
    published, draft = projects
    listing = client.get(reverse("portfolio:projects")).content.decode()
    assert published.get_absolute_url() in listing
    assert "Secret draft" not in listing

    detail = client.get(published.get_absolute_url())
    html = detail.content.decode()
    assert "<h2>Design</h2>" in html
    assert [t for lvl, t in outline(html).headings if lvl == 1] == ["Exchange simulator"]
    assert "<li>numba</li>" in html and "<li>asyncio</li>" in html
    assert 'href="https://example.com/repo"' in html

    assert client.get(draft.get_absolute_url()).status_code == 404
    assert client.get("/projects/no-such-project/").status_code == 404


def test_about_is_a_cv_with_skills_by_category_and_experience(client, cv):
    html = client.get(reverse("portfolio:about")).content.decode()
    headings = outline(html).headings
    assert (2, "Skills") in headings and (2, "Experience") in headings
    assert (3, "Languages") in headings and (3, "Trading") in headings
    assert (3, "Engineer, Example Org") in headings
    # The experience summary's own "# Shipped" nests under the role, not beside the page title.
    assert (4, "Shipped") in headings
    assert html.index("<li>Python</li>") < html.index("<li>SQL</li>")
    assert "Jan 2020" in html and "present" in html
    assert "<strong>software</strong>" in html


def test_print_stylesheet_hides_navigation_and_prints_black_on_white():
    css = CSS.read_text()
    print_block = css[css.index("@media print") :]
    assert ".site-header nav" in print_block and "display: none" in print_block
    assert "color: #000000" in print_block
    assert ":focus-visible" in css


def test_home_page_and_its_stylesheet_weigh_under_30_kb(client, projects, cv):
    html = client.get("/").content
    assert len(html) + CSS.stat().st_size <= 30 * 1024


def test_public_pages_are_cacheable_for_a_minute(client, projects):
    for url in _public_urls(projects):
        cache_control = client.get(url)["Cache-Control"]
        assert "public" in cache_control and "max-age=60" in cache_control, url


def test_editing_a_project_shows_on_the_next_request(client, projects):
    published, _ = projects
    url = published.get_absolute_url()
    assert "Exchange simulator" in client.get(url).content.decode()
    assert "Exchange simulator" in client.get("/").content.decode()

    published.title = "Matching engine"
    published.save()
    assert "Matching engine" in client.get(url).content.decode()
    assert "Matching engine" in client.get("/").content.decode()


def test_pages_are_served_from_the_cache_until_content_changes(client, projects):
    published, _ = projects
    assert "Exchange simulator" in client.get("/").content.decode()
    # A bulk update sends no signal: the cached page stays, which shows it is cached at all.
    Project.objects.filter(pk=published.pk).update(title="Renamed quietly")
    assert "Exchange simulator" in client.get("/").content.decode()
    Project.objects.get(pk=published.pk).delete()
    assert "Renamed quietly" not in client.get("/").content.decode()


def test_profile_changes_clear_the_cached_pages(client, profile):
    assert "Ada Example" in client.get("/").content.decode()
    profile.name = "Ada Lovelace"
    profile.save()
    assert [t for lvl, t in outline(client.get("/").content).headings if lvl == 1] == [
        "Ada Lovelace"
    ]


def test_robots_txt_keeps_crawlers_off_the_private_desk_and_names_the_sitemap(client):
    response = client.get("/robots.txt")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    lines = response.content.decode().splitlines()
    assert "User-agent: *" in lines
    for path in ("/admin/", "/dashboard/", "/api/"):
        assert f"Disallow: {path}" in lines
    assert "Sitemap: http://testserver/sitemap.xml" in lines


def test_sitemap_lists_the_pages_and_published_projects_only(client, projects):
    response = client.get("/sitemap.xml")
    assert response.status_code == 200
    xml = response.content.decode()
    for path in ("/", "/about/", "/projects/", "/track-record/", "/projects/exchange-simulator/"):
        assert f"<loc>http://testserver{path}</loc>" in xml
    assert "secret-draft" not in xml


def test_the_404_page_is_styled_like_the_site(client, profile):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    page = outline(response.content)
    assert [t for lvl, t in page.headings if lvl == 1] == ["Page not found"]
    assert page.first("nav", **{"aria-label": "Main"})
    assert page.first("link", rel="stylesheet")
    assert "Ada Example" in response.content.decode()


def test_the_500_page_renders_without_a_request_or_a_database(django_assert_num_queries):
    with django_assert_num_queries(0):
        html = get_template("500.html").render({})
    page = outline(html)
    assert [t for lvl, t in page.headings if lvl == 1] == ["Something went wrong"]
    assert page.first("main", id="main") is not None
    assert page.first("header") is not None and page.first("footer") is not None
    assert "<script" not in html


def test_pages_refuse_writes(client, profile):
    assert client.post("/").status_code == 405


def test_the_404_template_renders_even_without_the_owner_profile(rf):
    html = get_template("404.html").render({}, rf.get("/gone/"))
    assert "<h1>Page not found</h1>" in html and "<code>/gone/</code>" in html


def test_the_stylesheet_and_icon_are_served_by_the_application(client):
    css = client.get("/static/portfolio/site.css")
    assert css.status_code == 200 and css["Content-Type"].startswith("text/css")
    icon = client.get("/static/portfolio/favicon.svg")
    assert icon.status_code == 200 and icon["Content-Type"] == "image/svg+xml"
