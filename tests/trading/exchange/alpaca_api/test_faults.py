"""Fault injection: error answers on demand, only when the simulator is started for it."""

import time

import pytest
import requests
from alpaca.common.exceptions import APIError
from alpaca.trading.client import TradingClient

pytestmark = [pytest.mark.tcp]

HEADERS = {"APCA-API-KEY-ID": "demo", "APCA-API-SECRET-KEY": "demo"}


def inject(base_url, **fault):
    answer = requests.post(f"{base_url}/_sim/faults", json=fault, timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_the_next_calls_get_429_with_alpacas_retry_headers_then_service_resumes(base_url):
    state = inject(base_url, http_status=429, count=2, retry_after_s=1)
    assert (state["http_status"], state["count"]) == (429, 2)
    for _ in range(2):
        answer = requests.get(f"{base_url}/v2/account", headers=HEADERS, timeout=10)
        assert answer.status_code == 429
        assert answer.json() == {"code": 42910000, "message": "rate limit exceeded"}
        assert answer.headers["Retry-After"] == "1"
        assert answer.headers["X-Ratelimit-Remaining"] == "0"
        assert int(answer.headers["X-Ratelimit-Reset"]) >= int(time.time())
    assert requests.get(f"{base_url}/v2/account", headers=HEADERS, timeout=10).status_code == 200


@pytest.mark.slow
def test_alpacas_client_retries_a_429_by_itself(base_url, client):
    inject(base_url, http_status=429, count=1, retry_after_s=1)
    assert client.get_account().cash == "100000"  # after alpaca-py's own wait and retry


def test_a_503_reaches_alpacas_client_as_an_api_error(base_url, client):
    inject(base_url, http_status=503, count=1)
    with pytest.raises(APIError) as info:
        client.get_clock()
    assert (info.value.status_code, info.value.code) == (503, 50310000)
    assert client.get_clock().is_open


def test_faults_hit_before_authentication_like_a_gateway_in_front(base_url):
    inject(base_url, http_status=500, count=1)
    assert requests.get(f"{base_url}/v2/account", timeout=10).status_code == 500


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "a JSON object"),
        ({"http_status": 200}, "http_status must be an integer from 400 to 599"),
        ({"http_status": 429, "count": 0}, "count must be an integer"),
        ({"drop_streams": "yes"}, "drop_streams must be true or false"),
        ({"reject_next_orders": -1}, "reject_next_orders must be an integer"),
        ({"explode": True}, "unknown fault keys: explode"),
    ],
)
def test_a_bad_fault_request_is_refused(base_url, body, message):
    answer = requests.post(f"{base_url}/_sim/faults", json=body, timeout=10)
    assert answer.status_code == 422 and message in answer.json()["message"]


def test_without_the_flag_there_is_no_fault_route(exchange):
    url = f"http://127.0.0.1:{exchange.ports.alpaca}"
    answer = requests.post(f"{url}/_sim/faults", json={"http_status": 503}, timeout=10)
    assert answer.status_code == 404
    assert TradingClient("demo", "demo", url_override=url).get_clock().is_open
