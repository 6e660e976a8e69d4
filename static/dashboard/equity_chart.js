// The equity curve: the ledger's history first, then the live equity appended from the socket.

export async function createEquityChart(container, moduleUrl, historyUrl) {
  const { createChart, LineSeries } = await import(moduleUrl);
  const styles = getComputedStyle(document.body);
  const chart = createChart(container, {
    autoSize: true,
    layout: {
      // The logo is drawn with an injected <style>, which the site's CSP refuses; the page
      // credits the library in text under the chart instead.
      attributionLogo: false,
      background: { color: "transparent" },
      textColor: styles.getPropertyValue("--muted").trim() || "#9aa4b2",
    },
    grid: { vertLines: { visible: false }, horzLines: { color: "rgba(128,128,128,0.15)" } },
    timeScale: { timeVisible: true, secondsVisible: true },
    rightPriceScale: { borderVisible: false },
  });
  const series = chart.addSeries(LineSeries, { color: "#4aa3ff", lineWidth: 2 });
  let lastTime = 0;

  try {
    const response = await fetch(historyUrl, { credentials: "same-origin" });
    if (response.ok) {
      const { points } = await response.json();
      series.setData(points);
      if (points.length) lastTime = points[points.length - 1].time;
    }
  } catch (error) {
    console.warn("equity history unavailable", error);
  }

  return {
    append(ts, equity) {
      if (typeof equity !== "number" || !ts) return;
      // One point per second; a later update in the same second replaces it.
      const time = Math.max(Math.floor(ts), lastTime);
      series.update({ time, value: equity });
      lastTime = time;
    },
  };
}
