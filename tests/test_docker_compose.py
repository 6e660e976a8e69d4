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


def _compose_command() -> list[str] | None:
    """`docker compose` where the plugin exists, else the standalone `docker-compose`."""
    docker = shutil.which("docker")
    if (
        docker
        and subprocess.run([docker, "compose", "version"], capture_output=True).returncode == 0
    ):
        return [docker, "compose"]
    standalone = shutil.which("docker-compose")
    return [standalone] if standalone else None


def _config(path: Path) -> subprocess.CompletedProcess:
    command = _compose_command()
    if command is None:
        pytest.skip("no docker compose client on this machine")
    return subprocess.run(
        [*command, "-f", str(path), "config", "--quiet"],
        env={"DJANGO_SECRET_KEY": "k" * 50, "POSTGRES_PASSWORD": "p", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_docker_compose_config_accepts_the_file():
    result = _config(ROOT / "docker-compose.yml")
    assert result.returncode == 0, result.stderr


def test_docker_compose_config_would_catch_a_broken_file(tmp_path):
    broken = tmp_path / "docker-compose.yml"
    broken.write_text((ROOT / "docker-compose.yml").read_text().replace("cpuset:", "cpu_set:"))
    result = _config(broken)
    assert result.returncode != 0 and "cpu_set" in (result.stderr + result.stdout)
