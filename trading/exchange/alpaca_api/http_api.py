"""Alpaca's trading REST API (`/v2/...`) on the simulator, as aiohttp routes.

Authentication is Alpaca's: the `APCA-API-KEY-ID` and `APCA-API-SECRET-KEY` headers, here a
simulator account's username and password. Errors are Alpaca's `{"code", "message"}` objects
with the HTTP status Alpaca uses; every authenticated answer carries Alpaca's rate-limit
headers, and a client over the limit gets 429 with `Retry-After`.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from aiohttp import web

from trading.exchange.alpaca_api.faults import parse_fault_request
from trading.exchange.alpaca_api.orders import (
    CLOSED,
    AlpacaOrder,
    asset_id,
    parse_order_request,
    parse_replace_request,
)
from trading.exchange.alpaca_api.wire import (
    CODE_INTERNAL,
    CODE_RATE_LIMIT,
    CODE_UNAUTHORIZED,
    CODE_UNAVAILABLE,
    ApiError,
    decimal_of,
    invalid,
    not_found,
    parse_time,
    shares_of,
)

if TYPE_CHECKING:
    from trading.exchange.alpaca_api.endpoint import AlpacaEndpoint

NEW_YORK = ZoneInfo("America/New_York")
ORDERS_DEFAULT_LIMIT = 50
ORDERS_MAX_LIMIT = 500
_REASONS = {
    400: "invalid request", 401: "request is not authorized", 403: "forbidden",
    404: "not found", 422: "unprocessable entity", 429: "rate limit exceeded",
    500: "internal server error", 502: "bad gateway", 503: "service unavailable",
    504: "gateway timeout",
}  # fmt: skip


def build_app(endpoint: AlpacaEndpoint) -> web.Application:
    """The aiohttp application: REST routes, the two WebSocket streams and the fault route."""
    from trading.exchange.alpaca_api import streams

    api = RestApi(endpoint)

    async def trade_updates(request: web.Request) -> web.StreamResponse:
        return await streams.trade_updates(endpoint, request)

    async def market_data(request: web.Request) -> web.StreamResponse:
        return await streams.market_data(endpoint, request)

    app = web.Application(middlewares=[api.middleware], client_max_size=1 << 20)
    routes = [
        web.get("/v2/account", api.account),
        web.get("/v2/clock", api.clock),
        web.post("/v2/orders", api.submit_order),
        web.get("/v2/orders", api.list_orders),
        web.delete("/v2/orders", api.cancel_orders),
        web.get("/v2/orders:by_client_order_id", api.order_by_client_id),
        web.get("/v2/orders/{order_id}", api.get_order),
        web.patch("/v2/orders/{order_id}", api.replace_order),
        web.delete("/v2/orders/{order_id}", api.cancel_order),
        web.get("/v2/positions", api.positions),
        web.delete("/v2/positions", api.close_positions),
        web.get("/v2/positions/{symbol}", api.position),
        web.delete("/v2/positions/{symbol}", api.close_position),
        web.get("/v2/assets", api.assets),
        web.get("/v2/assets/{symbol}", api.asset),
        web.get("/stream", trade_updates),
        web.get("/v2/iex", market_data),
        web.get("/v2/sip", market_data),
    ]
    if endpoint.faults_enabled:
        routes.append(web.post("/_sim/faults", api.set_faults))
    app.add_routes(routes)
    return app


def error_response(error: ApiError, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response(error.body(), status=error.status, headers=headers)


class RestApi:
    """The handlers; state lives in the endpoint's broker, on the exchange's loop."""

    def __init__(self, endpoint: AlpacaEndpoint) -> None:
        self.endpoint = endpoint
        self.broker = endpoint.broker

    @web.middleware
    async def middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        path = request.path
        if not path.startswith("/v2/") or path in ("/v2/iex", "/v2/sip"):
            try:
                return await handler(request)
            except ApiError as exc:
                return error_response(exc)
        endpoint = self.endpoint
        fault = endpoint.faults.take()
        if fault is not None:
            return _fault_response(*fault)
        username = endpoint.authenticate(
            request.headers.get("APCA-API-KEY-ID"), request.headers.get("APCA-API-SECRET-KEY")
        )
        if username is None:
            return error_response(ApiError(401, CODE_UNAUTHORIZED, "request is not authorized"))
        limit_headers, retry_after = endpoint.rate_limit.take(username)
        if retry_after is not None:
            headers = {**limit_headers, "Retry-After": str(retry_after)}
            return error_response(ApiError(429, CODE_RATE_LIMIT, "rate limit exceeded"), headers)
        request["account"] = username
        try:
            response = await handler(request)
        except ApiError as exc:
            response = error_response(exc)
        except web.HTTPException:
            raise
        except Exception:
            endpoint.logger.exception("Alpaca API %s %s failed", request.method, path)
            response = error_response(ApiError(500, CODE_INTERNAL, "internal server error"))
        response.headers.update(limit_headers)
        return response

    # -- account and clock --------------------------------------------------------------------

    async def account(self, request: web.Request) -> web.Response:
        return web.json_response(self.broker.account_json(request["account"]))

    async def clock(self, request: web.Request) -> web.Response:
        return web.json_response(clock_json(dt.datetime.now(NEW_YORK)))

    # -- orders -------------------------------------------------------------------------------

    async def submit_order(self, request: web.Request) -> web.Response:
        spec = parse_order_request(
            await _json_body(request), self.broker.tick, self.broker.venue.symbols
        )
        order = self.broker.submit(request["account"], spec)
        return web.json_response(order.to_json())

    async def list_orders(self, request: web.Request) -> web.Response:
        query = request.query
        status = query.get("status", "open")
        if status not in ("open", "closed", "all"):
            raise invalid(f"invalid status {status!r}: one of open, closed, all")
        limit = _int_param(query, "limit", ORDERS_DEFAULT_LIMIT, 1, ORDERS_MAX_LIMIT)
        direction = query.get("direction", "desc")
        if direction not in ("asc", "desc"):
            raise invalid(f"invalid direction {direction!r}: asc or desc")
        after = parse_time(query["after"], "after") if "after" in query else None
        until = parse_time(query["until"], "until") if "until" in query else None
        side = query.get("side")
        if side is not None and side not in ("buy", "sell"):
            raise invalid(f"invalid side {side!r}: buy or sell")
        symbols = None
        if query.get("symbols"):
            symbols = {s.strip().upper() for s in query["symbols"].split(",") if s.strip()}
        selected = []
        for order in self.broker.account_orders.get(request["account"], ()):
            closed = order.status in CLOSED
            if (status == "open" and closed) or (status == "closed" and not closed):
                continue
            if after is not None and order.created_ns <= after:
                continue
            if until is not None and order.created_ns >= until:
                continue
            if side is not None and order.side != side:
                continue
            if symbols is not None and order.symbol not in symbols:
                continue
            selected.append(order)
        selected.sort(key=lambda o: o.created_ns, reverse=direction == "desc")
        return web.json_response([o.to_json() for o in selected[:limit]])

    async def get_order(self, request: web.Request) -> web.Response:
        order = self.broker.order(request["account"], request.match_info["order_id"])
        return web.json_response(order.to_json())

    async def order_by_client_id(self, request: web.Request) -> web.Response:
        client_order_id = request.query.get("client_order_id")
        if not client_order_id:
            raise invalid("client_order_id is required")
        order = self.broker.by_client_order_id(request["account"], client_order_id)
        return web.json_response(order.to_json())

    async def replace_order(self, request: web.Request) -> web.Response:
        username = request["account"]
        old = self.broker.order(username, request.match_info["order_id"])
        changes = parse_replace_request(await _json_body(request), old, self.broker.tick)
        new = self.broker.replace(username, old.id, changes)
        return web.json_response(new.to_json())

    async def cancel_order(self, request: web.Request) -> web.Response:
        self.broker.cancel(request["account"], request.match_info["order_id"])
        return web.Response(status=204)

    async def cancel_orders(self, request: web.Request) -> web.Response:
        return web.json_response(self.broker.cancel_all(request["account"]), status=207)

    # -- positions ------------------------------------------------------------------------------

    async def positions(self, request: web.Request) -> web.Response:
        return web.json_response(self.broker.positions_json(request["account"]))

    async def position(self, request: web.Request) -> web.Response:
        symbol = request.match_info["symbol"]
        return web.json_response(self.broker.position_json(request["account"], symbol))

    async def close_position(self, request: web.Request) -> web.Response:
        query = request.query
        qty = percentage = None
        if "qty" in query and "percentage" in query:
            raise invalid("give qty or percentage, not both")
        if "qty" in query:
            qty = shares_of(query["qty"])
        if "percentage" in query:
            percentage = decimal_of(query["percentage"], "percentage")
            if not 0 < percentage <= 100:
                raise invalid("percentage must be more than 0 and at most 100")
        symbol = request.match_info["symbol"].upper()
        if symbol not in self.broker.venue.symbols:
            raise not_found("position does not exist")
        order = self.broker.close_position(request["account"], symbol, qty, percentage)
        return web.json_response(order.to_json())

    async def close_positions(self, request: web.Request) -> web.Response:
        username = request["account"]
        if request.query.get("cancel_orders", "false").lower() == "true":
            self.broker.cancel_all(username)
        answers = []
        for symbol in sorted(self.broker.book(username).positions):
            try:
                order = self.broker.close_position(username, symbol, None, None)
            except ApiError as exc:
                answers.append({"symbol": symbol, "status": exc.status, "body": exc.body()})
            else:
                answers.append({"symbol": symbol, "status": 200, "order_id": order.id,
                                "body": order.to_json()})  # fmt: skip
        return web.json_response(answers, status=207)

    # -- assets ---------------------------------------------------------------------------------

    async def assets(self, request: web.Request) -> web.Response:
        return web.json_response([asset_json(s) for s in self.broker.venue.symbols])

    async def asset(self, request: web.Request) -> web.Response:
        symbol = request.match_info["symbol"].upper()
        if symbol not in self.broker.venue.symbols:
            raise not_found(f"asset not found for {symbol}")
        return web.json_response(asset_json(symbol))

    # -- fault injection ------------------------------------------------------------------------

    async def set_faults(self, request: web.Request) -> web.Response:
        wanted = parse_fault_request(await _json_body(request))
        endpoint = self.endpoint
        if wanted.http_status is not None:
            endpoint.faults.http_status = wanted.http_status
            endpoint.faults.remaining = wanted.count
            endpoint.faults.retry_after_s = wanted.retry_after_s
        if wanted.reject_next_orders:
            self.broker.reject_next = wanted.reject_next_orders
        dropped = endpoint.drop_streams() if wanted.drop_streams else 0
        endpoint.logger.warning("Alpaca API fault injected: %s", wanted)
        return web.json_response(
            {**endpoint.faults.state(), "reject_next_orders": self.broker.reject_next,
             "dropped_streams": dropped}
        )  # fmt: skip


def asset_json(symbol: str) -> dict[str, Any]:
    """GET /v2/assets/{symbol}: the fields of Alpaca's asset object."""
    return {
        "id": asset_id(symbol),
        "class": "us_equity",
        "exchange": "NASDAQ",
        "symbol": symbol,
        "name": f"{symbol} (simulated)",
        "status": "active",
        "tradable": True,
        "marginable": True,
        "shortable": True,
        "easy_to_borrow": True,
        "fractionable": False,
        "maintenance_margin_requirement": 30,
        "attributes": [],
    }


