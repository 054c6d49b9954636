#!/usr/bin/env node
/**
 * Draws bench:fleet's chart again from a results file: `node bench/lib/fleet-chart.mjs
 * bench/results/fleet.json [out.svg]` (default: the .json's name with .svg). The chart of a run is
 * written by bench/fleet.mjs itself; this is for redrawing one after the chart's code changed.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { renderSvg } from './fleet-report.mjs';

const [input, output = input?.replace(/\.json$/, '.svg')] = process.argv.slice(2);
if (input === undefined || output === input) throw new Error('usage: node bench/lib/fleet-chart.mjs RESULTS.json [OUT.svg]');
const results = JSON.parse(readFileSync(input, 'utf8'));
const modes = results.overload.filter((r) => r.run === 'overload');
const quota = modes[0]?.quota;
const warmupS = modes[0] === undefined ? undefined : modes[0].durationS - modes[0].windowS;
writeFileSync(output, `${renderSvg(modes, `bench:fleet — ${results.meta}`, { quota, warmupS })}\n`);
