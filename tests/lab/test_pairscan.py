"""`manage.py pairscan`: ranked cointegrated pairs from the store or from daily CSV files,
checked against statsmodels' Engle-Granger test."""

import json

import numpy as np
import pytest
from django.core.management import CommandError, call_command
from statsmodels.tsa.stattools import coint

from lab.models import ResearchRun, RunStatus
from tests.lab.conftest import daily_csv

pytestmark = pytest.mark.django_db

KEYS = {"a", "b", "hedge_ratio", "adf_stat", "pvalue", "half_life_days"}


def run_json(capsys, *args):
    call_command("pairscan", *args, "--json")
    return json.loads(capsys.readouterr().out)


def test_csv_paths_give_ranked_pairs_with_the_statistics_statsmodels_gives(capsys, research_store):
    files = [daily_csv(s) for s in ("KO", "PEP", "XOM", "CVX")]
    pairs = run_json(capsys, *files, "--min-correlation", "0", "--max-pvalue", "1")
    assert len(pairs) == 6  # every pair of four, nothing screened out
    assert all(set(p) >= KEYS for p in pairs)
    assert [p["pvalue"] for p in pairs] == sorted(p["pvalue"] for p in pairs)
    dates, closes = research_store.aligned_closes(["KO", "PEP", "XOM", "CVX"])
    column = {s: i for i, s in enumerate(["KO", "PEP", "XOM", "CVX"])}
    for pair in pairs:
        y, x = np.log(closes[:, column[pair["a"]]]), np.log(closes[:, column[pair["b"]]])
        stat, pvalue, _ = coint(y, x, trend="c", autolag="aic")
        assert pair["adf_stat"] == pytest.approx(stat, rel=1e-8)
        assert pair["pvalue"] == pytest.approx(pvalue, rel=1e-6, abs=1e-12)
        slope = np.polyfit(x, y, 1)[0]
        assert pair["hedge_ratio"] == pytest.approx(slope, rel=1e-9)


def test_store_symbols_and_the_run_is_recorded(capsys, lab_store):
    pairs = run_json(capsys, "KO", "PEP", "--min-correlation", "0", "--max-pvalue", "1")
    assert {(p["a"], p["b"]) for p in pairs} in ({("KO", "PEP")}, {("PEP", "KO")})
    run = ResearchRun.objects.get()
    assert run.kind == "pairscan" and run.status == RunStatus.DONE
    assert run.figures["pairs"] == pairs


def test_text_output_lists_the_pairs(capsys, lab_store):
    call_command("pairscan", "KO", "PEP", "XOM", "--max-pvalue", "1", "--min-correlation", "0")
    out = capsys.readouterr().out
    assert "3 of 3 pairs cointegrated" in out and "hedge" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["/nonexistent/KO.csv.gz", daily_csv("PEP")], "no such file /nonexistent/KO.csv.gz"),
        (["NOPE", "KO"], "NOPE"),
        (["KO"], "at least 2"),
        (["KO", "PEP", "--max-pvalue", "2"], "max_pvalue: must be <= 1.0"),
        (["KO", "PEP", "--start", "2020-13-01"], "start: expected a date"),
    ],
)
def test_bad_input_is_refused_with_the_reason(lab_store, args, message):
    with pytest.raises(CommandError, match=message.replace(".", r"\.")):
        call_command("pairscan", *args, "--no-progress")


def test_a_malformed_csv_names_the_file(tmp_path, lab_store):
    bad = tmp_path / "BAD.csv"
    bad.write_text("timestamp,open,high,low,close,adjusted_close,volume,dividend_amount,"
                   "split_coefficient\n2020-01-02,1,2,0.5,x,1,100,0,1\n")  # fmt: skip
    with pytest.raises(CommandError, match="BAD.csv"):
        call_command("pairscan", str(bad), daily_csv("KO"), "--no-progress")
