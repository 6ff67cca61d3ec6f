// Metrics as charts and tables, chosen by their stored shape and metric_type (as FATE-Board does):
// [x, y] points are a curve (loss per iteration, ROC, K-S, lift, gain, precision/recall, accuracy),
// with the meta's other equally long number columns as further series; [name, value] rows are a
// summary table; confusion matrices and anything else are tables. Modules added later (binning IV/WOE,
// CV folds, feature importance, statistics) appear through the same generic renderers.
"use strict";
(function () {
  const charts = new Set();
  window.addEventListener("resize", () => charts.forEach((c) => c.resize()));

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null) continue;
      if (k === "class") node.className = v;
      else if (k === "dataset") Object.assign(node.dataset, v);
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v);
    }
    for (const child of children.flat()) {
      if (child === undefined || child === null || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  const isNumber = (v) => typeof v === "number" && Number.isFinite(v);
  const fmt = (v) => (isNumber(v) && !Number.isInteger(v) ? Number(v.toFixed(6)) : v);
  const X_ONLY = new Set(["threshold", "cut", "thresholds"]);

  function table(header, rows, attrs) {
    return el("div", { class: "scroll" },
      el("table", attrs || {},
        el("thead", {}, el("tr", {}, header.map((h) => el("th", {}, h)))),
        el("tbody", {}, rows.map((r) => el("tr", {}, r.map((v) => el("td", { class: isNumber(v) ? "num" : "" }, typeof v === "object" && v !== null ? JSON.stringify(v) : fmt(v))))))));
  }

  function isCurve(data) {
    return data.length > 0 && data.every((p) => Array.isArray(p) && p.length === 2 && isNumber(p[0]) && isNumber(p[1]));
  }

  function isSummary(data) {
    return data.length > 0 && data.every((p) => Array.isArray(p) && p.length === 2 && typeof p[0] === "string");
  }

  function curve(name, metric) {
    const meta = metric.meta || {};
    const data = metric.data;
    const columns = Array.isArray(meta.columns) && meta.columns.length === 2 ? meta.columns : [meta.unit_name || "x", meta.curve_name || meta.ordinate_name || name];
    const series = [{ name: columns[1], type: "line", showSymbol: data.length <= 60, data: data.map((p) => [p[0], p[1]]) }];
    for (const [key, values] of Object.entries(meta)) {
      if (key === columns[0] || key === columns[1] || X_ONLY.has(key) || !Array.isArray(values)) continue;
      if (values.length !== data.length || !values.every(isNumber)) continue;
      series.push({ name: key, type: "line", showSymbol: data.length <= 60, data: data.map((p, i) => [p[0], values[i]]) });
    }
    const type = metric.metric_type || "";
    let subtitle = "";
    if (type === "KS_EVALUATION" && series.length > 1) {
      const ks = Math.max(...series[0].data.map((p, i) => p[1] - series[1].data[i][1]));
      subtitle = `KS = ${fmt(ks)}`;
    }
    if (type === "ROC_EVALUATION") {
      series.push({ name: "random", type: "line", data: [[0, 0], [1, 1]], showSymbol: false, lineStyle: { type: "dashed", width: 1 }, silent: true });
    }
    const box = el("div", { class: "chart", dataset: { metric: name, metricType: type, points: String(data.length) } });
    const chart = echarts.init(box, null, { renderer: "canvas" });
    charts.add(chart);
    const thresholds = Array.isArray(meta.threshold) && meta.threshold.length === data.length ? meta.threshold : null;
    chart.setOption({
      animation: false,
      title: subtitle ? { text: subtitle, left: "center", textStyle: { fontSize: 13 } } : undefined,
      tooltip: {
        trigger: "axis",
        formatter: (items) => {
          const i = items[0].dataIndex;
          const head = `${columns[0]}: ${fmt(items[0].value[0])}` + (thresholds ? ` (threshold ${fmt(thresholds[i])})` : "");
          return [head, ...items.map((it) => `${it.seriesName}: ${fmt(it.value[1])}`)].join("<br>");
        },
      },
      legend: { top: subtitle ? 24 : 0 },
      grid: { left: 56, right: 24, top: subtitle ? 56 : 36, bottom: 40 },
      xAxis: { type: "value", name: columns[0], nameLocation: "middle", nameGap: 26, scale: type === "LOSS" },
      yAxis: { type: "value", name: columns[1], scale: type === "LOSS" },
      series,
    });
    // The chart sizes itself once it is in the page.
    requestAnimationFrame(() => chart.resize());
    return box;
  }

  function confusion(metric) {
    const meta = metric.meta || {};
    const header = ["threshold", "tp", "fp", "tn", "fn"];
    const rows = metric.data.map((p, i) => [p[0], p[1], (meta.fp || [])[i], (meta.tn || [])[i], (meta.fn || [])[i]]);
    return table(header, rows);
  }

  function renderMetric(namespace, name, metric) {
    const data = Array.isArray(metric.data) ? metric.data : [];
    const type = metric.metric_type || "";
    const title = el("h4", {}, `${namespace} · ${name} `, el("span", { class: "muted" }, type));
    let body;
    if (!data.length) body = el("p", { class: "muted" }, "no points yet");
    else if (type.includes("CONFUSION")) body = confusion(metric);
    else if (isSummary(data)) body = table(["metric", "value"], data, { dataset: { summary: name } });
    else if (isCurve(data)) body = curve(name, metric);
    else if (data.every(Array.isArray)) body = table((metric.meta && metric.meta.header) || data[0].map((_, i) => `#${i}`), data);
    else body = el("pre", {}, JSON.stringify(data, null, 1));
    return el("div", { class: "metric", dataset: { metricName: name } }, title, body);
  }

  function renderMetrics(all) {
    const out = [];
    for (const [namespace, metrics] of Object.entries(all || {})) {
      for (const [name, metric] of Object.entries(metrics)) out.push(renderMetric(namespace, name, metric));
    }
    return out;
  }

  // A model's numbers by name (weights, importances) as a bar chart and table; the rest as JSON.
  function namedNumbers(value, depth) {
    if (!value || typeof value !== "object" || depth > 4) return null;
    const entries = Object.entries(value);
    if (!Array.isArray(value) && entries.length > 1 && entries.every(([, v]) => isNumber(v))) return value;
    for (const key of ["weight", "weights", "feature_importance", "param", "model", "modelParam"]) {
      if (key in value) {
        const found = namedNumbers(value[key], depth + 1);
        if (found) return found;
      }
    }
    for (const [, v] of entries) {
      const found = namedNumbers(v, depth + 1);
      if (found) return found;
    }
    return null;
  }

  function renderModel(model) {
    const parts = [];
    const weights = namedNumbers(model, 0);
    if (weights) {
      const names = Object.keys(weights);
      const box = el("div", { class: "chart", dataset: { model: "weights" }, style: `height:${Math.min(600, 60 + names.length * 18)}px` });
      const chart = echarts.init(box, null, { renderer: "canvas" });
      charts.add(chart);
      chart.setOption({
        animation: false,
        tooltip: { trigger: "axis" },
        grid: { left: 90, right: 24, top: 10, bottom: 24 },
        xAxis: { type: "value" },
        yAxis: { type: "category", data: names, inverse: true },
        series: [{ type: "bar", data: names.map((n) => weights[n]) }],
      });
      requestAnimationFrame(() => chart.resize());
      parts.push(box);
    }
    parts.push(el("details", {}, el("summary", {}, "model as stored (JSON)"), el("pre", {}, JSON.stringify(model, null, 2))));
    return parts;
  }

  window.AccordCharts = { el, table, renderMetrics, renderModel };
})();
