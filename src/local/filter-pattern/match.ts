/**
 * Evaluates a parsed filter pattern against a log event's message. Nothing here throws: a
 * message that is not what the pattern expects (not JSON, too few fields) simply does not match.
 * Terms are found with `String.prototype.includes`, never through a regex built from them.
 */
import { readJson, type JsonNode } from './json.js';
import type { Ast, Expr, Op, Slot, Step, Term, Value } from './parser.js';

/** What a comparison sees of the thing it compares: its text for string values, its number for numeric ones. */
interface Leaf {
  readonly text: string | undefined;
  readonly num: number | undefined;
}

const NUMBER_TEXT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

function compareNumbers(a: number, op: Op, b: number): boolean {
  switch (op) {
    case '=': return a === b;
    case '!=': return a !== b;
    case '<': return a < b;
    case '>': return a > b;
    case '<=': return a <= b;
    case '>=': return a >= b;
  }
}

function stringMatches(text: string, v: Extract<Value, { k: 'string' }>): boolean {
  if (v.anyBefore && v.anyAfter) return text.includes(v.core);
  if (v.anyBefore) return text.endsWith(v.core);
  if (v.anyAfter) return text.startsWith(v.core);
  return text === v.core;
}

/** One comparison of a leaf with a value (`!=` needs a leaf of the right kind to be true, as `=` does). */
export function compareLeaf(leaf: Leaf, op: Op, value: Value): boolean {
  switch (value.k) {
    case 'any':
      return op === '=' && (leaf.text !== undefined || leaf.num !== undefined);
    case 'number':
      return leaf.num !== undefined && compareNumbers(leaf.num, op, value.value);
    case 'string':
      if (leaf.text === undefined) return false;
      return stringMatches(leaf.text, value) === (op === '=');
    case 'regex':
      if (leaf.text === undefined) return false;
      return value.re.test(leaf.text) === (op === '=');
  }
}

// ---------------------------------------------------------------- terms

function termFound(message: string, t: Term): boolean {
  return t.text === undefined || message.includes(t.text);
}

/**
 * Terms as the user guide describes them: every required term present, no excluded term
 * present; `?` terms are alternatives, "ignored" once the pattern also has required or
 * excluded terms.
 */
export function matchTerms(terms: readonly Term[], message: string): boolean {
  let optional = false;
  let anyOptional = false;
  let other = false;
  for (const t of terms) {
    if (t.mode === '?') {
      anyOptional = true;
      if (!optional && termFound(message, t)) optional = true;
      continue;
    }
    other = true;
    if (termFound(message, t) !== (t.mode === '')) return false;
  }
  return other || !anyOptional || optional;
}

// ---------------------------------------------------------------- JSON

function children(n: JsonNode): readonly JsonNode[] {
  if (n.t === 'array') return n.items;
  if (n.t === 'object') return [...n.fields.values()];
  return [];
}

/** Every node a selector reaches (more than one only through a wildcard). */
export function resolveSelector(root: JsonNode, steps: readonly Step[]): JsonNode[] {
  let nodes: JsonNode[] = [root];
  for (const step of steps) {
    const next: JsonNode[] = [];
    for (const n of nodes) {
      if (step.k === 'any') {
        for (const child of children(n)) next.push(child); // no spread: arrays may be longer than the argument limit
      }
      else if (step.k === 'field') {
        if (n.t === 'object') {
          const v = n.fields.get(step.name);
          if (v !== undefined) next.push(v);
        }
      } else if (n.t === 'array') {
        const v = n.items[step.index];
        if (v !== undefined) next.push(v);
      }
    }
    if (next.length === 0) return next;
    nodes = next;
  }
  return nodes;
}

/** Strings and numbers are value nodes; a selector at an object, array, boolean or null compares false. */
function jsonLeaf(n: JsonNode): Leaf | undefined {
  if (n.t === 'string') return { text: n.value, num: undefined };
  if (n.t === 'number') return { text: n.text, num: n.value };
  return undefined;
}

function evalJson(e: Expr<readonly Step[]>, root: JsonNode): boolean {
  switch (e.k) {
    case 'and':
      return evalJson(e.left, root) && evalJson(e.right, root);
    case 'or':
      return evalJson(e.left, root) || evalJson(e.right, root);
    case 'notExists':
      return resolveSelector(root, e.subject).length === 0;
    case 'is':
      return resolveSelector(root, e.subject).some((n) =>
        e.what === 'NULL' ? n.t === 'null' : n.t === 'boolean' && n.value === (e.what === 'TRUE'),
      );
    case 'cmp':
      return resolveSelector(root, e.subject).some((n) => {
        const leaf = jsonLeaf(n); // `= *` too: "Value nodes can be strings or numbers" (not null, not booleans)
        return leaf !== undefined && compareLeaf(leaf, e.op, e.value);
      });
  }
}

