// deploy/build.mjs's context: no bundle names this checkout (a bundler change
// that makes a bundle reach a checkout file fails here, not in a cluster);
// what they load at run time is staged in tapwire-lib/ beside them.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { sh } from '@tapwire/testkit';
import { DEFAULT_SOCKET } from '../../cni/dist/index.js';
import { DEPLOY_DIR, REPO } from './paths.js';

const build = async (dir: string): Promise<string> => sh([process.execPath, join(DEPLOY_DIR, 'build.mjs'), dir]);

test('the context: the CNI bundles and forwarders, the device plugin and daemon bundles with their tapwire-lib, the entrypoint; no bundle names this checkout', async (t) => {
  const tmp = mkdtempSync(join(tmpdir(), 'tapwire-context-'));
  t.teardown(() => rmSync(tmp, { recursive: true, force: true }));
  const context = join(tmp, 'context');
  await build(context);
  const app = join(context, 'rootfs', 'opt', 'tapwire');
  t.deepEqual(readdirSync(context).sort(), ['Containerfile', 'rootfs']);
  t.deepEqual(readdirSync(app).sort(), ['bin', 'check-base.mjs', 'cni', 'entrypoint.sh', 'thick']);
  t.deepEqual(readdirSync(join(app, 'cni')).sort(), ['macvtap', 'tap', 'tapwire-lib', 'tc-redirect-tap']);
  t.deepEqual(readdirSync(join(app, 'thick')).sort(), ['macvtap', 'tap', 'tc-redirect-tap']);
  t.deepEqual(readdirSync(join(app, 'bin')).sort(), ['tapwire-cni-daemon', 'tapwire-device-plugin', 'tapwire-lib']);
  for (const f of ['cni/tap', 'thick/tap', 'bin/tapwire-device-plugin', 'bin/tapwire-cni-daemon', 'entrypoint.sh']) t.is(statSync(join(app, f)).mode & 0o777, 0o755, f);
  // The forwarders call the socket the DaemonSet's cni-daemon serves.
  t.true(readFileSync(join(app, 'thick', 'tap')).includes(DEFAULT_SOCKET));

  for (const f of ['cni/tap', 'cni/macvtap', 'cni/tc-redirect-tap', 'bin/tapwire-device-plugin', 'bin/tapwire-cni-daemon']) {
    t.false(readFileSync(join(app, f)).includes(REPO), `${f} names ${REPO}`);
  }
  t.false(existsSync(join(context, 'rootfs', REPO)), 'nothing is staged at checkout paths');
  // What api.js reads as ../proto/api.proto, at its place in its package.
  t.true(existsSync(join(app, 'bin', 'tapwire-lib', 'packages', '@tapwire', 'device-plugin', 'proto', 'api.proto')));
  // The staged koffi alone loads (its package.json and this platform's binary are enough).
  for (const dir of ['cni', 'bin']) {
    const koffi = join(app, dir, 'tapwire-lib', 'koffi', 'index.js');
    t.is(await sh([process.execPath, '-e', `const k = require(${JSON.stringify(koffi)}); process.stdout.write(typeof k.load('libc.so.6').func('int getpid()')())`]), 'number', dir);
  }
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
