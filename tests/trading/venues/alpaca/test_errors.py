"""Every broker failure becomes one named kind, with Retry-After honoured for a 429."""

import pytest
import requests
from alpaca.common.exceptions import APIError
from alpaca.trading.models import Order

from trading.venues.alpaca.errors import DEFAULT_RETRY_AFTER_S, ErrorKind, classify


def api_error(status, body='{"code": 40010001, "message": "broker says no"}', headers=None):
    """An APIError exactly as alpaca-py's RESTClient raises it for an HTTP error."""
    response = requests.Response()
    response.status_code = status
    response._content = body.encode()
    response.headers.update(headers or {})
    response.url = "http://127.0.0.1:9/v2/orders"
    try:
        response.raise_for_status()
    except requests.HTTPError as http_error:
        return APIError(response.text, http_error)
    raise AssertionError("not an error status")


def test_a_429_is_rate_limited_with_the_brokers_retry_after():
    error = classify(api_error(429, headers={"Retry-After": "3"}))
    assert error.kind == ErrorKind.RATE_LIMITED
    assert error.retry_after_s == 3.0
    assert not error.uncertain


def test_a_429_without_retry_after_waits_the_default():
    assert classify(api_error(429)).retry_after_s == DEFAULT_RETRY_AFTER_S


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_5xx_leaves_a_write_uncertain(status):
    error = classify(api_error(status, body="<html>bad gateway</html>"))
    assert error.kind == ErrorKind.UNAVAILABLE
    assert error.uncertain
    assert error.status == status


@pytest.mark.parametrize(
    ("status", "kind"),
    [(401, ErrorKind.UNAUTHORISED), (403, ErrorKind.REJECTED), (404, ErrorKind.NOT_FOUND),
     (422, ErrorKind.REJECTED)],
)  # fmt: skip
def test_4xx_are_certain_refusals_with_the_brokers_message(status, kind):
    error = classify(api_error(status))
    assert error.kind == kind
    assert error.message == "broker says no"
    assert not error.uncertain
    assert f"HTTP {status}" in str(error)


def test_timeouts_and_connection_failures_are_uncertain():
    assert classify(requests.ReadTimeout()).kind == ErrorKind.TIMEOUT
    assert classify(requests.ConnectionError("refused")).kind == ErrorKind.CONNECTION
    assert classify(requests.ReadTimeout()).uncertain


def test_an_answer_that_does_not_fit_the_model_is_malformed_and_uncertain():
    try:
        Order(id="not-a-uuid")
    except Exception as exc:  # pydantic's ValidationError
        error = classify(exc)
    assert error.kind == ErrorKind.MALFORMED
    assert error.uncertain
