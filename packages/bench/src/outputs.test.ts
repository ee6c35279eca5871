// A bench run must not change the repo unless asked (--write): its report,
// data and chart go to a temp directory it names. Checked on the write step
// with the kept results as the fixture, and on a real run of the smallest
// configuration through the command itself, with the repo mounted read-only
// for it: a write anywhere in the checkout fails the run. (The tree is shared
// with people editing it, so a before/after `git status` of the whole tree
// around a seconds-long run would blame the bench for their edits.)
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import test, { type ExecutionContext } from 'ava';
import { execa } from 'execa';
import { privateMountNs, requireCommand, requireRoot } from '@tapwire/testkit';
import { DOCS_DIR, OUTPUT_FILES, writeRunOutputs } from './outputs.js';
import type { BenchResults } from './results.js';

/** This file is packages/bench/dist/outputs.test.js. */
const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const MAIN = fileURLToPath(new URL('./main.js', import.meta.url));

/**
 * The tracked tree's status, docs/bench's (where the bench used to write),
 * and the mtime of every file in docs/bench (a rewrite with the same bytes
 * shows in no status).
 */
const repoState = async (): Promise<{ tracked: string; docsBenchStatus: string; docsBench: Record<string, number> }> => {
  const git = async (args: readonly string[]): Promise<string> => String((await execa('git', ['-C', REPO, ...args])).stdout);
  return {
    tracked: await git(['status', '--porcelain', '--untracked-files=no']),
    docsBenchStatus: await git(['status', '--porcelain', '--untracked-files=all', '--', 'docs/bench']),
    docsBench: Object.fromEntries(readdirSync(DOCS_DIR).map((f) => [f, statSync(join(DOCS_DIR, f)).mtimeMs])),
  };
};

const tempDir = (t: { teardown: (f: () => void) => void }, prefix: string): string => {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
};

const outside = (dir: string): boolean => relative(REPO, dir).startsWith('..');

// The kept run is our own output; its shape is what BenchResults says.
const keptResults = (): BenchResults => JSON.parse(readFileSync(join(DOCS_DIR, 'results.json'), 'utf8')) as BenchResults;

test.serial('write step without --write: the three files in a new temp dir, nothing in the repo', async (t) => {
  const results = keptResults();
  const parent = tempDir(t, 'tw-bench-out-');
  const before = await repoState();
  const dir = writeRunOutputs(results, { write: false, scratchParent: parent });
  t.deepEqual(await repoState(), before);
  t.true(dir.startsWith(`${parent}/tapwire-bench-run-`), dir);
  t.deepEqual(readdirSync(dir).sort(), [...OUTPUT_FILES].sort());
  t.deepEqual(JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')), results);
  t.true(readFileSync(join(dir, 'scale.svg'), 'utf8').startsWith('<svg '));
  t.regex(readFileSync(join(dir, 'RESULTS.md'), 'utf8'), /to a temp directory: `--write` keeps a run in docs\/bench/);
  // Two runs never share (or overwrite) a directory.
  t.not(writeRunOutputs(results, { write: false, scratchParent: parent }), dir);
});

test.serial('write step with --write: the three files in the kept-results dir', (t) => {
  const docs = tempDir(t, 'tw-bench-docs-');
  t.is(writeRunOutputs(keptResults(), { write: true, docsDir: docs }), docs);
  t.deepEqual(readdirSync(docs).sort(), [...OUTPUT_FILES].sort());
  t.regex(readFileSync(join(docs, 'RESULTS.md'), 'utf8'), /^Written by `pnpm bench -- --write`/m);
});

/**
 * Runs commands in a mount namespace of their own where the checkout is
 * mounted read-only (everything else, /tmp and /run/netns included, as on
 * the host). Nothing made in it is seen outside; it ends with the test.
 */
const withReadOnlyRepo = async (t: ExecutionContext) => {
  const ns = await privateMountNs(t);
  await execa('nsenter', ['-t', ns.pid, '-m', 'mount', '--bind', '-o', 'ro', REPO, REPO]);
  return ns.run;
};

test.serial('pnpm bench at its smallest (1 link, 1 run, no boot, no CNI) runs with the checkout read-only and says where its report is', async (t) => {
  if (!requireRoot(t) || !requireCommand(t, 'unshare') || !requireCommand(t, 'nsenter')) return;
  const inNs = await withReadOnlyRepo(t);
  // The mount really is read-only there: the check below would mean nothing otherwise.
  const probe = await inNs(['touch', join(REPO, '.cache', 'tw-bench-ro-probe')], { timeout: 10_000, env: {} });
  t.regex(String(probe.stderr), /Read-only file system/, 'a write into the checkout fails in the namespace');
  const parent = tempDir(t, 'tw-bench-run-');
  const before = await repoState();
  // TMPDIR: the run's report dir lands in a dir this test removes.
  const r = await inNs(['node', MAIN, '--sizes', '1', '--runs', '1', '--no-boot', '--no-cni', '--json'], { timeout: 300_000, env: { TMPDIR: parent } });
  t.is(r.exitCode, 0, String(r.stderr));
  const after = await repoState();
  // Nobody else writes docs/bench: these hold whatever else happens in the tree.
  t.is(after.docsBenchStatus, before.docsBenchStatus, 'git status --porcelain of docs/bench is unchanged');
  t.deepEqual(after.docsBench, before.docsBench, 'no file in docs/bench was rewritten');
  const dir = /RESULTS\.md, results\.json and scale\.svg are in (\S+) /.exec(String(r.stderr))?.[1];
  t.truthy(dir, String(r.stderr));
  if (dir === undefined) return;
  t.true(outside(dir) && dir.startsWith(parent), dir);
  t.deepEqual(readdirSync(dir).sort(), [...OUTPUT_FILES].sort());
  t.deepEqual(JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')), JSON.parse(String(r.stdout)), 'the report dir holds the run printed');
  t.deepEqual(readdirSync(parent), [basename(dir)], "the run's own temp dir is gone, its report dir stays");
});
