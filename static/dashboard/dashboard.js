// The desk's pages: a live WebSocket feed of the engine's state, the equity chart and the
// confirmation dialog of destructive controls. Everything works without this script except
// the live updates.

import { render } from "./render.js";
import { createEquityChart } from "./equity_chart.js";

const LIVE_PAGES = new Set(["trading", "health", "control"]);
const BACKOFF_MIN_MS = 500;
const BACKOFF_MAX_MS = 10000;
const UNAUTHORISED = 4401;

function setConnection(state) {
  const indicator = document.getElementById("connection");
  if (!indicator) return;
  indicator.dataset.state = state;
  indicator.textContent = state;
}

function connect(onMessage) {
  let delay = BACKOFF_MIN_MS;
  const open = () => {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    // The WebSocket server may listen on a port of its own (plain HTTP is served elsewhere).
    const port = document.body.dataset.wsPort;
    const host = port ? `${location.hostname}:${port}` : location.host;
    const socket = new WebSocket(`${scheme}://${host}${document.body.dataset.wsPath}`);
    setConnection("connecting");
    socket.addEventListener("open", () => {
      delay = BACKOFF_MIN_MS;
      setConnection("live");
    });
    socket.addEventListener("message", (event) => {
      const message = JSON.parse(event.data);
      if (message.type === "state") onMessage(message);
    });
    socket.addEventListener("close", (event) => {
      if (event.code === UNAUTHORISED) {
        setConnection("logged out");
        return;
      }
      setConnection("reconnecting");
      // The server sends the full state on every connect, so reconnecting is a resync.
      const jitter = Math.random() * delay * 0.2;
      setTimeout(open, delay + jitter);
      delay = Math.min(delay * 2, BACKOFF_MAX_MS);
    });
  };
  open();
}

function confirmDestructive() {
  const dialog = document.getElementById("confirm-dialog");
  if (!dialog || typeof dialog.showModal !== "function") return;
  const label = document.getElementById("confirm-label");
  let pending = null;
  for (const form of document.querySelectorAll("form.confirm")) {
    form.addEventListener("submit", (event) => {
      if (form.dataset.confirmed === "yes") return;
      event.preventDefault();
      pending = form;
      label.textContent = form.dataset.label.toLowerCase();
      dialog.showModal();
    });
  }
  dialog.addEventListener("close", () => {
    if (dialog.returnValue === "confirm" && pending) {
      const confirmed = document.createElement("input");
      confirmed.type = "hidden";
      confirmed.name = "confirmed";
      confirmed.value = "yes";
      pending.append(confirmed);
      pending.dataset.confirmed = "yes";
      pending.requestSubmit();
    }
    pending = null;
  });
}

async function main() {
  const page = document.body.dataset.page;
  confirmDestructive();
  if (!LIVE_PAGES.has(page)) return;
  let chart = null;
  const container = document.getElementById("equity-chart");
  const pending = [];
  if (container && document.body.dataset.chartModule) {
    createEquityChart(container, document.body.dataset.chartModule, document.body.dataset.equityUrl)
      .then((created) => {
        chart = created;
        for (const [ts, equity] of pending.splice(0)) chart.append(ts, equity);
      })
      .catch((error) => console.warn("equity chart unavailable", error));
  }
  connect((message) => {
    render(message);
    const equity = message.state && message.state.equity;
    if (typeof equity === "number") {
      if (chart) chart.append(message.ts, equity);
      else pending.push([message.ts, equity]);
    }
  });
}

main();

// The health view's log tail: refreshed every two seconds with the filter as it stands.
const LOG_REFRESH_MS = 2000;

function followLog() {
  const form = document.getElementById("log-filter");
  const lines = document.getElementById("log-lines");
  if (!form || !lines) return;
  const refresh = async () => {
    const query = new URLSearchParams(new FormData(form));
    try {
      const response = await fetch(`${form.dataset.logUrl}?${query}`, {
        headers: { Accept: "application/json" },
      });
      if (response.ok) {
        const body = await response.json();
        const atBottom = lines.scrollTop + lines.clientHeight >= lines.scrollHeight - 4;
        lines.textContent = body.lines.length ? body.lines.join("\n") : "no matching lines";
        if (atBottom) lines.scrollTop = lines.scrollHeight;
      }
    } catch {
      // The next refresh tries again; the page says it is disconnected elsewhere.
    }
  };
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    refresh();
  });
  setInterval(refresh, LOG_REFRESH_MS);
}

followLog();
