// Run at image build time (Containerfile) inside the base image: does it have
// what the bundles run? node >= 20, iproute2's ip (JSON output and -batch,
// which BusyBox's ip lacks) and tc (the thick daemon runs the plugins here),
// util-linux's nsenter (--net=FILE), looked up
// on PATH as the device plugin looks them up (a BusyBox sh would run its own
// applets instead, so the check is not a shell one).
//   node check-base.mjs                     problems on stderr, exit 1 if any
//   node check-base.mjs --missing-packages  the Debian packages to install, on stdout
import { spawnSync } from 'node:child_process';

const works = (argv, input) => {
  const r = spawnSync(argv[0], argv.slice(1), { input: input ?? '', encoding: 'utf8' });
  return r.status === 0 ? r.stdout : undefined;
};

const ipJson = () => {
  const out = works(['ip', '-j', 'link', 'show']);
  try {
    return out !== undefined && Array.isArray(JSON.parse(out));
  } catch {
    return false;
  }
};

const checks = [
  { what: 'node >= 20', pkg: undefined, ok: () => Number(process.versions.node.split('.')[0]) >= 20 },
  { what: "iproute2's ip (ip -j link show, ip -batch -)", pkg: 'iproute2', ok: () => ipJson() && works(['ip', '-batch', '-'], 'link show dev lo\n') !== undefined },
  { what: "iproute2's tc (tc -j qdisc show)", pkg: 'iproute2', ok: () => works(['tc', '-j', 'qdisc', 'show', 'dev', 'lo']) !== undefined },
  { what: "util-linux's nsenter (nsenter --version)", pkg: 'util-linux', ok: () => /util-linux/.test(works(['nsenter', '--version']) ?? '') },
];

const failed = checks.filter((c) => !c.ok());
if (process.argv[2] === '--missing-packages') {
  process.stdout.write([...new Set(failed.flatMap((c) => (c.pkg === undefined ? [] : [c.pkg])))].join(' '));
} else {
  for (const c of failed) process.stderr.write(`tapwire image: the base lacks ${c.what}\n`);
  process.exitCode = failed.length === 0 ? 0 : 1;
}
