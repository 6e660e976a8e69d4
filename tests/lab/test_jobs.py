"""Research runs end to end on the shared data: each kind's figures checked against an
independent computation (vectorbt, a brute-force loop), its report, and its failure modes."""

import hashlib

import numpy as np
import pytest
import vectorbt as vbt

from lab.jobs import sweep as sweep_job
from lab.models import ResearchRun, RunStatus
from lab.runner import ParamsError, create_run, execute
from trading.research.bars.strategies import backtest_ma_crossover, ma_crossover_signals

pytestmark = pytest.mark.django_db


def run_done(kind, **params):
    run = execute(create_run(kind, params).pk)
    assert run.status == RunStatus.DONE, run.error
    return run


def vectorbt_total_return(close, fast, slow, fee):
    entries, exits = ma_crossover_signals(close, fast, slow)
    portfolio = vbt.Portfolio.from_signals(
        close, entries, exits, fees=fee, init_cash=100.0, freq="1D"
    )
    return float(portfolio.total_return())


def test_a_crossover_backtest_returns_what_vectorbt_returns_and_reports_it(lab_store):
    run = run_done("backtest", symbols=["SPY"], fast=20, slow=100, fee=0.001, init_cash=100.0)
    close = np.asarray(lab_store.daily_bars("SPY").close, dtype=np.float64)
    expected = vectorbt_total_return(close, 20, 100, 0.001)
    assert run.figures["summary"]["total_return"] == pytest.approx(expected, rel=1e-9, abs=1e-12)
    assert run.figures["summary"]["trades_count"] > 5
    assert "<script" not in run.report.lower() and "<svg" in run.report


def test_a_pairs_backtest_trades_both_legs(lab_store):
    run = run_done("backtest", strategy="pairs", symbols=["KO", "PEP"], borrow_rate=0.02)
    assert run.figures["summary"]["trades_count"] >= 2
    assert run.figures["summary"]["trades_short_count"] >= 1


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"strategy": "pairs", "symbols": ["KO"]}, "pairs trades 2 symbol(s)"),
        ({"fast": 50, "slow": 20}, "fast: must be shorter than slow"),
        ({"trailing_stop": True}, "needs a stop_loss"),
        ({"fill": "vwap"}, "fill: expected one of close, next_open"),
    ],
)
def test_bad_backtest_parameters_are_refused_before_anything_runs(params, message):
    with pytest.raises(ParamsError, match=message.replace("(", r"\(").replace(")", r"\)")):
        create_run("backtest", params)
    assert not ResearchRun.objects.exists()


def test_a_symbol_missing_from_the_store_fails_the_run_with_the_reason(lab_store):
    run = execute(create_run("backtest", {"symbols": ["ZZZZ"]}).pk)
    assert run.status == RunStatus.FAILED and "ZZZZ" in run.error


SWEEP = {"symbols": ["KO", "XOM"], "fast": [2, 11], "slow": [20, 29], "fan_out": False}


def test_a_sweep_finds_each_tickers_best_crossover_with_vectorbts_return(lab_store):
    run = run_done("sweep", **SWEEP, chunks=3)
    assert run.figures["backtests"] == 2 * 10 * 10
    dates, closes = lab_store.aligned_closes(["KO", "XOM"])
    for column, best in enumerate(run.figures["best_per_symbol"]):
        expected = vectorbt_total_return(closes[:, column], best["fast"], best["slow"], 0.001)
        assert best["total_return"] == pytest.approx(expected, rel=1e-9)
        for fast in (2, 7):  # the best really is the best: no other set returns more
            other = vectorbt_total_return(closes[:, column], fast, 25, 0.001)
            assert other <= best["total_return"] + 1e-12
    assert "<svg" in run.report


def test_a_sweep_gives_the_same_bits_however_it_is_chunked(lab_store):
    one = run_done("sweep", **SWEEP, chunks=1).figures
    many = run_done("sweep", **SWEEP, chunks=7).figures
    assert one["returns_sha256"] == many["returns_sha256"]
    assert one["mean_total_return"] == many["mean_total_return"]


def test_a_fanned_out_sweep_equals_the_single_process_one(lab_store, eager_celery):
    from lab.tasks import launch

    single = run_done("sweep", **SWEEP).figures
    queued = launch(create_run("sweep", {**SWEEP, "fan_out": True, "chunks": 4}))
    queued.refresh_from_db()
    assert queued.status == RunStatus.DONE, queued.error
    assert queued.figures["returns_sha256"] == single["returns_sha256"]
    assert queued.figures["best_per_symbol"] == single["best_per_symbol"]


