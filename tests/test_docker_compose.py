"""docker-compose.yml describes production and parses."""

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent


def _compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_every_process_of_the_desk_is_a_service():
    services = _compose()["services"]
    assert {"db", "redis", "web", "exchange", "engine", "worker", "beat"} <= set(services)
    assert services["db"]["image"].startswith("timescale/timescaledb")


def test_the_engine_is_pinned_to_a_core_and_servers_have_health_checks():
    services = _compose()["services"]
    assert services["engine"]["cpuset"] == "1"
    for name in ("db", "redis", "web", "exchange", "worker"):
        assert "healthcheck" in services[name], name


def test_production_secrets_come_from_the_environment_only():
    text = (ROOT / "docker-compose.yml").read_text()
    assert "${DJANGO_SECRET_KEY:?" in text and "${POSTGRES_PASSWORD:?" in text
    assert "DJANGO_ENV: production" in text


def test_docker_compose_config_accepts_the_file():
    docker = shutil.which("docker")
    if docker is None:
        pytest.skip("no docker client on this machine")
    probe = subprocess.run([docker, "compose", "version"], capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip("this docker client has no compose plugin")
    result = subprocess.run(
        [docker, "compose", "-f", str(ROOT / "docker-compose.yml"), "config", "--quiet"],
        env={"DJANGO_SECRET_KEY": "k" * 50, "POSTGRES_PASSWORD": "p", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
