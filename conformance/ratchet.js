#!/usr/bin/env node
// Ratchet for the conformance suite.
//
//   node ratchet.js check  <results.tap> <passing.txt> [--allow-missing]
//   node ratchet.js update <results.tap> <passing.txt> [--allow-missing]
//
// Reads the TAP output of `node --test` (nested subtests are named
// "parent > child"), and:
//   check:  every name listed in passing.txt must have passed in this run.
//           Prints nothing and exits 0 when so; otherwise names every missing
//           or failing test and exits 1.
//   update: adds every test that passed in this run to passing.txt (sorted,
//           de-duplicated). Never removes a name; names that are listed but did
//           not pass are reported (and make the exit status 1).
//
// --allow-missing: listed names that did not run at all are not an error
// (used by run.sh when only some test files were selected).
//
// passing.txt: one test name per line; blank lines and lines starting with
// '#' are ignored.

import { readFileSync, writeFileSync, existsSync } from 'node:fs';

function unescapeTap(s) {
  // node's TAP reporter escapes '\', '#', newlines and tabs in names.
  return s.replace(/\\(.)/g, (_, c) => ({ n: '\n', t: '\t', r: '\r' })[c] ?? c);
}

/** Parse TAP into Map(name -> 'pass' | 'fail' | 'skip'). */
export function parseTap(text) {
  const results = new Map();
  const stack = [];
  for (const line of text.split('\n')) {
    let m = /^( *)# Subtest: (.*)$/.exec(line);
    if (m) {
      const level = m[1].length / 4;
      stack.length = level;
      stack[level] = unescapeTap(m[2]);
      continue;
    }
    m = /^( *)(ok|not ok) \d+ - (.*)$/.exec(line);
    if (!m) continue;
    const level = m[1].length / 4;
    let rest = m[3];
    let directive = '';
    // The first unescaped " # " starts a directive (SKIP / TODO).
    const d = /^((?:[^#\\]|\\.)*?) # (SKIP|TODO)\b.*$/i.exec(rest);
    if (d) {
      rest = d[1];
      directive = d[2].toUpperCase();
    }
    const own = unescapeTap(rest);
    stack.length = level;
    stack[level] = own;
    const name = stack.slice(0, level + 1).join(' > ');
    let status = m[2] === 'ok' ? 'pass' : 'fail';
    if (directive) status = 'skip';
    const prev = results.get(name);
    // A duplicated name only counts as passing if every occurrence passed.
    if (prev && prev !== 'pass') status = prev;
    results.set(name, status);
    stack.length = level;
  }
  return results;
}

function readList(file) {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .map((l) => l.replace(/\r$/, ''))
    .filter((l) => l.trim() !== '' && !l.startsWith('#'));
}

function main() {
  const args = process.argv.slice(2);
  const allowMissing = args.includes('--allow-missing');
  const [mode, tapFile, listFile] = args.filter((a) => a !== '--allow-missing');
  if (!['check', 'update'].includes(mode) || !tapFile || !listFile) {
    console.error('usage: node ratchet.js check|update <results.tap> <passing.txt> [--allow-missing]');
    process.exit(2);
  }
  const results = parseTap(existsSync(tapFile) ? readFileSync(tapFile, 'utf8') : '');
  const listed = readList(listFile);
  const problems = [];
  for (const name of listed) {
    const st = results.get(name);
    if (st === undefined && allowMissing) continue;
    if (st !== 'pass') {
      problems.push(`  ${st === undefined ? 'MISSING (not run)' : st === 'skip' ? 'SKIPPED' : 'FAILED'}: ${name}`);
    }
  }

  if (mode === 'update') {
    const set = new Set(listed);
    let added = 0;
    for (const [name, st] of results) {
      if (st === 'pass' && !name.includes('\n') && !set.has(name)) {
        set.add(name);
        added += 1;
      }
    }
    const header = [
      '# Conformance ratchet: every test named here must pass (conformance/run.sh checks it).',
      '# The list only grows; regenerate with: conformance/run.sh --update-passing',
    ];
    const names = [...set].sort();
    writeFileSync(listFile, header.concat(names).join('\n') + '\n');
    console.error(`ratchet: ${added} name(s) added to ${listFile} (${names.length} total)`);
  }

  if (problems.length > 0) {
    console.error(`ratchet: ${problems.length} test(s) listed in passing.txt did not pass:`);
    console.error(problems.join('\n'));
    process.exit(1);
  }
}

main();
