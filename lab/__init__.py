"""The research lab: backtests, sweeps, walk-forward, pair scans and CPCV as stored runs."""
