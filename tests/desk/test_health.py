"""The liveness endpoint reports the database the desk really runs on."""

import pytest
from django.db import connection


@pytest.mark.django_db
def test_healthz_answers_with_the_database_in_use(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": connection.vendor}


@pytest.mark.django_db
def test_healthz_says_503_when_the_database_is_gone(client, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("database unreachable")

    monkeypatch.setattr(connection, "cursor", broken)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == "database unreachable"
