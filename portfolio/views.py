"""The public pages: thin views over the selectors, every page cached and free of JavaScript."""

from __future__ import annotations

from typing import Any

from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, HttpResponseNotFound, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.urls import reverse
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe

from portfolio import selectors
from portfolio.models import Profile
from portfolio.page_cache import public_page

HOME_PROJECTS = 3


def _page(
    request: HttpRequest,
    template: str,
    profile: Profile,
    title: str,
    description: str = "",
    og_type: str = "website",
    nav: str = "",
    **context: Any,
) -> HttpResponse:
    return render(
        request,
        template,
        {
            "profile": profile,
            "page_title": title,
            "page_description": description or profile.headline,
            "og_type": og_type,
            "nav": nav,
            **context,
        },
    )


@require_safe
@public_page
def home(request: HttpRequest) -> HttpResponse:
    profile = Profile.load()
    return _page(
        request,
        "portfolio/home.html",
        profile,
        title=profile.name,
        og_type="profile",
        projects=selectors.published_projects()[:HOME_PROJECTS],
    )


@require_safe
@public_page
def about(request: HttpRequest) -> HttpResponse:
    profile = Profile.load()
    return _page(
        request,
        "portfolio/about.html",
        profile,
        title=f"About {profile.name}",
        description=f"{profile.name}: background, skills and experience.",
        og_type="profile",
        nav="about",
        skill_groups=selectors.skills_by_category(),
        experience=selectors.experience_list(),
    )


@require_safe
@public_page
def projects(request: HttpRequest) -> HttpResponse:
    profile = Profile.load()
    return _page(
        request,
        "portfolio/project_list.html",
        profile,
        title="Projects",
        description=f"Projects by {profile.name}.",
        nav="projects",
        projects=selectors.published_projects(),
    )


@require_safe
@public_page
def project_detail(request: HttpRequest, slug: str) -> HttpResponse:
    project = get_object_or_404(selectors.published_projects(), slug=slug)
    return _page(
        request,
        "portfolio/project_detail.html",
        Profile.load(),
        title=project.title,
        description=project.summary,
        og_type="article",
        nav="projects",
        project=project,
    )


@require_safe
@public_page
def track_record(request: HttpRequest) -> HttpResponse:
    profile = Profile.load()
    record = selectors.public_track_record(profile) if profile.track_record_published else None
    return _page(
        request,
        "portfolio/track_record.html",
        profile,
        title="Track record",
        description="The equity curve and headline figures of the trading system.",
        nav="track_record",
        record=record,
    )


@require_safe
@public_page
def robots_txt(request: HttpRequest) -> HttpResponse:
    # The private desk is behind a login anyway; this keeps crawlers from even knocking.
    lines = [
        "User-agent: *",
        "Disallow: /admin/",
        "Disallow: /dashboard/",
        "Disallow: /api/",
        "",
        f"Sitemap: {request.build_absolute_uri(reverse('sitemap'))}",
        "",
    ]
    return HttpResponse("\n".join(lines), content_type="text/plain; charset=utf-8")


@require_safe
@cache_control(public=True, max_age=86400)
def favicon(request: HttpRequest) -> HttpResponse:
    # Browsers ask for /favicon.ico whatever the page links. The redirect is temporary because
    # its target is the content-hashed name from the static manifest, which changes with the icon.
    return HttpResponseRedirect(static("portfolio/favicon.svg"))


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """The site's 404 page, with the owner's name in its header and footer."""
    try:
        profile = Profile.load()
    except DatabaseError:
        # A missing page must not turn into a server error when the database is away.
        profile = Profile()
    context = {
        "profile": profile,
        "page_title": "Page not found",
        "page_description": "There is no page at this address.",
    }
    return HttpResponseNotFound(render_to_string("404.html", context, request))
