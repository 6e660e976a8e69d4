"""`manage.py importdata`: real shared files go into the store with a progress bar and one line
each; missing and malformed files are named in the error while the others still go in."""

from __future__ import annotations

import gzip
import io
import json

import numpy as np
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.support.research_store import AAPL_MESSAGES, DAILY_DIR
from trading import lobster
from trading.research.store import MarketDataStore


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("importdata", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_importdata_imports_real_files_with_a_progress_bar_and_a_line_each(tmp_path):
    store_dir = tmp_path / "store"
    paths = [str(AAPL_MESSAGES), str(DAILY_DIR / "KO.csv.gz"), str(DAILY_DIR / "TLT.csv.gz")]
    out, err = run(*paths, "--store", str(store_dir))
    lines = out.splitlines()
    assert lines[0].startswith("AAPL 2012-06-21 LOBSTER level 1: 118,497 events from ")
    assert lines[1].startswith("KO daily: 5,314 bars 1999-11-01..2020-12-11 (1 splits, ")
    assert lines[2].startswith("TLT daily: 4,629 bars 2002-07-26..2020-12-11 (0 splits, ")
    assert lines[3] == f"3 of 3 files imported into {store_dir}"
    assert "importdata" in err and "3/3" in err  # tqdm's bar
    store = MarketDataStore(store_dir)
    assert store.symbols("daily") == ["KO", "TLT"]
    expected = lobster.load_day(AAPL_MESSAGES)
    assert np.array_equal(store.lobster_day("AAPL", "2012-06-21").messages, expected.messages)


def test_importdata_json_and_list(tmp_path):
    store_dir = str(tmp_path / "store")
    out, _ = run(str(DAILY_DIR / "PEP.csv.gz"), "--store", store_dir, "--json")
    document = json.loads(out)
    assert (document["imported"], document["failed"]) == (1, 0)
    assert document["files"][0]["entry"]["symbol"] == "PEP"
    assert document["files"][0]["entry"]["rows"] == 5314
    listing, _ = run("--list", "--store", store_dir)
    assert "PEP" in listing and "5,314" in listing and "alphavantage-csv" in listing
    listed = json.loads(run("--list", "--json", "--store", store_dir)[0])
    assert [e["symbol"] for e in listed["entries"]] == ["PEP"]


def test_importdata_names_missing_and_malformed_files_and_still_imports_the_rest(tmp_path):
    lines = gzip.decompress((DAILY_DIR / "KO.csv.gz").read_bytes()).decode().splitlines()
    lines[20] = lines[20].replace(",", ",oops", 1)
    malformed = tmp_path / "KO.csv"
    malformed.write_text("\n".join(lines) + "\n")
    unknown = tmp_path / "notes.txt"
    unknown.write_text("hello")
    missing = tmp_path / "missing.csv.gz"
    store_dir = tmp_path / "store"
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError) as info:
        call_command(
            "importdata", str(malformed), str(missing), str(unknown),
            str(DAILY_DIR / "PEP.csv.gz"), "--store", str(store_dir), stdout=out, stderr=err,
        )  # fmt: skip
    message = str(info.value)
    assert message.startswith("3 of 4 files not imported")
    assert f"{malformed}, row 19 (line 21): open 'oops" in message
    assert f"{missing}: no such file" in message
    assert f"{unknown}: unknown kind of file" in message
    assert "FAILED" in out.getvalue() and "1 of 4 files imported" in out.getvalue()
    assert MarketDataStore(store_dir).symbols() == ["PEP"]


def test_importdata_needs_a_path_or_list(tmp_path):
    with pytest.raises(CommandError, match="at least one PATH"):
        run("--store", str(tmp_path))
    with pytest.raises(CommandError, match="--list takes no PATH"):
        run("--list", str(DAILY_DIR / "KO.csv.gz"), "--store", str(tmp_path))
    out, _ = run("--list", "--store", str(tmp_path / "empty"))
    assert out.strip().endswith("empty")