def clock_json(now: dt.datetime) -> dict[str, Any]:
    """GET /v2/clock. The simulator trades whenever it runs, so the market is open; the next
    open and close are those of a regular NYSE day (09:30 and 16:00 New York time, weekdays)."""
    return {
        "timestamp": now.isoformat(),
        "is_open": True,
        "next_open": _next_weekday_time(now, dt.time(9, 30)).isoformat(),
        "next_close": _next_weekday_time(now, dt.time(16, 0)).isoformat(),
    }


def _next_weekday_time(now: dt.datetime, at: dt.time) -> dt.datetime:
    day = now.date()
    while True:
        moment = dt.datetime.combine(day, at, now.tzinfo)
        if moment > now and day.weekday() < 5:
            return moment
        day += dt.timedelta(days=1)


def _fault_response(status: int, retry_after_s: float) -> web.Response:
    headers: dict[str, str] = {}
    code = status * 100_000
    if status == 429:
        code = CODE_RATE_LIMIT
        reset = int(time.time() + retry_after_s + 0.999)
        headers = {
            "X-Ratelimit-Limit": "200", "X-Ratelimit-Remaining": "0",
            "X-Ratelimit-Reset": str(reset), "Retry-After": f"{retry_after_s:g}",
        }  # fmt: skip
    elif status == 503:
        code = CODE_UNAVAILABLE
    message = _REASONS.get(status, "error")
    return error_response(ApiError(status, code, message), headers)


async def _json_body(request: web.Request) -> Any:
    try:
        return await request.json(loads=json.loads)
    except ValueError:
        raise invalid("request body is not valid JSON") from None


def _int_param(query: Any, name: str, default: int, low: int, high: int) -> int:
    if name not in query:
        return default
    try:
        value = int(query[name])
    except ValueError:
        raise invalid(f"invalid {name}: {query[name]!r}") from None
    if not low <= value <= high:
        raise invalid(f"{name} must be from {low} to {high}")
    return value


__all__ = ["AlpacaOrder", "build_app"]
