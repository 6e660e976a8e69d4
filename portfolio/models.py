"""What the owner edits in the admin to shape the public site.

Markdown fields keep a rendered, sanitised copy next to them (`*_html`), computed on save, so a
page view never parses Markdown and the sanitiser runs once per edit rather than per visitor.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import models
from django.urls import reverse

from portfolio.markdown_render import render_markdown


@dataclass(frozen=True)
class Link:
    label: str
    url: str


_LINK_SCHEMES = ("https://", "http://", "mailto:")


class Profile(models.Model):
    """The site owner: one row is expected; `Profile.load()` reads it or a placeholder."""

    name = models.CharField(max_length=100, default="Your Name")
    headline = models.CharField(
        max_length=200,
        default="Engineer building a low-latency trading system",
        help_text="One line under the name; also the pages' default description for sharing.",
    )
    bio = models.TextField(blank=True, help_text="Markdown.")
    bio_html = models.TextField(blank=True, editable=False)
    email = models.EmailField(blank=True)
    location = models.CharField(max_length=100, blank=True)
    links = models.TextField(
        blank=True,
        help_text="One link per line as `Label | https://address` (http, https or mailto).",
    )
    social_image_url = models.URLField(
        blank=True, help_text="Absolute URL of the image shown when a page is shared (optional)."
    )
    track_record_published = models.BooleanField(
        default=False, help_text="Show the equity curve and headline figures on the public site."
    )
    track_record_account = models.CharField(max_length=16, default="demo")
    track_record_since = models.DateField(
        null=True, blank=True, help_text="Ignore equity recorded before this day (optional)."
    )

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.bio_html = render_markdown(self.bio, top_heading=2)
        super().save(*args, **kwargs)

    @classmethod
    def load(cls) -> Profile:
        """The saved profile, or an unsaved placeholder so a fresh install still renders."""
        return cls.objects.order_by("pk").first() or cls()

    def link_list(self) -> list[Link]:
        """Parsed `links`; lines that are malformed or use another URL scheme are left out."""
        parsed = []
        for line in self.links.splitlines():
            label, sep, url = line.partition("|")
            label, url = label.strip(), url.strip()
            if sep and label and url.lower().startswith(_LINK_SCHEMES):
                parsed.append(Link(label=label, url=url))
        return parsed


class Skill(models.Model):
    name = models.CharField(max_length=100)
    category = models.CharField(max_length=100, blank=True, help_text="Skills group by this.")
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["category", "order", "name"]

    def __str__(self) -> str:
        return self.name


class Experience(models.Model):
    role = models.CharField(max_length=150)
    organisation = models.CharField(max_length=150)
    start = models.DateField()
    end = models.DateField(null=True, blank=True, help_text="Leave empty for a current role.")
    summary = models.TextField(blank=True, help_text="Markdown.")
    summary_html = models.TextField(blank=True, editable=False)
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["order", "-start"]
        verbose_name_plural = "experience"

    def __str__(self) -> str:
        return f"{self.role}, {self.organisation}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # On the About page each role is an h3 under the h2 "Experience".
        self.summary_html = render_markdown(self.summary, top_heading=4)
        super().save(*args, **kwargs)


class ProjectQuerySet(models.QuerySet["Project"]):
    def published(self) -> ProjectQuerySet:
        return self.filter(published=True)


class Project(models.Model):
    title = models.CharField(max_length=150)
    slug = models.SlugField(max_length=150, unique=True)
    summary = models.CharField(max_length=300, help_text="One or two sentences, plain text.")
    body = models.TextField(blank=True, help_text="Markdown.")
    body_html = models.TextField(blank=True, editable=False)
    technologies = models.CharField(
        max_length=300, blank=True, help_text="Comma-separated, e.g. `Python, numba, Django`."
    )
    repository_url = models.URLField(blank=True)
    live_url = models.URLField(blank=True)
    order = models.PositiveIntegerField(default=0)
    published = models.BooleanField(default=False)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    objects = ProjectQuerySet.as_manager()

    class Meta:
        ordering = ["order", "title"]

    def __str__(self) -> str:
        return self.title

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.body_html = render_markdown(self.body, top_heading=2)
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("portfolio:project_detail", kwargs={"slug": self.slug})

    def technology_list(self) -> list[str]:
        return [name.strip() for name in self.technologies.split(",") if name.strip()]