/** Reads a message as a JSON object or array (what JSON patterns apply to), or `undefined`. */
export function readJsonMessage(message: string): JsonNode | undefined {
  const start = message.search(/\S/);
  const first = message[start];
  if (first !== '{' && first !== '[') return undefined;
  return readJson(message);
}

// ---------------------------------------------------------------- space-delimited

/** A field of a space-delimited message: its content, and where its raw text starts. */
interface Field {
  readonly text: string;
  readonly start: number;
}

/**
 * Splits a message into space-delimited fields: runs of whitespace separate fields; what is
 * between double quotes or square brackets is one field, without them.
 */
export function splitFields(message: string): Field[] {
  const out: Field[] = [];
  const n = message.length;
  let i = 0;
  for (;;) {
    while (i < n && /\s/.test(message[i]!)) i++;
    if (i >= n) return out;
    const start = i;
    const open = message[i];
    const close = open === '"' ? '"' : open === '[' ? ']' : undefined;
    if (close !== undefined) {
      const end = message.indexOf(close, i + 1);
      if (end >= 0) {
        out.push({ text: message.slice(i + 1, end), start });
        i = end + 1;
        continue;
      }
    }
    while (i < n && !/\s/.test(message[i]!)) i++;
    out.push({ text: message.slice(start, i), start });
  }
}

/**
 * Assigns the message's fields to the pattern's slots: without an ellipsis the slots take the
 * fields in order and the last slot takes the rest of the line (so `[w1=ERROR, w2]` matches any
 * line whose first word is ERROR); with one, the slots before it take the first fields, those
 * after it the last fields.
 *
 * @returns field values by slot name and by `$N` position, or `undefined` when there are too few fields.
 */
export function assignFields(slots: readonly Slot[], ellipsis: number, message: string): Map<string, string> | undefined {
  const fields = splitFields(message);
  const named = new Map<string, string>();
  fields.forEach((f, i) => named.set(`$${i + 1}`, f.text));
  const put = (slot: Slot | undefined, value: string, position: number) => {
    if (slot?.k !== 'field') return;
    named.set(`$${position}`, value);
    if (slot.name !== undefined) named.set(slot.name, value);
  };
  if (ellipsis < 0) {
    if (fields.length < slots.length) return undefined;
    for (let i = 0; i < slots.length - 1; i++) put(slots[i], fields[i]!.text, i + 1);
    const last = slots.length - 1;
    const rest = fields.length === slots.length ? fields[last]!.text : message.slice(fields[last]!.start).trimEnd();
    put(slots[last], rest, slots.length);
    return named;
  }
  const before = ellipsis;
  const after = slots.length - ellipsis - 1;
  if (fields.length < before + after) return undefined;
  for (let i = 0; i < before; i++) put(slots[i], fields[i]!.text, i + 1);
  for (let j = 0; j < after; j++) {
    const f = fields.length - after + j;
    put(slots[ellipsis + 1 + j], fields[f]!.text, f + 1);
  }
  return named;
}

function evalDelimited(e: Expr<string>, fields: ReadonlyMap<string, string>): boolean {
  switch (e.k) {
    case 'and':
      return evalDelimited(e.left, fields) && evalDelimited(e.right, fields);
    case 'or':
      return evalDelimited(e.left, fields) || evalDelimited(e.right, fields);
    case 'cmp': {
      const text = fields.get(e.subject);
      if (text === undefined) return false;
      return compareLeaf({ text, num: NUMBER_TEXT.test(text) ? Number(text) : undefined }, e.op, e.value);
    }
    default:
      return false; // IS / NOT EXISTS are JSON-only; the parser never produces them here
  }
}

// ---------------------------------------------------------------- all forms

/** True when `message` matches the parsed pattern. */
export function matchAst(ast: Ast, message: string): boolean {
  switch (ast.k) {
    case 'all':
      return true;
    case 'terms':
      return matchTerms(ast.terms, message);
    case 'regex':
      return ast.re.test(message);
    case 'json': {
      const root = readJsonMessage(message);
      return root !== undefined && evalJson(ast.expr, root);
    }
    case 'delimited': {
      const fields = assignFields(ast.slots, ast.ellipsis, message);
      if (fields === undefined) return false;
      return ast.slots.every((s) => s.k !== 'field' || s.cond === undefined || evalDelimited(s.cond, fields));
    }
  }
}
