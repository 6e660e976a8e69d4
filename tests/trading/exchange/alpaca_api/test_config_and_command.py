"""The `exchange.alpaca_port` and `exchange.alpaca_faults` keys, and `runexchange`'s flags."""

import re
import signal

import pytest
import requests

from tests.support.configs import make_config
from trading.config import ConfigError
from workers.managed_process import ManagedProcess

HEADERS = {"APCA-API-KEY-ID": "demo", "APCA-API-SECRET-KEY": "demo"}
EPHEMERAL = ["--order-port", "0", "--feed-port", "0", "--snapshot-port", "0",
             "--metrics-port", "0"]  # fmt: skip
ALPACA = r"alpaca\(REST\+WebSocket\)=(\d+)"


def test_the_shipped_config_serves_the_alpaca_api_on_15105_without_faults():
    exchange = make_config().exchange
    assert (exchange.alpaca_port, exchange.alpaca_faults) == (15105, False)


@pytest.mark.parametrize(
    ("keys", "reason"),
    [
        ({"alpaca_port": 70000}, "exchange.alpaca_port: must be <= 65535"),
        ({"alpaca_port": 15100}, "order, feed, snapshot, metrics and alpaca ports must differ"),
        ({"alpaca_faults": "yes"}, "exchange.alpaca_faults: must be true or false"),
        ({"alpaca_rate_limit_per_min": -1}, "exchange.alpaca_rate_limit_per_min: must be >= 0"),
    ],
)
def test_bad_alpaca_keys_are_refused_with_the_key_and_reason(keys, reason):
    with pytest.raises(ConfigError, match=re.escape(reason)):
        make_config(**keys)


def test_port_zero_means_no_alpaca_api(exchange_factory):
    exchange = exchange_factory(alpaca_port=0)
    assert exchange.ports.alpaca == 0 and exchange.server.alpaca is None


@pytest.mark.tcp
def test_runexchange_serves_the_alpaca_api_and_lists_its_port():
    process = ManagedProcess("runexchange", *EPHEMERAL, "--alpaca-port", "0", "--alpaca-faults")
    try:
        port = int(process.wait_for(ALPACA).group(1))
        process.wait_for(r"exchange ready")
        url = f"http://127.0.0.1:{port}"
        assert requests.get(f"{url}/v2/clock", headers=HEADERS, timeout=10).json()["is_open"]
        fault = requests.post(f"{url}/_sim/faults", json={"http_status": 503}, timeout=10)
        assert fault.status_code == 200
        assert requests.get(f"{url}/v2/clock", headers=HEADERS, timeout=10).status_code == 503
        wrong = {"APCA-API-KEY-ID": "demo", "APCA-API-SECRET-KEY": "s3cr3t-never-logged"}
        assert requests.get(f"{url}/v2/account", headers=wrong, timeout=10).status_code == 401
        assert process.stop(signal.SIGINT) == 0
        process.wait_for(r"exchange stopped")
    finally:
        process.kill()
    assert not any("s3cr3t-never-logged" in line for line in process.lines)


@pytest.mark.tcp
def test_runexchange_can_leave_the_alpaca_api_off():
    process = ManagedProcess("runexchange", *EPHEMERAL, "--alpaca-port", "-1")
    try:
        line = process.wait_for(r"alpaca\(REST\+WebSocket\)=(\S+)")
        assert line.group(1) == "off"
        assert process.stop(signal.SIGINT) == 0
    finally:
        process.kill()


@pytest.mark.tcp
def test_a_rate_limit_of_zero_lets_every_request_through_without_limit_headers(
    exchange_factory,
):
    exchange = exchange_factory(alpaca_rate_limit_per_min=0)
    url = f"http://127.0.0.1:{exchange.ports.alpaca}/v2/clock"
    with requests.Session() as session:
        answers = [session.get(url, headers=HEADERS, timeout=10) for _ in range(3)]
    assert [a.status_code for a in answers] == [200] * 3
    assert "X-Ratelimit-Limit" not in answers[-1].headers
