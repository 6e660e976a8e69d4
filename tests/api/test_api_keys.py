"""API keys: the management command, the admin, and what is stored."""

from __future__ import annotations

import hashlib
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from api.models import ApiKey

pytestmark = pytest.mark.django_db


def _run(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("apikey", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_create_prints_the_key_once_and_stores_only_its_digest(staff):
    out, err = _run("create", "ops script", "--user", "operator")
    secret = out.strip()
    assert len(secret) == 40 and "not be shown again" in err
    stored = ApiKey.objects.get()
    assert stored.prefix == secret[:8] and stored.user == staff
    assert stored.hashed_key == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in stored.hashed_key
    response = Client(HTTP_X_API_KEY=secret).get("/api/orders")
    assert response.status_code == 200
    stored.refresh_from_db()
    assert stored.last_used is not None

    listing, _ = _run("list")
    assert stored.prefix in listing and "ops script" in listing and "active" in listing
    assert secret not in listing


def test_revoke_by_prefix_shuts_the_key_out(staff):
    secret = _run("create", "old", "--user", "operator")[0].strip()
    out, _ = _run("revoke", secret[:8])
    assert f"revoked {secret[:8]}" in out
    assert Client(HTTP_X_API_KEY=secret).get("/api/orders").status_code == 401
    assert "revoked" in _run("list")[0]
    with pytest.raises(CommandError, match="no active key"):
        _run("revoke", secret[:8])


def test_create_for_an_unknown_user_is_an_error(db):
    with pytest.raises(CommandError, match="no user 'ghost'"):
        _run("create", "x", "--user", "ghost")


def test_the_admin_shows_a_new_key_once_lists_prefixes_and_revokes(staff):
    staff.is_superuser = True
    staff.save()
    admin = Client()
    admin.force_login(staff)
    response = admin.post("/admin/api/apikey/add/", {"name": "dash", "user": staff.pk}, follow=True)
    assert response.status_code == 200
    stored = ApiKey.objects.get(name="dash")
    (message,) = [str(m) for m in response.context["messages"] if "created: " in str(m)]
    secret = message.split("created: ")[1].split(" ")[0]
    assert secret.startswith(stored.prefix) and len(secret) == 40
    assert Client(HTTP_X_API_KEY=secret).get("/api/orders").status_code == 200

    listing = admin.get("/admin/api/apikey/").content.decode()
    assert stored.prefix in listing and secret not in listing
    assert (
        stored.hashed_key
        not in admin.get(f"/admin/api/apikey/{stored.pk}/change/").content.decode()
    )

    admin.post(
        "/admin/api/apikey/",
        {"action": "revoke", "_selected_action": [stored.pk]},
        follow=True,
    )
    stored.refresh_from_db()
    assert stored.revoked
    assert Client(HTTP_X_API_KEY=secret).get("/api/orders").status_code == 401
