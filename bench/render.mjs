#!/usr/bin/env node
/**
 * Re-renders the markdown table and SVG chart of a results file without running anything:
 * `node bench/render.mjs bench/results/full.json` (writes full.md and full.svg beside it).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { renderMarkdown, renderSvg } from './lib/report.mjs';

const file = process.argv[2];
if (file === undefined) {
  console.error('usage: node bench/render.mjs bench/results/<name>.json');
  process.exit(2);
}
const { meta, summary, targets } = JSON.parse(readFileSync(file, 'utf8'));
const stem = file.replace(/\.json$/, '');
writeFileSync(`${stem}.md`, renderMarkdown(meta, summary, targets));
writeFileSync(`${stem}.svg`, renderSvg(meta, summary));
console.log(renderMarkdown(meta, summary, targets));
