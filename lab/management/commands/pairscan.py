"""`manage.py pairscan [SYMBOL|CSV ...]`: rank cointegrated pairs of daily series."""

from __future__ import annotations

from pathlib import Path

from lab.command_base import ResearchCommand


class Command(ResearchCommand):
    help = (
        "Screen every pair of daily series by correlation and rank them by Engle-Granger "
        "cointegration (hedge ratio, ADF statistic, p-value, half-life). Give store symbols, "
        "daily CSV files in the shared data's format, or nothing for every stored series."
    )
    kind = "pairscan"

    def add_run_arguments(self, parser):
        parser.add_argument("series", nargs="*", help="store symbols or daily CSV paths")
        parser.add_argument("--start", help="first date (YYYY-MM-DD)")
        parser.add_argument("--end", help="last date (YYYY-MM-DD)")
        parser.add_argument("--min-correlation", type=float, default=0.7)
        parser.add_argument("--max-pvalue", type=float, default=0.05)
        parser.add_argument("--top", type=int, default=0, help="keep the best N (0: all)")

    def params_from(self, options):
        series = options["series"]
        paths = [s for s in series if _is_path(s)]
        symbols = [s for s in series if not _is_path(s)]
        return {
            "symbols": symbols,
            "paths": [str(Path(p).resolve()) for p in paths],
            "start": options["start"],
            "end": options["end"],
            "min_correlation": options["min_correlation"],
            "max_pvalue": options["max_pvalue"],
            "top": options["top"],
        }

    def json_output(self, run):
        # The ranked pairs themselves, best first: a, b, hedge_ratio, adf_stat, pvalue,
        # half_life_days and the rest of each pair's statistics.
        return run.figures["pairs"]

    def text_output(self, run):
        figures = run.figures
        lines = [
            f"pair scan run {run.pk}: {len(figures['symbols'])} series, {figures['days']} common "
            f"days ({figures['start']} .. {figures['end']}), {len(figures['pairs'])} of "
            f"{figures['candidates']} pairs cointegrated, in {run.elapsed_s:.2f} s",
            f"{'a':<6} {'b':<6} {'hedge':>8} {'adf':>8} {'p-value':>9} {'half-life d':>11} "
            f"{'corr':>6} {'hurst':>6}",
        ]
        for p in figures["pairs"]:
            lines.append(
                f"{p['a']:<6} {p['b']:<6} {p['hedge_ratio']:>8.4f} {p['adf_stat']:>8.3f} "
                f"{p['pvalue']:>9.5f} {_num(p['half_life_days']):>11} {_num(p['correlation']):>6} "
                f"{_num(p['hurst']):>6}"
            )
        return "\n".join(lines)


def _is_path(text: str) -> bool:
    return text.endswith((".csv", ".csv.gz")) or "/" in text or Path(text).is_file()


def _num(value) -> str:
    return "—" if value is None else f"{value:.2f}"
