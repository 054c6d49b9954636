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

/** A small grouped bar chart: goodput, 1 - throttled, Jain and worst share per mode, with the targets. */
export function renderSvg(rows, title) {
  const metrics = [
    { key: 'goodput', label: 'goodput', target: TARGETS.goodput, value: (r) => Math.min(1.1, r.goodput) },
    { key: 'unthrottled', label: '1 − throttled', target: 1 - TARGETS.throttledShare, value: (r) => 1 - r.throttledShare },
    { key: 'jain', label: 'Jain', target: TARGETS.jain, value: (r) => r.jain },
    { key: 'worst', label: 'worst ÷ fair', target: TARGETS.worst, value: (r) => Math.min(1.1, r.worst) },
  ];
  const colors = ['#2b6cb0', '#c05621', '#2f855a', '#6b46c1'];
  const width = 640;
  const height = 300;
  const left = 40;
  const top = 40;
  const plotH = 200;
  const groupW = (width - left - 20) / metrics.length;
  const barW = Math.min(28, (groupW - 20) / Math.max(1, rows.length));
  const y = (v) => top + plotH - (Math.max(0, Math.min(1.1, v)) / 1.1) * plotH;
  const out = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`);
  out.push(`<rect width="${width}" height="${height}" fill="white"/>`);
  out.push(`<text x="${left}" y="18" font-size="13" font-weight="bold">${escape(title)}</text>`);
  for (const v of [0, 0.5, 1]) {
    out.push(`<line x1="${left}" x2="${width - 20}" y1="${y(v)}" y2="${y(v)}" stroke="#ddd"/>`);
    out.push(`<text x="${left - 6}" y="${y(v) + 4}" text-anchor="end">${v}</text>`);
  }
  metrics.forEach((m, g) => {
    const x0 = left + g * groupW + 10;
    rows.forEach((r, i) => {
      const v = m.value(r);
      const x = x0 + i * barW;
      out.push(`<rect x="${x.toFixed(1)}" y="${y(v).toFixed(1)}" width="${(barW - 3).toFixed(1)}" height="${(top + plotH - y(v)).toFixed(1)}" fill="${colors[i % colors.length]}"><title>${escape(r.label)}: ${v.toFixed(3)}</title></rect>`);
    });
    const tx1 = x0 - 3;
    const tx2 = x0 + rows.length * barW;
    out.push(`<line x1="${tx1}" x2="${tx2}" y1="${y(m.target)}" y2="${y(m.target)}" stroke="#e53e3e" stroke-dasharray="4 2"/>`);
    out.push(`<text x="${(tx1 + tx2) / 2}" y="${top + plotH + 16}" text-anchor="middle">${escape(m.label)}</text>`);
  });
  rows.forEach((r, i) => {
    const x = left + i * 150;
    out.push(`<rect x="${x}" y="${height - 22}" width="10" height="10" fill="${colors[i % colors.length]}"/>`);
    out.push(`<text x="${x + 14}" y="${height - 13}">${escape(r.label)}</text>`);
  });
  out.push(`<text x="${width - 20}" y="${top - 8}" text-anchor="end" fill="#e53e3e">dashed: target</text>`);
  out.push('</svg>');
  return out.join('\n');
}

function escape(s) {
  return String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
