#!/usr/bin/env node
// Stages the image's build context in DIR (after `npx tsc -b`): DIR/Containerfile
// and DIR/rootfs, the tree the image adds to its base in one layer:
//   /opt/tapwire/cni/{tap,macvtap,tc-redirect-tap}  `tapwire cni install --dir`
//   /opt/tapwire/cni/tapwire-lib/                   koffi, which they load on their first syscall
//   /opt/tapwire/thick/{tap,macvtap,tc-redirect-tap} `tapwire cni install --thick`: C
//                                                   forwarders to the daemon's socket
//   /opt/tapwire/bin/tapwire-device-plugin          the device plugin, one bundled file
//   /opt/tapwire/bin/tapwire-cni-daemon             the thick mode's daemon, one bundled file
//   /opt/tapwire/bin/tapwire-lib/                   koffi and the device plugin's api.proto
//   /opt/tapwire/{entrypoint.sh,check-base.mjs}     from deploy/
// then `podman build --build-arg BASE=... DIR` (see README.md).
//
// Nothing of this checkout goes in, and no bundle names it: a bundle finds
// koffi (the native FFI module, trimmed to its loader and this platform's
// binary) and the files our modules open next to themselves in tapwire-lib/
// beside it (packages/cni/src/bundle-runtime.ts). Each directory with
// bundles is self-contained: the entrypoint copies cni/ with its tapwire-lib
// to the node in thin mode.
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const DEPLOY = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(DEPLOY, '..');
const PACKAGES = join(ROOT, 'packages');

const fail = (message) => {
  process.stderr.write(`deploy/build.mjs: ${message}\n`);
  process.exit(1);
};

const out = process.argv[2];
if (out === undefined || process.argv.length > 3) fail('usage: node deploy/build.mjs DIR (a new or empty directory)');
const dir = resolve(out);
if (existsSync(dir) && readdirSync(dir).length > 0) fail(`${dir} is not empty`);
for (const p of ['cli/dist/main.js', 'cni/dist/index.js', 'device-plugin/dist/main.js']) {
  if (!existsSync(join(PACKAGES, p))) fail(`packages/${p} is missing: run npx tsc -b first`);
}
mkdirSync(dir, { recursive: true });
const rootfs = join(dir, 'rootfs');
const app = join(rootfs, 'opt', 'tapwire');

// 1. The CNI plugins, exactly as `tapwire cni install` writes them: the
// bundles (thin: they run on the node with the node's node), and the
// forwarders (thick: compiled here with cc against this machine's libc; they
// run on the node and hand each call to the daemon in the DaemonSet's pod).
const DAEMON_SOCKET = '/run/tapwire/cni.sock';
const install = (extra, sub) => {
  const r = spawnSync(process.execPath, [join(PACKAGES, 'cli', 'bin', 'tapwire.js'), 'cni', 'install', '--dir', join(app, sub), ...extra], { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
  if (r.status !== 0) fail(`tapwire cni install ${extra.join(' ')} failed (exit ${r.status ?? r.signal})`);
  process.stderr.write(r.stdout);
};
install([], 'cni');
install(['--thick', '--socket', DAEMON_SOCKET], 'thick');

// 2. The device plugin and the thick daemon, one file each, by the same
// bundler (fp-ts/es6, the execa shim, koffi from tapwire-lib on first use).
const { bundleExecutable, stageLib } = await import(pathToFileURL(join(PACKAGES, 'cni', 'dist', 'index.js')).href);
const dp = await bundleExecutable({
  entry: {
    contents: "import { run } from './main.js';\nrun(process.argv.slice(2)).then((code) => { process.exitCode = code; });\n",
    resolveDir: join(PACKAGES, 'device-plugin', 'dist'),
  },
  outfile: join(app, 'bin', 'tapwire-device-plugin'),
  title: 'tapwire device plugin (macvtap.network.kubevirt.io)',
});
process.stderr.write(`bundled ${dp.file} (${dp.bytes} bytes)\n`);
const daemon = await bundleExecutable({
  entry: { file: join(PACKAGES, 'cni', 'dist', 'entry', 'daemon.js') },
  outfile: join(app, 'bin', 'tapwire-cni-daemon'),
  title: 'tapwire CNI daemon (thick mode)',
});
process.stderr.write(`bundled ${daemon.file} (${daemon.bytes} bytes)\n`);

// 3. What those two load at run time, beside them: koffi, and api.proto at
// its place in @tapwire/device-plugin (api.js reads ../proto/api.proto).
const lib = stageLib(join(app, 'bin'), [join(PACKAGES, 'device-plugin', 'proto', 'api.proto')]);
process.stderr.write(`staged ${lib.dir} (${lib.bytes} bytes)\n`);
for (const f of ['cni/tap', 'cni/macvtap', 'cni/tc-redirect-tap', 'bin/tapwire-device-plugin', 'bin/tapwire-cni-daemon']) {
  if (readFileSync(join(app, f)).includes(`${ROOT}/`)) fail(`${f} names this checkout (${ROOT}): it would not run elsewhere`);
}

// 4. The entrypoint, and the recipe itself: DIR is the whole build context.
copyFileSync(join(DEPLOY, 'entrypoint.sh'), join(app, 'entrypoint.sh'));
chmodSync(join(app, 'entrypoint.sh'), 0o755);
copyFileSync(join(DEPLOY, 'check-base.mjs'), join(app, 'check-base.mjs'));
copyFileSync(join(DEPLOY, 'Containerfile'), join(dir, 'Containerfile'));
process.stderr.write(`staged ${dir}\n`);
