"""The project's shape: a pure domain core and the layout every later part builds on."""

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_trading_core_imports_nothing_from_django_or_the_apps():
    forbidden = ("django", "channels", "celery", "ninja", "desk", "portfolio", "dashboard",
                 "workers", "ledger", "api", "lab")  # fmt: skip
    offenders = []
    for path in sorted((ROOT / "trading").rglob("*.py")):
        for name in _imported_modules(path):
            if name.split(".")[0] in forbidden:
                offenders.append(f"{path.relative_to(ROOT)} imports {name}")
    assert offenders == []


def test_the_core_never_imports_a_peer_it_is_measured_against():
    """vectorbt, hftbacktest, backtrader, statsmodels and PyPortfolioOpt are references for
    tests and benchmarks only; the core must run without them."""
    peers = ("vectorbt", "hftbacktest", "backtrader", "statsmodels", "pypfopt", "pandas")
    offenders = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in sorted((ROOT / "trading").rglob("*.py"))
        for name in _imported_modules(path)
        if name.split(".")[0] in peers
    ]
    assert offenders == []


def test_importing_every_core_module_loads_no_django():
    modules = [
        ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        for path in sorted((ROOT / "trading").rglob("*.py"))
    ]
    script = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'django'))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_the_design_layout_exists():
    for name in ("manage.py", "desk/settings.py", "desk/urls.py", "desk/asgi.py",
                 "desk/celery.py", "portfolio", "trading", "dashboard", "workers", "templates",
                 "static", "tests", "docker-compose.yml", "pyproject.toml", "requirements.lock",
                 "README.md", ".ci/run"):  # fmt: skip
        assert (ROOT / name).exists(), name


def test_every_locked_requirement_is_pinned_with_hashes():
    lock = (ROOT / "requirements.lock").read_text()
    requirements = [
        line for line in lock.splitlines() if line and not line.startswith((" ", "#", "-"))
    ]
    assert requirements, "the lock file lists no requirement"
    for line in requirements:
        assert "==" in line and line.rstrip().endswith("\\"), line
    assert lock.count("--hash=sha256:") >= len(requirements)


def test_readme_opens_with_the_two_commands_and_ci_runs_the_test_one():
    readme = (ROOT / "README.md").read_text()
    blocks = readme.split("```")
    first_block = blocks[1].removeprefix("bash").strip().splitlines()
    commands = [line.split("#")[0].strip() for line in first_block if line.strip()]
    assert commands == ["./desk.sh up", "./desk.sh test"]
    assert "./desk.sh test" in (ROOT / ".ci" / "run").read_text()
