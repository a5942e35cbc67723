// SPDX-License-Identifier: MIT
// The uPlot charts of the incident and report pages: a check's series
// around an incident (the incident's span shaded), lines over time, and
// bars by category. Each chart has a text alternative (a table or a
// sentence) for screen readers, and follows its box's width.
import { h } from './parts.js';

function lib() {
  return globalThis.uPlot || null;
}

// Keeps a chart as wide as its box; returns a function that stops it.
function follow(box, chart, height) {
  const ro = new ResizeObserver(() => {
    const w = Math.max(240, Math.floor(box.clientWidth));
    if (w !== chart.width) chart.setSize({ width: w, height });
  });
  ro.observe(box);
  return () => { ro.disconnect(); chart.destroy(); };
}

const COLORS = ['#2563eb', '#c2410c', '#7c3aed', '#0f766e', '#be185d', '#4d7c0f'];

// Lines over time: xs in Unix seconds, series [{label, values, unit}].
// Returns {el, destroy}.
export function lineChart({ title, xs, series, height = 220, band, yLabel, valueText }) {
  const box = h('div', { class: 'chart', role: 'img', 'aria-label': title });
  const U = lib();
  if (!U || !xs.length) {
    box.appendChild(h('p', { class: 'muted' }, xs.length ? 'Charts are not available.' : 'No data for this period.'));
    return { el: box, destroy() {} };
  }
  const fmt = valueText || ((v) => (v === null || v === undefined ? '-' : String(+v.toFixed(3))));
  const opts = {
    title,
    width: 600,
    height,
    scales: { x: { time: true } },
    series: [{}, ...series.map((s, i) => ({
      label: s.label,
      stroke: s.color || COLORS[i % COLORS.length],
      width: 2,
      spanGaps: false,
      points: { show: xs.length < 60 },
      value: (u, v) => fmt(v),
    }))],
    axes: [{}, { label: yLabel, size: 60, values: (u, vals) => vals.map(fmt) }],
    hooks: band ? {
      drawClear: [(u) => {
        const x0 = u.valToPos(band[0], 'x', true);
        const x1 = u.valToPos(band[1], 'x', true);
        const { top, height: ht, left, width } = u.bbox;
        const a = Math.max(left, Math.min(x0, x1));
        const b = Math.min(left + width, Math.max(x0, x1));
        if (b <= a) return;
        u.ctx.save();
        u.ctx.fillStyle = 'rgba(220, 38, 38, 0.12)';
        u.ctx.fillRect(a, top, b - a, ht);
        u.ctx.restore();
      }],
    } : {},
  };
  const chart = new U(opts, [xs, ...series.map((s) => s.values)], box);
  const stop = follow(box, chart, height);
  return { el: box, destroy: stop };
}

// Bars, one per category: labels and counts.
export function barChart({ title, labels, values, height = 220, color = '#2563eb' }) {
  const box = h('div', { class: 'chart', role: 'img', 'aria-label': title });
  const U = lib();
  if (!U) {
    box.appendChild(h('p', { class: 'muted' }, 'Charts are not available.'));
    return { el: box, destroy() {} };
  }
  const xs = labels.map((_, i) => i);
  const bars = U.paths && U.paths.bars ? U.paths.bars({ size: [0.6, 80] }) : undefined;
  const opts = {
    title,
    width: 600,
    height,
    scales: { x: { time: false, range: [-0.5, labels.length - 0.5] }, y: { range: (u, min, max) => [0, Math.max(1, max)] } },
    legend: { show: false },
    series: [{ value: (u, v) => labels[v] ?? '' }, { label: 'incidents', stroke: color, fill: color, width: 1, paths: bars, points: { show: false } }],
    axes: [
      { values: (u, vals) => vals.map((v) => (Number.isInteger(v) ? labels[v] ?? '' : '')), splits: () => xs, grid: { show: false } },
      { values: (u, vals) => vals.map((v) => (Number.isInteger(v) ? String(v) : '')) },
    ],
  };
  const chart = new U(opts, [xs, values], box);
  const stop = follow(box, chart, height);
  return { el: box, destroy: stop };
}

// The text alternative of a chart: a small table, hidden from sight but
// not from screen readers (and shown on paper).
// With visible, an ordinary table.
export function dataTable(caption, head, rows, visible) {
  return h('table', { class: visible ? 'table' : 'chart-data' },
    h('caption', { class: visible ? 'sr-only' : null }, caption),
    h('thead', {}, h('tr', {}, head.map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, rows.map((r) => h('tr', {}, r.map((c, i) => (i === 0 ? h('th', { scope: 'row' }, c) : h('td', {}, c)))))));
}
