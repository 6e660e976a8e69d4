"""Validating a strategy without fooling oneself.

`walk_forward` re-optimises on rolling in-sample windows and applies the winners out of sample;
`purged_cv` splits labelled observations into purged, embargoed folds and combinatorial
backtest paths; `overfitting` measures how much a selection was luck (PBO, deflated Sharpe).
"""

from trading.research.validation.overfitting import (
    DeflatedSharpe,
    PBOResult,
    deflated_sharpe_from_stats,
    deflated_sharpe_ratio,
    expected_maximum_sharpe,
    probabilistic_sharpe_ratio,
    probability_of_backtest_overfitting,
    psr_from_stats,
    sharpe_ratio,
)
from trading.research.validation.purged_cv import (
    CombinatorialPurgedCV,
    CVSplit,
    combinatorial_purged_cv,
    cpcv_backtest_paths,
    cpcv_path_count,
    cpcv_paths,
    purged_kfold,
)
from trading.research.validation.walk_forward import (
    WalkForwardResult,
    WalkForwardWindow,
    walk_forward,
    walk_forward_matrix,
    walk_forward_windows,
)

__all__ = [
    "CVSplit",
    "CombinatorialPurgedCV",
    "DeflatedSharpe",
    "PBOResult",
    "WalkForwardResult",
    "WalkForwardWindow",
    "combinatorial_purged_cv",
    "cpcv_backtest_paths",
    "cpcv_path_count",
    "cpcv_paths",
    "deflated_sharpe_from_stats",
    "deflated_sharpe_ratio",
    "expected_maximum_sharpe",
    "probabilistic_sharpe_ratio",
    "probability_of_backtest_overfitting",
    "psr_from_stats",
    "purged_kfold",
    "sharpe_ratio",
    "walk_forward",
    "walk_forward_matrix",
    "walk_forward_windows",
]
