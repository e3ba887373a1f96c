// Small SVG charts for the summary page, drawn with our own code (no chart library, no CDN).
// Labels go in through textContent, so question texts cannot inject markup.
"use strict";

const Charts = (() => {
  const NS = "http://www.w3.org/2000/svg";

  function svg(tag, attrs, text) {
    const node = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
    if (text !== undefined) node.textContent = String(text);
    return node;
  }

  function empty() {
    const p = document.createElement("p");
    p.className = "hint";
    p.textContent = "No data yet.";
    return p;
  }

  function fmt(value, unit) {
    const rounded = Math.round(value * 10) / 10;
    return unit ? `${rounded}${unit === "%" ? " %" : " " + unit}` : String(rounded);
  }

  // Vertical columns, one per item (days): [{label, value, title}].
  function columns(items, options = {}) {
    if (!items.length) return empty();
    const width = 640, height = 200, left = 48, bottom = 26, top = 14;
    const max = options.max || Math.max(1, ...items.map((i) => i.value));
    const step = (width - left) / items.length;
    const bar = Math.max(2, Math.min(36, step * 0.7));
    const chart = svg("svg", { viewBox: `0 0 ${width} ${height}`, class: "chart", role: "img" });
    chart.append(svg("title", {}, options.title || "chart"));
    for (const tick of [0, 0.5, 1]) {
      const y = height - bottom - tick * (height - bottom - top);
      chart.append(svg("line", { x1: left, x2: width, y1: y, y2: y, class: "grid" }));
      chart.append(svg("text", { x: left - 4, y: y + 4, "text-anchor": "end", class: "axis" }, fmt(max * tick, options.unit)));
    }
    const every = Math.ceil(items.length / 12);
    items.forEach((item, i) => {
      const h = (item.value / max) * (height - bottom - top);
      const x = left + i * step + (step - bar) / 2;
      const rect = svg("rect", { x, y: height - bottom - h, width: bar, height: Math.max(h, 0), class: "bar" });
      rect.append(svg("title", {}, item.title || `${item.label}: ${fmt(item.value, options.unit)}`));
      chart.append(rect);
      if (items.length <= 16 && item.value > 0) {
        chart.append(svg("text", { x: x + bar / 2, y: height - bottom - h - 3, "text-anchor": "middle", class: "value" }, fmt(item.value, options.unit)));
      }
      if (i % every === 0) {
        chart.append(svg("text", { x: x + bar / 2, y: height - 8, "text-anchor": "middle", class: "axis" }, item.label));
      }
    });
    return chart;
  }

  // Horizontal bars with a label each (categories): [{label, value, title}].
  function bars(items, options = {}) {
    if (!items.length) return empty();
    const width = 640, row = 24, labelWidth = 300;
    const height = items.length * row + 6;
    const max = Math.max(1, ...items.map((i) => i.value));
    const chart = svg("svg", { viewBox: `0 0 ${width} ${height}`, class: "chart", role: "img" });
    chart.append(svg("title", {}, options.title || "chart"));
    items.forEach((item, i) => {
      const y = i * row + 4;
      const label = item.label.length > 46 ? item.label.slice(0, 45) + "…" : item.label;
      chart.append(svg("text", { x: labelWidth - 6, y: y + 14, "text-anchor": "end", class: "label" }, label));
      const w = (item.value / max) * (width - labelWidth - 50);
      const rect = svg("rect", { x: labelWidth, y, width: Math.max(w, 1), height: row - 6, class: "bar" });
      rect.append(svg("title", {}, item.title || `${item.label}: ${item.value}`));
      chart.append(rect);
      chart.append(svg("text", { x: labelWidth + w + 5, y: y + 14, class: "value" }, fmt(item.value, options.unit)));
    });
    return chart;
  }

  return { columns, bars };
})();
