"""Where the shared market data lives, for tests."""

from trading.shared_data import shared_data_dir

LOBSTER_DIR = shared_data_dir() / "lobster"
