// Applies one live message from the server to whatever the current page shows.

import { format, formatMicros, formatMoney, signClass, stateClass, usageClass } from "./format.js";

const TONE_CLASSES = ["pos", "neg", "zero", "ok", "warn", "bad"];

function lookup(message, path) {
  let value = message;
  for (const part of path.split(".")) {
    if (value === null || value === undefined) return undefined;
    value = value[part];
  }
  return value;
}

function tone(element, cls) {
  element.classList.remove(...TONE_CLASSES);
  if (cls) element.classList.add(cls);
}

function cell(text, cls) {
  const td = document.createElement("td");
  td.textContent = text;
  if (cls) td.className = cls;
  return td;
}

function row(cells, header) {
  const tr = document.createElement("tr");
  cells.forEach((c, i) => {
    if (i === 0 && header) {
      const th = document.createElement("th");
      th.textContent = c.textContent;
      tr.append(th);
    } else {
      tr.append(c);
    }
  });
  return tr;
}

function emptyRow(columns, text) {
  const td = cell(text, "empty");
  td.colSpan = columns;
  return row([td]);
}

function replaceRows(id, rows) {
  const body = document.getElementById(id);
  if (body) body.replaceChildren(...rows);
}

function fields(message) {
  for (const element of document.querySelectorAll("[data-field]")) {
    const value = lookup(message, element.dataset.field);
    const kind = element.dataset.format;
    if (value === undefined && message.engine !== "absent") continue;
    element.textContent = value === undefined ? "—" : format(value, kind);
    if ("sign" in element.dataset) tone(element, signClass(value));
    else if ("stateClass" in element.dataset) tone(element, stateClass(value));
    else if ("badIfPositive" in element.dataset) tone(element, value > 0 ? "bad" : "");
    else if (kind === "connected") tone(element, value ? "ok" : "bad");
  }
}

function header(message) {
  const badge = document.getElementById("trading-state");
  if (badge) tone(badge, stateClass(message.trading_state));
  const absent = message.engine === "absent";
  const stale = document.getElementById("stale-marker");
  if (stale) stale.hidden = absent || !message.stale;
  const down = document.getElementById("engine-down");
  if (down) down.hidden = !absent;
  const process = document.getElementById("engine-process");
  if (process) {
    process.textContent = absent ? "absent" : message.stale ? "silent" : "publishing";
    tone(process, absent || message.stale ? "bad" : "ok");
  }
  const memory = document.getElementById("engine-memory");
  const usage = (message.state || {}).process;
  if (memory && usage) memory.textContent = `${(usage.rss_bytes / 1048576).toFixed(1)} MB`;
}

function positions(message) {
  const rows = message.positions.map((p) =>
    row([
      cell(p.symbol),
      cell(String(p.qty)),
      cell(formatMoney(p.avg_price)),
      cell(formatMoney(p.mark)),
      cell(formatMoney(p.unrealised), signClass(p.unrealised)),
      cell(formatMoney(p.realised), signClass(p.realised)),
      cell(formatMoney(p.total), signClass(p.total)),
    ]),
  );
  const open = message.positions.some((p) => p.qty !== 0);
  if (!rows.length || !open) rows.unshift(emptyRow(7, "flat"));
  replaceRows("positions-body", rows);
  const total = message.total;
  replaceRows(
    "positions-total",
    total
      ? [
          row(
            [
              cell("TOTAL"),
              cell(String(total.qty)),
              cell(""),
              cell(""),
              cell(formatMoney(total.unrealised), signClass(total.unrealised)),
              cell(formatMoney(total.realised), signClass(total.realised)),
              cell(formatMoney(total.total), signClass(total.total)),
            ],
            true,
          ),
        ]
      : [],
  );
}

function working(state) {
  const orders = state.working || [];
  replaceRows(
    "working-body",
    orders.length
      ? orders.map((o) =>
          row([
            cell(String(o.order_id)),
            cell(o.symbol),
            cell(o.side, o.side === "BUY" ? "pos" : "neg"),
            cell(String(o.qty)),
            cell(String(o.working)),
            cell(formatMoney(o.price)),
            cell(o.state),
            cell(o.strategy),
          ]),
        )
      : [emptyRow(8, "none")],
  );
}

function fills(state) {
  const recent = (state.fills || []).slice().reverse();
  replaceRows(
    "fills-body",
    recent.length
      ? recent.map((f) => {
          const tr = row([
            cell(String(f.order_id)),
            cell(f.symbol),
            cell(f.side, f.side === "BUY" ? "pos" : "neg"),
            cell(String(f.qty)),
            cell(formatMoney(f.price)),
            cell(f.strategy),
            cell(formatMicros(f.latency_us)),
          ]);
          // Which execution this row is and when the engine booked it (wall-clock seconds),
          // so the fill-to-screen latency can be measured in the browser.
          tr.dataset.fill = `${f.order_id}:${f.match}`;
          tr.dataset.filledAt = String(f.wall_ts);
          return tr;
        })
      : [emptyRow(7, "none yet")],
  );
}

const PERCENTILES = ["p50", "p95", "p99", "p999"];

function latency(state) {
  const hops = state.latency_us || {};
  const body = document.getElementById("latency-body");
  if (!body) return;
  const ceiling = Math.max(
    10,
    ...Object.values(hops).map((h) => h.p999 || h.max || 0),
  );
  const scale = Math.log10(ceiling + 1);
  for (const tr of body.querySelectorAll("tr[data-hop]")) {
    const h = hops[tr.dataset.hop] || {};
    const cells = tr.children;
    // A hop that has seen nothing yet has no latency, not a zero one.
    PERCENTILES.forEach((p, i) => {
      cells[i + 1].textContent = h.count ? formatMicros(h[p]) : "—";
    });
    const bars = cells[PERCENTILES.length + 1];
    bars.replaceChildren(
      ...PERCENTILES.map((p) => {
        const bar = document.createElement("span");
        bar.className = `lat ${p}`;
        bar.title = `${p} ${formatMicros(h[p])}`;
        const width = h.count && h[p] ? (Math.log10(h[p] + 1) / scale) * 100 : 0;
        bar.style.width = `${Math.min(width, 100).toFixed(1)}%`;
        return bar;
      }),
    );
  }
}

function riskUsage(state) {
  const usage = state.risk_usage || {};
  for (const tr of document.querySelectorAll("tr[data-usage]")) {
    const fraction = usage[tr.dataset.usage];
    const meter = tr.querySelector("meter");
    const label = tr.lastElementChild;
    if (meter) meter.value = fraction || 0;
    label.textContent = format(fraction, "percent");
    tone(label, usageClass(fraction || 0));
  }
}

function alerts(message) {
  const list = document.getElementById("alerts");
  if (!list) return;
  const items = message.alerts.map((a) => {
    const li = document.createElement("li");
    li.className = `alert ${a.level}`;
    li.textContent = a.text;
    return li;
  });
  if (!items.length) {
    const li = document.createElement("li");
    li.className = "alert none";
    li.textContent = "All clear";
    items.push(li);
  }
  list.replaceChildren(...items);
}

export function render(message) {
  header(message);
  fields(message);
  alerts(message);
  const state = message.state || {};
  if (document.getElementById("positions-body")) positions(message);
  working(state);
  fills(state);
  latency(state);
  riskUsage(state);
}
