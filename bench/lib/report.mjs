/** Medians, ratios, targets, and the markdown table and SVG chart of a benchmark run. */

const MiB = 2 ** 20;

/** The median of the finite numbers among `values`; null when there are none. */
export function median(values) {
  const v = values.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const mid = v.length >> 1;
  return v.length % 2 === 1 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

/** One row per (case, n): medians over its runs; lost and duplicated are the worst run's. */
export function summarize(runs, cases) {
  const rows = [];
  for (const c of cases) {
    const sizes = [...new Set(runs.filter((r) => r.case === c.id).map((r) => r.n))];
    for (const n of sizes) {
      const rs = runs.filter((r) => r.case === c.id && r.n === n);
      const ok = rs.filter((r) => r.outcome !== 'crashed');
      const eps = ok.map((r) => r.eventsPerSecond);
      rows.push({
        case: c.id,
        label: c.label,
        family: c.family,
        n,
        runs: rs.length,
        complete: rs.filter((r) => r.outcome === 'complete').length,
        outcomes: [...new Set(rs.map((r) => r.outcome))],
        eventsPerSecond: median(eps),
        eventsPerSecondMin: eps.length ? Math.min(...eps) : null,
        eventsPerSecondMax: eps.length ? Math.max(...eps) : null,
        cpuSecondsPerMillion: median(ok.map((r) => r.cpuSecondsPerMillion)),
        loopSeconds: median(ok.map((r) => r.loopSeconds)),
        peakRssMiB: median(ok.map((r) => r.peakRss / MiB)),
        rssBeforeMiB: median(ok.map((r) => r.rssBefore / MiB)),
        requests: median(ok.map((r) => r.endpoint.requests)),
        putRequests: median(ok.map((r) => r.endpoint.putLogEventsRequests)),
        meanBatch: median(ok.map((r) => r.meanBatch)),
        meanMessageBytes: median(ok.map((r) => r.endpoint.meanMessageBytes)),
        lostMax: rs.length ? Math.max(...rs.map((r) => r.endpoint.lost)) : null,
        duplicatesMax: rs.length ? Math.max(...rs.map((r) => r.endpoint.duplicates)) : null,
        networkRefusals: rs.reduce((sum, r) => sum + (r.networkRefusals ?? 0), 0),
        config: ok[0]?.config,
        heap: heapSummary(ok),
        errors: rs.filter((r) => r.error).map((r) => r.error.split('\n')[0]),
      });
    }
  }
  return rows;
}

/** Medians of the heap probe (memory cases run with it), in MiB; undefined without one. */
function heapSummary(runs) {
  const probed = runs.filter((r) => r.heap !== undefined && r.heap !== null);
  if (probed.length === 0) return undefined;
  const m = (f) => median(probed.map((r) => f(r.heap) / MiB));
  return {
    runs: probed.length,
    countedMiB: m((h) => h.counted ?? 0),
    heapBeforeMiB: m((h) => h.heapBefore),
    heapUsedBeforeGcMiB: m((h) => h.heapUsedBeforeGc),
    heapUsedAfterGcMiB: m((h) => h.heapUsedAfterGc),
    liveGrowthMiB: m((h) => h.heapUsedAfterGc - h.heapBefore),
    rssAtProbeMiB: m((h) => h.rssAtProbe),
  };
}

function row(summary, id, n) {
  return summary.find((r) => r.case === id && r.n === n);
}

function ratio(a, b) {
  return a === null || b === null || a === undefined || b === undefined || b === 0 ? null : a / b;
}

/** The issue's targets, each as measured at every size both sides were run at. */
export function evaluateTargets(summary) {
  const sizes = [...new Set(summary.map((r) => r.n))].sort((a, b) => a - b);
  const out = [];
  const add = (n, name, mine, theirs, metric, op, limit) => {
    const a = row(summary, mine, n);
    const b = row(summary, theirs, n);
    if (a === undefined || b === undefined) return;
    const r = ratio(a[metric], b[metric]);
    const pass = r === null ? null : op === '>=' ? r >= limit : r <= limit;
    out.push({ n, name, mine, theirs, metric, ratio: r, op, limit, pass });
  };
  for (const n of sizes) {
    add(n, 'core vs baseline, events/s', 'core', 'baseline', 'eventsPerSecond', '>=', 1.0);
    add(n, 'core vs baseline, CPU per event', 'core', 'baseline', 'cpuSecondsPerMillion', '<=', 1.2);
    add(n, 'stretch: core vs baseline, CPU per event', 'core', 'baseline', 'cpuSecondsPerMillion', '<=', 0.5);
    add(n, 'cwbatch/winston vs winston-cloudwatch, events/s', 'cwbatch-winston', 'winston-cloudwatch', 'eventsPerSecond', '>=', 2);
    add(n, 'cwbatch/winston vs winston-cloudwatch, peak RSS', 'cwbatch-winston', 'winston-cloudwatch', 'peakRssMiB', '<=', 0.5);
    add(n, 'cwbatch/winston vs winston-aws-cloudwatch, events/s', 'cwbatch-winston', 'winston-aws-cloudwatch', 'eventsPerSecond', '>=', 2);
    add(n, 'cwbatch/winston vs winston-aws-cloudwatch, peak RSS', 'cwbatch-winston', 'winston-aws-cloudwatch', 'peakRssMiB', '<=', 0.5);
    for (const peer of ['pino-cloudwatch', 'serdnam-pino-cloudwatch-transport']) {
      add(n, `cwbatch/pino vs ${peer}, events/s`, 'cwbatch-pino', peer, 'eventsPerSecond', '>=', 5);
      add(n, `cwbatch/pino vs ${peer}, peak RSS`, 'cwbatch-pino', peer, 'peakRssMiB', '<=', 0.3);
    }
    // Issue 20: against what the same logger costs writing a local file (same records, same loop).
    add(n, 'cwbatch/pino vs pino/file, CPU per line', 'cwbatch-pino', 'pino-file', 'cpuSecondsPerMillion', '<=', 1.25);
    add(n, 'cwbatch/pino vs pino/file, peak RSS', 'cwbatch-pino', 'pino-file', 'peakRssMiB', '<=', 1.1);
    add(n, 'cwbatch/pino vs pino/file, producer loop', 'cwbatch-pino', 'pino-file', 'loopSeconds', '<=', 1.05);
    add(n, 'cwbatch/winston vs winston File, CPU per line', 'cwbatch-winston', 'winston-file', 'cpuSecondsPerMillion', '<=', 0.5);
    add(n, 'cwbatch/winston vs winston File, producer loop', 'cwbatch-winston', 'winston-file', 'loopSeconds', '<=', 1.1);
    // Memory: what logging n events adds to the process (peak RSS - RSS before the first event)
    // against the bound. The fixed overhead is taken from the run with the small bound.
    for (const id of ['core', 'core-heap', 'core-8mib']) {
      const r = row(summary, id, n);
      if (r === undefined || r.config?.maxBufferedBytes === undefined) continue;
      out.push({
        n,
        name: `memory: ${id}, growth of RSS while ${n.toLocaleString('en-US')} events go through`,
        mine: id,
        metric: 'memory',
        boundMiB: r.config.maxBufferedBytes / MiB,
        growthMiB: r.peakRssMiB - r.rssBeforeMiB,
        peakRssMiB: r.peakRssMiB,
        rssBeforeMiB: r.rssBeforeMiB,
        dataMiB: (n * ((r.meanMessageBytes ?? 0) + 26)) / MiB,
        heap: r.heap,
      });
    }
  }
  return out;
}

const fmt = {
  int: (x) => (x === null || x === undefined ? '-' : Math.round(x).toLocaleString('en-US')),
  one: (x) => (x === null || x === undefined ? '-' : x.toFixed(1)),
  two: (x) => (x === null || x === undefined ? '-' : x.toFixed(2)),
};

function notes(r) {
  const parts = [];
  if (r.complete < r.runs) parts.push(`${r.runs - r.complete}/${r.runs} runs incomplete (${r.outcomes.join(', ')})`);
  if (r.networkRefusals > 0) parts.push(`${r.networkRefusals} non-loopback connections refused`);
  if (r.errors.length) parts.push(`error: ${r.errors[0].slice(0, 120)}`);
  return parts.join('; ');
}

/** The file baseline of each logger family (issue 20). */
const FILE_BASELINES = { pino: 'pino-file', winston: 'winston-file' };

/**
 * --against: per cwbatch case and size, this tree's build (head) over the other revision's
 * (base): the ratio of the medians, and the median of the per-rep ratios (each head run over the
 * base run of the same rep, run next to it).
 */
export function againstRatios(runs, summary, baseCases) {
  const metrics = ['eventsPerSecond', 'cpuSecondsPerMillion', 'peakRssMiB', 'loopSeconds'];
  const value = (r, m) => (m === 'peakRssMiB' ? r.peakRss / MiB : r[m]);
  const out = [];
  for (const b of baseCases) {
    for (const n of [...new Set(summary.filter((r) => r.case === b.baseOf).map((r) => r.n))]) {
      const head = row(summary, b.baseOf, n);
      const base = row(summary, b.id, n);
      if (head === undefined || base === undefined) continue;
      const entry = { case: b.baseOf, label: head.label, n, reps: Math.min(head.runs, base.runs) };
      for (const m of metrics) {
        const paired = [];
        for (const h of runs.filter((r) => r.case === b.baseOf && r.n === n && r.outcome !== 'crashed')) {
          const other = runs.find((r) => r.case === b.id && r.n === n && r.rep === h.rep && r.outcome !== 'crashed');
          if (other !== undefined) paired.push(ratio(value(h, m), value(other, m)));
        }
        entry[m] = { head: head[m], base: base[m], ratio: ratio(head[m], base[m]), paired: median(paired), pairedMin: paired.length ? Math.min(...paired.filter((x) => x !== null)) : null, pairedMax: paired.length ? Math.max(...paired.filter((x) => x !== null)) : null };
      }
      out.push(entry);
    }
  }
  return out;
}

export function renderMarkdown(meta, summary, targets) {
  const lines = [];
  lines.push(`### cwbatch benchmarks (${meta.quick ? 'quick' : 'full'} run)`);
  lines.push('');
  lines.push(
    `${meta.date.slice(0, 10)}, Node ${meta.node}, ${meta.machine.nproc} cores (${meta.machine.cpu}), ${meta.machine.memoryGiB} GiB; ` +
      `\`${meta.command}\`; ${meta.durationSeconds} s. Medians of the runs (lost/dup: worst run). ` +
      'Endpoint: cwbatch/local in its own process on loopback; CPU and peak RSS are the client process only.',
  );
  if (meta.loadavg !== undefined) lines.push(`\nLoad average (1/5/15 min) at the start: ${meta.loadavg.start.join(' / ')}, at the end: ${meta.loadavg.end.join(' / ')}.`);
  if (meta.skipped.length) lines.push(`\nNot run (not available yet): ${meta.skipped.join(', ')}.`);
  lines.push('');
  lines.push(
    'File baselines (`pino-file`, `winston-file`): "delivered" is the last line in the file (counted after the transport closed); requests and batches do not apply. ' +
      '"log loop s": the producer\'s wall time in the loop of log calls (awaited back-pressure included, finishing and delivery not).',
  );
  lines.push('');
  lines.push('| case | events | runs | events/s (min-max) | CPU s / 1M events | peak RSS MiB (before) | log loop s | requests | mean batch | msg bytes | lost | dup | notes |');
  lines.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|');
  for (const r of summary) {
    lines.push(
      `| ${r.label} | ${fmt.int(r.n)} | ${r.runs} | ${fmt.int(r.eventsPerSecond)} (${fmt.int(r.eventsPerSecondMin)}-${fmt.int(r.eventsPerSecondMax)}) | ` +
        `${fmt.two(r.cpuSecondsPerMillion)} | ${fmt.int(r.peakRssMiB)} (${fmt.int(r.rssBeforeMiB)}) | ${fmt.two(r.loopSeconds)} | ${fmt.int(r.requests)} | ` +
        `${fmt.int(r.meanBatch)} | ${fmt.int(r.meanMessageBytes)} | ${fmt.int(r.lostMax)} | ${fmt.int(r.duplicatesMax)} | ${notes(r)} |`,
    );
  }
  lines.push('');
  lines.push('| target | events | ratio | goal | met |');
  lines.push('|---|---:|---:|---:|---|');
  for (const t of targets.filter((x) => x.metric !== 'memory')) {
    lines.push(`| ${t.name} | ${fmt.int(t.n)} | ${t.ratio === null ? '-' : `${t.ratio.toFixed(2)}x`} | ${t.op} ${t.limit}x | ${t.pass === null ? '-' : t.pass ? 'yes' : 'no'} |`);
  }
  // Every case of a logger family against that family's local-file baseline (issue 20).
  const vsFile = summary.filter((r) => FILE_BASELINES[r.family] !== undefined && r.case !== FILE_BASELINES[r.family] && row(summary, FILE_BASELINES[r.family], r.n));
  if (vsFile.length) {
    lines.push('');
    lines.push('| vs the local file (same logger, same records) | events | CPU per line | peak RSS | producer loop |');
    lines.push('|---|---:|---:|---:|---:|');
    const x = (v) => (v === null ? '-' : `${v.toFixed(2)}x`);
    for (const r of vsFile) {
      const f = row(summary, FILE_BASELINES[r.family], r.n);
      lines.push(`| ${r.label} / ${f.label} | ${fmt.int(r.n)} | ${x(ratio(r.cpuSecondsPerMillion, f.cpuSecondsPerMillion))} | ${x(ratio(r.peakRssMiB, f.peakRssMiB))} | ${x(ratio(r.loopSeconds, f.loopSeconds))} |`);
    }
    lines.push('');
    lines.push('Targets (issue 20): cwbatch/pino <= 1.25x CPU per line, <= 1.1x peak RSS, <= 1.05x producer loop; cwbatch/winston <= 0.5x CPU per line, <= 1.1x producer loop.');
  }
  if (meta.againstRatios?.length) {
    lines.push('');
    lines.push(
      `This tree's build (head) against ${meta.against.rev} (${meta.against.short}), alternated rep by rep in this run: head/base, ratio of the medians ` +
        '(and the median of the per-rep ratios, with their range). Below 1 is better for CPU, RSS and loop; above 1 for events/s.' +
        (meta.against.dependencies === undefined ? '' : ` The base's build ${meta.against.dependencies.summary}.`),
    );
    lines.push('');
    lines.push('| head / base | events | reps | events/s | CPU per event | peak RSS | log loop |');
    lines.push('|---|---:|---:|---:|---:|---:|---:|');
    const cell = (m) => (m.ratio === null ? '-' : `${m.ratio.toFixed(3)} (${m.paired?.toFixed(3) ?? '-'}; ${m.pairedMin?.toFixed(2) ?? '-'}..${m.pairedMax?.toFixed(2) ?? '-'})`);
    for (const e of meta.againstRatios) {
      lines.push(`| ${e.label} | ${fmt.int(e.n)} | ${e.reps} | ${cell(e.eventsPerSecond)} | ${cell(e.cpuSecondsPerMillion)} | ${cell(e.peakRssMiB)} | ${cell(e.loopSeconds)} |`);
    }
  }
  const mem = targets.filter((x) => x.metric === 'memory');
  if (mem.length) {
    lines.push('');
    lines.push('| memory | events | maxBufferedBytes MiB | event data MiB | RSS before MiB | peak RSS MiB | growth MiB |');
    lines.push('|---|---:|---:|---:|---:|---:|---:|');
    for (const t of mem) {
      lines.push(
        `| ${t.mine} | ${fmt.int(t.n)} | ${fmt.int(t.boundMiB)} | ${fmt.int(t.dataMiB)} | ${fmt.int(t.rssBeforeMiB)} | ${fmt.int(t.peakRssMiB)} | ${fmt.int(t.growthMiB)} |`,
      );
    }
    const probed = mem.filter((t) => t.heap !== undefined);
    if (probed.length) {
      lines.push('');
      lines.push(
        'Heap probe (`core-heap`): right after the burst is logged, the bytes the buffer counts (UTF-8 + 26 per event, buffered and in flight), ' +
          'heapUsed before and after a full GC, and the live heap added since before the first event (after GC) per counted byte.',
      );
      lines.push('');
      lines.push('| probe | events | counted MiB | heapUsed before GC MiB | heapUsed after GC MiB | live growth MiB | live growth / counted | RSS at probe MiB |');
      lines.push('|---|---:|---:|---:|---:|---:|---:|---:|');
      for (const t of probed) {
        const h = t.heap;
        lines.push(
          `| ${t.mine} | ${fmt.int(t.n)} | ${fmt.one(h.countedMiB)} | ${fmt.int(h.heapUsedBeforeGcMiB)} | ${fmt.int(h.heapUsedAfterGcMiB)} | ` +
            `${fmt.one(h.liveGrowthMiB)} | ${h.countedMiB > 0 ? `${(h.liveGrowthMiB / h.countedMiB).toFixed(2)}x` : '-'} | ${fmt.int(h.rssAtProbeMiB)} |`,
        );
      }
    }
  }
  lines.push('');
  return `${lines.join('\n')}\n`;
}

const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Three bar panels (events/s, CPU s per 1M events, peak RSS) for the largest size run. */
export function renderSvg(meta, summary) {
  const n = Math.max(...summary.map((r) => r.n));
  // The --against build's rows are in the tables (head/base), not in the chart.
  const rows = summary.filter((r) => r.n === n && !r.case.endsWith('@base'));
  const panels = [
    { key: 'eventsPerSecond', title: 'events/s delivered (higher is better)', f: fmt.int },
    { key: 'cpuSecondsPerMillion', title: 'CPU s per 1M events (lower is better)', f: fmt.two },
    { key: 'peakRssMiB', title: 'peak RSS, MiB (lower is better)', f: fmt.int },
    { key: 'loopSeconds', title: 'producer loop, s (lower is better)', f: fmt.two },
  ];
  const labelW = 300;
  const panelW = 250;
  const gap = 30;
  const barH = 18;
  const rowH = 26;
  const top = 64;
  const width = labelW + panels.length * (panelW + gap);
  const height = top + rows.length * rowH + 30;
  const color = (r) =>
    r.case === 'baseline' ? '#6b7280' : r.case.endsWith('-file') ? '#16a34a' : r.case.startsWith('core') || r.case.startsWith('cwbatch') ? '#2563eb' : '#ea580c';
  const out = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="100%" height="100%" fill="#ffffff"/>`);
  out.push(
    `<text x="10" y="20" font-size="15" font-weight="bold">cwbatch benchmarks: ${esc(fmt.int(n))} events of ~${esc(fmt.int(median(rows.map((r) => r.meanMessageBytes))))} bytes</text>`,
    `<text x="10" y="38" fill="#374151">${esc(`${meta.date.slice(0, 10)}, Node ${meta.node}, ${meta.machine.nproc} cores, medians; blue: cwbatch, grey: raw SDK, green: local file, orange: other packages`)}</text>`,
  );
  rows.forEach((r, i) => {
    const y = top + i * rowH;
    out.push(`<text x="${labelW - 8}" y="${y + 13}" text-anchor="end">${esc(r.label)}</text>`);
  });
  panels.forEach((p, j) => {
    const x0 = labelW + j * (panelW + gap);
    const max = Math.max(...rows.map((r) => r[p.key] ?? 0), 1e-9);
    out.push(`<text x="${x0}" y="${top - 8}" font-weight="bold">${esc(p.title)}</text>`);
    out.push(`<line x1="${x0}" y1="${top - 4}" x2="${x0}" y2="${top + rows.length * rowH}" stroke="#9ca3af"/>`);
    rows.forEach((r, i) => {
      const y = top + i * rowH;
      const v = r[p.key];
      const w = v === null ? 0 : Math.max(1, ((panelW - 70) * v) / max);
      out.push(`<rect x="${x0}" y="${y}" width="${w.toFixed(1)}" height="${barH}" fill="${color(r)}"/>`);
      out.push(`<text x="${(x0 + w + 4).toFixed(1)}" y="${y + 13}">${esc(v === null ? 'n/a' : p.f(v))}</text>`);
    });
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
