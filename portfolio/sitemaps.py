"""`sitemap.xml`: the fixed pages and every published project."""

from __future__ import annotations

from datetime import datetime

from django.contrib.sitemaps import Sitemap
from django.db.models import QuerySet
from django.urls import reverse

from portfolio.models import Project
from portfolio.selectors import published_projects


class StaticPageSitemap(Sitemap):
    changefreq = "monthly"

    def items(self) -> list[str]:
        return ["home", "about", "projects", "track_record"]

    def location(self, item: str) -> str:
        return reverse(f"portfolio:{item}")


class ProjectSitemap(Sitemap):
    changefreq = "monthly"

    def items(self) -> QuerySet[Project]:
        return published_projects()

    def lastmod(self, item: Project) -> datetime:
        return item.updated


SITEMAPS = {"pages": StaticPageSitemap, "projects": ProjectSitemap}
