"""The owner edits everything in the admin: each list and form opens, slugs fill themselves."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from portfolio.models import Experience, Profile, Project, Skill

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner_client(client):
    get_user_model().objects.create_superuser("owner", "owner@example.com", "pw-long-enough-1")
    client.login(username="owner", password="pw-long-enough-1")
    return client


@pytest.mark.parametrize("model", [Profile, Skill, Experience, Project])
def test_every_model_has_a_working_list_and_add_form(owner_client, model):
    meta = model._meta
    changelist = reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist")
    assert owner_client.get(changelist).status_code == 200
    assert (
        owner_client.get(reverse(f"admin:{meta.app_label}_{meta.model_name}_add")).status_code
        == 200
    )


def test_projects_list_filters_and_prepopulates_the_slug(owner_client):
    Project.objects.create(title="Shown", slug="shown", summary="s", published=True)
    Project.objects.create(title="Hidden", slug="hidden", summary="s", published=False)
    html = owner_client.get(
        reverse("admin:portfolio_project_changelist") + "?published__exact=1"
    ).content.decode()
    assert "Shown" in html and "Hidden" not in html
    add_form = owner_client.get(reverse("admin:portfolio_project_add")).content.decode()
    assert "prepopulated_fields" in add_form or "data-prepopulated-fields" in add_form


def test_only_one_profile_can_be_added(owner_client):
    Profile.objects.create()
    assert owner_client.get(reverse("admin:portfolio_profile_add")).status_code == 403


def test_saving_a_project_in_the_admin_publishes_it_on_the_site(owner_client):
    response = owner_client.post(
        reverse("admin:portfolio_project_add"),
        {
            "title": "Order gateway",
            "slug": "order-gateway",
            "summary": "OUCH order entry.",
            "body": "## How\n\n<script>x()</script>Fast.",
            "technologies": "Python",
            "order": 0,
            "published": "on",
        },
    )
    assert response.status_code == 302
    page = owner_client.get("/projects/order-gateway/").content.decode()
    assert "<h2>How</h2>" in page and "x()" not in page
