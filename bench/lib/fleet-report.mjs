/** bench:fleet's arithmetic (max-min fair shares, Jain's index, percentiles), its table and its SVG chart. */

/** Max-min fair shares of `capacity` among `demands` (water filling). */
export function maxMinFair(demands, capacity) {
  const share = demands.map(() => 0);
  let left = capacity;
  let open = demands.map((_, i) => i);
  for (let round = 0; round < demands.length + 1 && open.length > 0 && left > 1e-12; round++) {
    const each = left / open.length;
    const satisfied = open.filter((i) => demands[i] - share[i] <= each);
    if (satisfied.length === 0) {
      for (const i of open) share[i] += each;
      break;
    }
    for (const i of satisfied) {
      left -= demands[i] - share[i];
      share[i] = demands[i];
    }
    open = open.filter((i) => !satisfied.includes(i));
  }
  return share;
}

/** Jain's fairness index of `x`: 1 when all equal, 1/n when one takes all. */
export function jain(x) {
  const sum = x.reduce((a, b) => a + b, 0);
  const squares = x.reduce((a, b) => a + b * b, 0);
  return squares === 0 ? 1 : (sum * sum) / (x.length * squares);
}

/** The p-th percentile (0-100) of `values` (nearest rank); null when empty. */
export function percentile(values, p) {
  if (values.length === 0) return null;
  const sorted = Float64Array.from(values).sort();
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

export const TARGETS = { goodput: 0.95, throttledShare: 0.02, jain: 0.95, worst: 0.7, lost: 0 };

const pct = (x, d = 1) => (x === null || x === undefined ? '—' : `${(x * 100).toFixed(d)}%`);
const fix = (x, d = 3) => (x === null || x === undefined ? '—' : x.toFixed(d));
const sec = (ms) => (ms === null || ms === undefined ? '—' : `${(ms / 1000).toFixed(1)} s`);

/** Markdown table of the overload modes (and the under-quota run). */
export function renderTable(rows) {
  const out = [
    '| mode | goodput (accepted/s ÷ quota) | throttled (of attempts) | Jain (vs max-min fair share) | worst process (of its fair share) | p99 add→delivery | lost | attempts/s |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of rows) {
    out.push(
      `| ${r.label} | ${pct(r.goodput)} | ${pct(r.throttledShare, 2)} | ${fix(r.jain)} | ${fix(r.worst, 2)} | ${sec(r.p99DelayMs)} | ${r.lost} | ${r.attemptsPerSecond.toFixed(0)} |`,
    );
  }
  return out.join('\n');
}

/** Markdown table of the start storms. */
export function renderStormTable(rows) {
  const out = [
    '| mode | streams created / expected | events delivered / added | lost | gave up (dropped) | crashed | CreateLogStream accepted / throttled | all delivered after |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of rows) {
    out.push(
      `| ${r.label} | ${r.streamsCreated} / ${r.streamsExpected} | ${r.delivered} / ${r.added} | ${r.lost} | ${r.dropped} | ${r.crashed} | ${r.createAccepted} / ${r.createThrottled} | ${sec(r.allDeliveredMs)} |`,
    );
  }
  return out.join('\n');
}

/**
 * The chart of the overload modes: (1) the throttled share of attempts per mode against the 2%
 * target; (2) goodput, Jain's index and the worst process's share per mode against their targets;
 * (3) throttled PutLogEvents per second over the run, per mode (rows with a `timeline`), with the
 * warm-up shaded. `opts`: { quota, warmupS }.
 */
export function renderSvg(rows, title, opts = {}) {
  const colors = ['#2b6cb0', '#c05621', '#2f855a', '#6b46c1'];
  const color = (i) => colors[i % colors.length];
  const timed = rows.filter((r) => Array.isArray(r.timeline) && r.timeline.length > 0);
  const width = 760;
  const height = timed.length > 0 ? 470 : 300;
  const out = [];
  const text = (x, y, s, extra = '') => out.push(`<text x="${fmt(x)}" y="${fmt(y)}"${extra}>${escape(s)}</text>`);
  const line = (x1, y1, x2, y2, extra) => out.push(`<line x1="${fmt(x1)}" y1="${fmt(y1)}" x2="${fmt(x2)}" y2="${fmt(y2)}" ${extra}/>`);
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`);
  out.push(`<rect width="${width}" height="${height}" fill="white"/>`);
  const [head, ...rest] = String(title).split(' — ');
  text(20, 20, head, ' font-size="13" font-weight="bold"');
  if (rest.length > 0) text(20, 36, rest.join(' — '), ' font-size="10" fill="#444"');

  // (1) Throttled share of attempts, linear, with the value on each bar.
  {
    const x0 = 60;
    const y0 = 70;
    const w = 250;
    const h = 160;
    const max = Math.max(0.05, Math.ceil(Math.max(...rows.map((r) => r.throttledShare)) * 10) / 10);
    const y = (v) => y0 + h - (Math.min(max, v) / max) * h;
    text(x0, y0 - 12, 'throttled, share of attempts (target 2% dashed)', ' font-weight="bold"');
    for (const v of [0, max / 2, max]) {
      line(x0, y(v), x0 + w, y(v), 'stroke="#ddd"');
      text(x0 - 6, y(v) + 4, `${Math.round(v * 100)}%`, ' text-anchor="end"');
    }
    const barW = Math.min(50, w / rows.length - 16);
    rows.forEach((r, i) => {
      const x = x0 + 10 + i * (w / rows.length);
      out.push(`<rect x="${fmt(x)}" y="${fmt(y(r.throttledShare))}" width="${fmt(barW)}" height="${fmt(y0 + h - y(r.throttledShare))}" fill="${color(i)}"><title>${escape(r.label)}</title></rect>`);
      text(x + barW / 2, y(r.throttledShare) - 4, `${(r.throttledShare * 100).toFixed(2)}%`, ' text-anchor="middle"');
    });
    line(x0, y(TARGETS.throttledShare), x0 + w, y(TARGETS.throttledShare), 'stroke="#e53e3e" stroke-dasharray="4 2"');
  }

  // (2) Goodput, Jain, worst ÷ fair.
  {
    const metrics = [
      { label: 'goodput', target: TARGETS.goodput, value: (r) => r.goodput },
      { label: 'Jain', target: TARGETS.jain, value: (r) => r.jain },
      { label: 'worst ÷ fair', target: TARGETS.worst, value: (r) => r.worst },
    ];
    const x0 = 400;
    const y0 = 70;
    const w = 340;
    const h = 160;
    const y = (v) => y0 + h - (Math.max(0, Math.min(1.1, v)) / 1.1) * h;
    text(x0, y0 - 12, 'goodput, fairness (targets dashed)', ' font-weight="bold"');
    for (const v of [0, 0.5, 1]) {
      line(x0, y(v), x0 + w, y(v), 'stroke="#ddd"');
      text(x0 - 6, y(v) + 4, String(v), ' text-anchor="end"');
    }
    const groupW = w / metrics.length;
    const barW = Math.min(26, (groupW - 16) / rows.length);
    metrics.forEach((m, g) => {
      const gx = x0 + g * groupW + 8;
      rows.forEach((r, i) => {
        const v = m.value(r);
        const x = gx + i * barW;
        out.push(`<rect x="${fmt(x)}" y="${fmt(y(v))}" width="${fmt(barW - 3)}" height="${fmt(y0 + h - y(v))}" fill="${color(i)}"><title>${escape(r.label)}: ${v.toFixed(3)}</title></rect>`);
      });
      line(gx - 3, y(m.target), gx + rows.length * barW, y(m.target), 'stroke="#e53e3e" stroke-dasharray="4 2"');
      text(gx + (rows.length * barW) / 2, y0 + h + 14, m.label, ' text-anchor="middle"');
    });
  }

  // (3) Throttled calls per second over the run.
  if (timed.length > 0) {
    const x0 = 60;
    const y0 = 285;
    const w = 680;
    const h = 110;
    const seconds = Math.max(...timed.map((r) => r.timeline.length));
    const max = Math.max(1, ...timed.flatMap((r) => r.timeline.map((p) => p.throttled)));
    const top = max <= 10 ? 10 : Math.ceil(max / 10) * 10;
    const x = (s) => x0 + (s / seconds) * w;
    const y = (v) => y0 + h - (v / top) * h;
    text(x0, y0 - 12, 'throttled PutLogEvents per second, over the run', ' font-weight="bold"');
    if (opts.warmupS) {
      out.push(`<rect x="${fmt(x0)}" y="${fmt(y0)}" width="${fmt(x(Math.min(seconds, opts.warmupS)) - x0)}" height="${h}" fill="#f3f3f3"/>`);
      text(x0 + 4, y0 + 12, 'warm-up (not measured)', ' fill="#888"');
    }
    for (const v of [0, top / 2, top]) {
      line(x0, y(v), x0 + w, y(v), 'stroke="#ddd"');
      text(x0 - 6, y(v) + 4, String(v), ' text-anchor="end"');
    }
    for (let s = 0; s <= seconds; s += 10) text(x(s), y0 + h + 14, `${s} s`, ' text-anchor="middle"');
    rows.forEach((r, i) => {
      if (!Array.isArray(r.timeline) || r.timeline.length === 0) return;
      const points = r.timeline.map((p, s) => `${fmt(x(s + 0.5))},${fmt(y(p.throttled))}`).join(' ');
      out.push(`<polyline points="${points}" fill="none" stroke="${color(i)}" stroke-width="1.5"><title>${escape(r.label)}</title></polyline>`);
    });
    if (opts.quota) text(x0 + w, y0 - 12, `quota ${opts.quota}/s; the fleet offers ${fmt(timed[0].offeredRequestsPerSecond ?? 0)}/s`, ' text-anchor="end" fill="#444"');
  }

  // Legend.
  let lx = 20;
  rows.forEach((r, i) => {
    out.push(`<rect x="${lx}" y="${height - 24}" width="10" height="10" fill="${color(i)}"/>`);
    text(lx + 14, height - 15, r.label);
    lx += 24 + String(r.label).length * 6.2;
  });
  out.push('</svg>');
  return out.join('\n');
}

function fmt(n) {
  return Number.isInteger(n) ? String(n) : n.toFixed(1);
}

function escape(s) {
  return String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
