#!/usr/bin/env node
/**
 * The largest classes and functions (methods, constructors, accessors, arrow functions) under a
 * source folder, in lines from their first token to their closing brace (leading doc comments not
 * counted). Issue 14 reports these before and after. Usage: node scripts/code-size.mjs [dir] [top]
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';

const root = process.argv[2] ?? 'src';
const top = Number(process.argv[3] ?? 5);
const files = (function walk(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(dir, e.name)) : e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [join(dir, e.name)] : [],
  );
})(root);

const classes = [];
const functions = [];
for (const file of files) {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const lines = (node) => source.getLineAndCharacterOfPosition(node.getEnd()).line - source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1;
  const where = (node) => `${relative('.', file)}:${source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1}`;
  const nameOf = (node) => {
    if (node.name !== undefined) return node.name.getText(source);
    if (ts.isConstructorDeclaration(node)) return 'constructor';
    const parent = node.parent;
    if (parent !== undefined && ts.isVariableDeclaration(parent)) return parent.name.getText(source);
    if (parent !== undefined && ts.isPropertyAssignment(parent)) return parent.name.getText(source);
    return '(anonymous)';
  };
  const visit = (node) => {
    if (ts.isClassDeclaration(node) || ts.isClassExpression(node)) classes.push({ name: nameOf(node), lines: lines(node), at: where(node) });
    if (
      (ts.isFunctionDeclaration(node) || ts.isMethodDeclaration(node) || ts.isConstructorDeclaration(node) || ts.isGetAccessor(node) ||
        ts.isSetAccessor(node) || ts.isArrowFunction(node) || ts.isFunctionExpression(node)) &&
      node.body !== undefined
    ) {
      functions.push({ name: nameOf(node), lines: lines(node), at: where(node) });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
}
const show = (title, list) => {
  console.log(title);
  for (const x of list.sort((a, b) => b.lines - a.lines).slice(0, top)) console.log(`  ${String(x.lines).padStart(5)}  ${x.name}  (${x.at})`);
};
show(`largest classes under ${root}:`, classes);
show(`largest functions under ${root}:`, functions);
