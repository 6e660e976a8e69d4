"""Tests of the backtest reports."""
