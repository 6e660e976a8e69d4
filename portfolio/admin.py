from django.contrib import admin
from django.db import models
from django.http import HttpRequest

from portfolio.models import Experience, Profile, Project, Skill

# An address typed without a scheme ("github.com/me") is taken as https, as Django 6 will do.
_HTTPS_URLS = {models.URLField: {"assume_scheme": "https"}}


@admin.register(Profile)
class ProfileAdmin(admin.ModelAdmin):
    formfield_overrides = _HTTPS_URLS
    list_display = ["name", "headline", "track_record_published", "track_record_account"]
    fieldsets = [
        (None, {"fields": ["name", "headline", "bio", "email", "location", "links"]}),
        ("Sharing", {"fields": ["social_image_url"]}),
        (
            "Track record",
            {"fields": ["track_record_published", "track_record_account", "track_record_since"]},
        ),
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        # The site shows the first profile only; a second one would be edited to no effect.
        return not Profile.objects.exists() and super().has_add_permission(request)


@admin.register(Skill)
class SkillAdmin(admin.ModelAdmin):
    list_display = ["name", "category", "order"]
    list_editable = ["order"]
    list_filter = ["category"]
    search_fields = ["name", "category"]


@admin.register(Experience)
class ExperienceAdmin(admin.ModelAdmin):
    list_display = ["role", "organisation", "start", "end", "order"]
    list_editable = ["order"]
    list_filter = ["organisation"]
    search_fields = ["role", "organisation", "summary"]
    date_hierarchy = "start"


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ["title", "slug", "published", "order", "updated"]
    list_editable = ["published", "order"]
    list_filter = ["published", "created", "updated"]
    search_fields = ["title", "summary", "body", "technologies"]
    prepopulated_fields = {"slug": ["title"]}
    formfield_overrides = _HTTPS_URLS
    readonly_fields = ["created", "updated"]