def test_a_run_cancelled_while_running_stops_at_the_next_progress_report(lab_store):
    run = create_run("sweep", {**SWEEP, "chunks": 5})

    def cancel_on_first_report(fraction, note):
        ResearchRun.objects.filter(pk=run.pk).update(cancel_requested=True)

    finished = execute(run.pk, echo=cancel_on_first_report)
    assert finished.status == RunStatus.CANCELLED and finished.figures == {}


def test_walk_forward_picks_each_windows_in_sample_best(lab_store):
    params = {"symbol": "SPY", "fast": [5, 25], "slow": [60, 120], "step": 20,
              "train_days": 1000, "test_days": 500}  # fmt: skip
    run = run_done("walkforward", **params)
    close = np.asarray(lab_store.daily_bars("SPY").close, dtype=np.float64)
    grid = [(f, s) for f in (5, 25) for s in (60, 80, 100, 120)]
    returns = {p: backtest_ma_crossover(close, *p, fees=0.001).returns() for p in grid}
    windows = run.figures["windows"]
    assert len(windows) == int(np.ceil((len(close) - 1000) / 500))
    for window in windows:
        lo, hi = window["train_start"], window["train_stop"]
        assert hi == window["test_start"] and hi - lo == 1000
        sharpe = {p: r[lo:hi].mean() / r[lo:hi].std(ddof=1) for p, r in returns.items()}
        assert tuple(window["best_params"]) == max(grid, key=lambda p: sharpe[p])
    assert run.figures["summary"]["start"] > "2003-01-01"  # after the first training window


def test_cpcv_gives_a_distribution_of_paths_pbo_and_a_deflated_sharpe(lab_store):
    run = run_done("cpcv", symbol="KO", fast=[5, 25], slow=[60, 100], step=20, n_groups=6,
                   n_test_groups=2)  # fmt: skip
    figures = run.figures
    assert figures["splits"] == 15 and figures["paths"] == 5
    assert len(figures["path_sharpe"]) == 5 and len(figures["chosen_per_split"]) == 15
    assert 0.0 <= figures["pbo"] <= 1.0
    assert 0.0 <= figures["deflated_sharpe"]["dsr"] <= 1.0
    assert figures["deflated_sharpe"]["n_trials"] == 6
    assert "<svg" in run.report and "<script" not in run.report


def test_the_sweep_digest_is_a_digest_of_the_returns(lab_store):
    from trading.research.bars.sweep import sweep_ma_crossover

    run = run_done("sweep", **SWEEP)
    _dates, closes = lab_store.aligned_closes(["KO", "XOM"])
    direct = sweep_ma_crossover(closes, np.arange(2, 12), np.arange(20, 30), fee=0.001)
    digest = hashlib.sha256(np.ascontiguousarray(direct.total_return).tobytes()).hexdigest()
    assert run.figures["returns_sha256"] == digest
    assert sweep_job.grid(run.params)[0].tolist() == list(range(2, 12))


def test_a_tick_backtest_reports_fills_latency_and_queue_positions(lab_store):
    run = run_done("tick_backtest", symbol="AMZN", rows=30_000, entry_latency_ns=100_000,
                   response_latency_ns=50_000)  # fmt: skip
    tick = run.figures["tick"]
    assert tick["events"] == 30_000 and tick["orders_sent"] > 0 and tick["fills"] > 0
    assert tick["total_pnl"] == pytest.approx(tick["realised_pnl"] + tick["unrealised_pnl"])
    latency = run.figures["latency"]
    assert latency["count"] == tick["orders_sent"]
    assert latency["percentiles"]["p50"] == pytest.approx(150.0)  # entry + response, in us
    assert run.figures["queue_position"]["count"] > 0
    assert run.figures["summary"]["trades_count"] > 0
    assert run.figures["summary"]["start"].startswith("2012-06-21T13:30")  # 09:30 in New York
    assert "<svg" in run.report


def test_a_tick_backtest_of_a_day_not_in_the_store_names_what_is(lab_store):
    run = execute(create_run("tick_backtest", {"symbol": "MSFT"}).pk)
    assert run.status == RunStatus.FAILED
    assert "no LOBSTER day of MSFT" in run.error and "AMZN" in run.error


def test_a_fanned_out_sweep_over_an_empty_store_fails_with_the_reason(
    tmp_path, monkeypatch, eager_celery
):
    from lab.tasks import launch

    monkeypatch.setenv("DESK_MARKET_DATA", str(tmp_path))
    run = launch(create_run("sweep", {"fan_out": True}))
    assert run.status == RunStatus.FAILED and "holds no daily bars" in run.error
