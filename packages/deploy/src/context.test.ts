// deploy/build.mjs's context: what the bundles open by this checkout's paths
// is exactly what it stages at those paths (a bundler change that makes a
// bundle reach another checkout file fails here, not in a cluster).
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { sh } from '@tapwire/testkit';
import { DEFAULT_SOCKET } from '../../cni/dist/index.js';
import { DEPLOY_DIR, REPO } from './paths.js';

const build = async (dir: string): Promise<string> => sh([process.execPath, join(DEPLOY_DIR, 'build.mjs'), dir]);

test('the context: the CNI bundles and forwarders, the device plugin and daemon bundles, the entrypoint; and every checkout path a bundle names is staged', async (t) => {
  const tmp = mkdtempSync(join(tmpdir(), 'tapwire-context-'));
  t.teardown(() => rmSync(tmp, { recursive: true, force: true }));
  const context = join(tmp, 'context');
  await build(context);
  const app = join(context, 'rootfs', 'opt', 'tapwire');
  t.deepEqual(readdirSync(context).sort(), ['Containerfile', 'rootfs']);
  t.deepEqual(readdirSync(app).sort(), ['bin', 'check-base.mjs', 'cni', 'entrypoint.sh', 'thick']);
  t.deepEqual(readdirSync(join(app, 'cni')).sort(), ['macvtap', 'tap', 'tc-redirect-tap']);
  t.deepEqual(readdirSync(join(app, 'thick')).sort(), ['macvtap', 'tap', 'tc-redirect-tap']);
  t.deepEqual(readdirSync(join(app, 'bin')).sort(), ['tapwire-cni-daemon', 'tapwire-device-plugin']);
  for (const f of ['cni/tap', 'thick/tap', 'bin/tapwire-device-plugin', 'bin/tapwire-cni-daemon', 'entrypoint.sh']) t.is(statSync(join(app, f)).mode & 0o777, 0o755, f);
  // The forwarders call the socket the DaemonSet's cni-daemon serves.
  t.true(readFileSync(join(app, 'thick', 'tap')).includes(DEFAULT_SOCKET));

  const named = new Set<string>();
  const escaped = REPO.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  for (const f of ['cni/tap', 'cni/macvtap', 'cni/tc-redirect-tap', 'bin/tapwire-device-plugin', 'bin/tapwire-cni-daemon']) {
    for (const m of readFileSync(join(app, f), 'utf8').matchAll(new RegExp(`"(?:file://)?(${escaped}[^"]*)"`, 'g'))) named.add(`${m[1]?.slice(REPO.length)}`);
  }
  // koffi's loader (the bundler's lazy require), and the module URL api.js
  // reads ../proto/api.proto against.
  const koffi = [...named].find((p) => /node_modules\/\.pnpm\/koffi@[^/]+\/node_modules\/koffi\/index\.js$/.test(p));
  t.deepEqual([...named].sort(), [koffi, 'packages/device-plugin/dist/api.js'].sort());
  const staged = (p: string): boolean => existsSync(join(context, 'rootfs', REPO, p));
  t.true(koffi !== undefined && staged(koffi), 'koffi is staged where the bundles require it');
  t.true(staged('packages/device-plugin/proto/api.proto'), 'api.proto is staged where api.js looks');
  // The staged koffi alone loads (its package.json and this platform's binary are enough).
  t.is(await sh([process.execPath, '-e', `const k = require(${JSON.stringify(join(context, 'rootfs', REPO, koffi ?? ''))}); process.stdout.write(typeof k.load('libc.so.6').func('int getpid()')())`]), 'number');
});

test('build.mjs refuses a non-empty directory, and says its usage without one', async (t) => {
  const tmp = mkdtempSync(join(tmpdir(), 'tapwire-context-'));
  t.teardown(() => rmSync(tmp, { recursive: true, force: true }));
  writeFileSync(join(tmp, 'x'), '');
  const e = await t.throwsAsync(build(tmp));
  t.regex(e?.message ?? '', /deploy\/build\.mjs: .* is not empty/);
  const usage = await t.throwsAsync(sh([process.execPath, join(DEPLOY_DIR, 'build.mjs')]));
  t.regex(usage?.message ?? '', /usage: node deploy\/build\.mjs DIR/);
});
