"""Generated requests over the whole OpenAPI schema never make the API fail (no 5xx but a
command's 504 when no engine answers)."""

from __future__ import annotations

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings

from api.keys import issue_key
from api.routes import api

schema = schemathesis.openapi.from_dict(api.get_openapi_schema())
schema.app = get_wsgi_application()


@pytest.fixture
def fuzz_key(staff, desk) -> str:
    desk.DESK_COMMAND_TIMEOUT_S = 0.02
    return issue_key(staff, "fuzz").secret


@pytest.fixture(autouse=True)
def keep_the_test_connection():
    """The WSGI handler closes the database connection after each request (Django's
    request_finished signal); inside a test's transaction that would close it under the
    test, as Django's own test client knows, so the fuzzed requests leave it alone too."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.mark.slow
@pytest.mark.django_db
@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_generated_request_is_a_server_error(case, fuzz_key):
    response = case.call(headers={"X-API-Key": fuzz_key})
    assert response.status_code < 500 or response.status_code == 504, (
        f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text[:500]}"
    )
