"""The start-up summary every process prints: what it runs with, in a few lines."""

from trading.config import SystemConfig


def summary_lines(config: SystemConfig) -> list[str]:
    """Config file, profile, symbols, ports, accounts and risk limits, as log lines."""
    ex = config.exchange
    risk = config.risk
    flow = ex.flow
    return [
        f"config {config.source or '(built-in)'} profile={config.profile}",
        f"symbols {' '.join(config.symbols)}",
        (
            f"exchange {ex.host} order(OUCH)={ex.order_port} feed(ITCH)={ex.feed_port} "
            f"snapshot={ex.snapshot_port} metrics={ex.metrics_port} seed={ex.seed}"
        ),
        (
            f"accounts {', '.join(a.username for a in ex.accounts) or '(none)'}; "
            f"self-trade={ex.self_trade} collar={ex.collar_pct:g}% "
            f"max order={ex.max_order_shares} shares"
        ),
        (
            f"flow {'on' if flow.enabled else 'off'}: passive {flow.passive_per_s:g}/s, "
            f"aggressive {flow.aggressive_per_s:g}/s, cancels {flow.cancel_per_s:g}/s per symbol"
        ),
        (
            f"engine account={config.engine.account} venue={config.engine.venue} "
            f"data={config.engine.data} core={config.engine.cpu_core} "
            f"metrics={config.engine.metrics_port} "
            f"strategies={','.join(config.engine.strategies)}"
        ),
        (
            f"limits position={risk.max_position_shares}/{risk.max_total_position_shares} "
            f"order={risk.max_order_shares} shares/${risk.max_order_notional:,.0f} "
            f"gross=${risk.max_gross_exposure:,.0f} rate={risk.max_orders_per_s:g}/s "
            f"daily loss=${risk.daily_loss_limit:,.0f} collar={risk.price_collar_pct:g}%"
        ),
    ]
