// Charts on uPlot (loaded as the global `uPlot` by index.html from
// /ui/vendor/, embedded from its npm package at build time). Each helper
// returns an element that owns its chart: it follows its container's
// width, and chart.destroy() is called when the element leaves the page.
// Every chart carries a text alternative (aria-label) for screen readers.

import { el } from './ui.js';

const COLOR = '#2563eb';
export const STATE_COLORS = { ok: '#15803d', warning: '#b45309', critical: '#b91c1c', unknown: '#6b7280' };

function available() {
  return typeof window.uPlot === 'function';
}

// Creates the chart once the element is in the document (uPlot measures
// it), resizes it with its container, destroys it when it is removed.
function mountChart(box, makeOpts, data, height) {
  let chart = null;
  const ro = new ResizeObserver(() => {
    const w = Math.max(60, Math.floor(box.clientWidth));
    if (!chart) {
      chart = new window.uPlot({ ...makeOpts(), width: w, height }, data, box);
      box.chart = chart;
    } else if (Math.abs(chart.width - w) > 1) {
      chart.setSize({ width: w, height });
    }
  });
  ro.observe(box);
  const mo = new MutationObserver(() => {
    if (!box.isConnected) {
      ro.disconnect();
      mo.disconnect();
      if (chart) chart.destroy();
      chart = null;
    }
  });
  // Watch the document, not the parent: the whole page may be replaced.
  queueMicrotask(() => { if (box.isConnected) mo.observe(document.body, { childList: true, subtree: true }); });
  return box;
}

// points: [[unix_ms, value], ...] -> uPlot's [[x seconds...], [y...]].
function columns(points) {
  const xs = [];
  const ys = [];
  for (const [t, v] of points || []) {
    xs.push(t / 1000);
    ys.push(v === null || v === undefined ? null : Number(v));
  }
  return [xs, ys];
}

// A small line without axes for a tile: the last points of one series.
export function sparkline(points, opts = {}) {
  const height = opts.height || 36;
  const color = opts.color || COLOR;
  const label = opts.label || 'trend';
  const pts = points || [];
  const last = pts.length ? pts[pts.length - 1][1] : null;
  const box = el('div', {
    class: 'spark', role: 'img',
    'aria-label': pts.length ? `${label}: ${pts.length} readings, last ${fmt(last)}${opts.unit ? ` ${opts.unit}` : ''}` : `${label}: no readings yet`,
  });
  if (!available() || pts.length < 2) {
    box.classList.add('spark-empty');
    box.textContent = pts.length ? '' : 'no data yet';
    return box;
  }
  return mountChart(box, () => ({
    class: 'spark-plot',
    legend: { show: false },
    cursor: { show: false },
    select: { show: false },
    axes: [{ show: false }, { show: false }],
    scales: { x: { time: true } },
    padding: [2, 0, 2, 0],
    series: [{}, { stroke: color, width: 1.5, fill: `${color}22`, points: { show: false } }],
  }), columns(pts), height);
}

function fmt(v) {
  if (v === null || v === undefined || Number.isNaN(Number(v))) return '—';
  const n = Number(v);
  return Math.abs(n) >= 100 ? n.toFixed(0) : Math.abs(n) >= 1 ? n.toFixed(2).replace(/\.?0+$/, '') : n.toPrecision(2);
}
