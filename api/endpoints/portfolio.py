"""Positions, P&L and the equity curve."""

from django.http import HttpRequest
from ninja import Query, Router

from api import selectors
from api.schemas import EquityOut, EquityParams, PnlOut, PositionsOut

router = Router(tags=["portfolio"])


@router.get("/positions", response=PositionsOut)
def positions(request: HttpRequest):
    """Positions from the live engine, else from the ledger's last snapshot (`source`)."""
    return selectors.positions(selectors.desk_account())


@router.get("/pnl", response=PnlOut)
def pnl(request: HttpRequest):
    """Realised, unrealised and daily P&L and equity, in dollars."""
    return selectors.pnl(selectors.desk_account())


@router.get("/equity", response=EquityOut)
def equity(request: HttpRequest, params: Query[EquityParams]):
    """The equity curve, oldest first, downsampled to at most `points` points."""
    return selectors.equity_series(selectors.desk_account(), params)
