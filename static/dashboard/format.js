// Number formats, the same as the server's (dashboard/templatetags/desk_format.py).

const money = new Intl.NumberFormat("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const integer = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });
const oneDecimal = new Intl.NumberFormat("en-US", { minimumFractionDigits: 1, maximumFractionDigits: 1 });

export function formatMoney(value) {
  return typeof value === "number" && Number.isFinite(value) ? money.format(value) : "—";
}

export function formatMicros(us) {
  if (typeof us !== "number" || !Number.isFinite(us)) return "—";
  if (us >= 1e6) return `${(us / 1e6).toFixed(2)} s`;
  if (us >= 1e3) return `${(us / 1e3).toFixed(2)} ms`;
  return `${us.toFixed(0)} µs`;
}

export function signClass(value) {
  if (typeof value !== "number" || value === 0) return "zero";
  return value > 0 ? "pos" : "neg";
}

export function usageClass(fraction) {
  if (fraction >= 1) return "bad";
  return fraction >= 0.8 ? "warn" : "ok";
}

export function stateClass(state) {
  if (state === "ACTIVE") return "ok";
  if (state === "PAUSED" || state === "REDUCING") return "warn";
  return "bad";
}

export function format(value, kind) {
  if (value === null || value === undefined) return "—";
  switch (kind) {
    case "money":
      return formatMoney(value);
    case "int":
      return integer.format(value);
    case "rate":
      return oneDecimal.format(value);
    case "age":
      return `${oneDecimal.format(value)} s ago`;
    case "micros":
      return formatMicros(value);
    case "percent":
      return `${Math.round(value * 100)}%`;
    case "connected":
      return value ? "connected" : "disconnected";
    default:
      return String(value);
  }
}
