import { parseArgs, type ParseArgsConfig } from 'node:util';
import * as E from 'fp-ts/lib/Either.js';
import { DEFAULT_SOCKET, describeForwarderError, describeResourceError, discoverResources, installForwarders, installPlugins, measureCniAdd, parseMacvtapResources, serveUntilSignal } from '@tapwire/cni';
import { resolveNetns } from '@tapwire/sys';
import { usage, type CliError } from '../cli-error.js';
import type { Output } from '../output.js';

export const CNI_HELP = `tapwire cni install --dir DIR [--thick] | daemon --socket PATH | measure [--rounds N] [--json] | macvtap-resources [--conf JSON] [--json]
  install: write the CNI plugins tap, macvtap and tc-redirect-tap (one bundled
  executable each) into DIR, e.g. /opt/cni/bin. --thick [--socket PATH]:
  write small C forwarders instead (compiled with cc), which hand each call
  to the daemon on PATH (default ${DEFAULT_SOCKET}; $TAPWIRE_CNI_SOCKET
  overrides it per call) and answer code 11 (try again later) while it is down.
  daemon: serve the thick mode's calls in this process on the unix socket
  (mode 0600) until SIGTERM/SIGINT; calls run in parallel, one container's
  calls one after the other. Run it in the host netns the plugins should see.
  measure: time ADD of our plugins against Debian's ptp + host-local (root).
  macvtap-resources: the device-plugin resources a DP_MACVTAP_CONF gives
  (--conf, else $DP_MACVTAP_CONF, else []; [] = every physical link or bond here).`;

const parse = (sub: string, argv: readonly string[], options: NonNullable<ParseArgsConfig['options']>) => {
  try {
    return E.right(parseArgs({ args: [...argv], allowPositionals: false, options }));
  } catch (e) {
    return E.left(usage(`cni ${sub}: ${(e as Error).message}\n${CNI_HELP}`));
  }
};

const install = async (argv: readonly string[], io: Output): Promise<E.Either<CliError, void>> => {
  const p = parse('install', argv, { dir: { type: 'string' }, thick: { type: 'boolean', default: false }, socket: { type: 'string' } });
  if (E.isLeft(p)) return p;
  const dir = p.right.values['dir'];
  if (typeof dir !== 'string' || dir === '') return E.left(usage(`cni install: --dir DIR is required\n${CNI_HELP}`));
  const socket = p.right.values['socket'];
  if (p.right.values['thick'] !== true && socket !== undefined) return E.left(usage(`cni install: --socket goes with --thick\n${CNI_HELP}`));
  if (p.right.values['thick'] === true) {
    const written = installForwarders(dir, typeof socket === 'string' ? socket : DEFAULT_SOCKET);
    if (E.isLeft(written)) return E.left({ _tag: 'Failed', message: `cni install --thick: ${describeForwarderError(written.left)}` });
    io.out(written.right.map((w) => `installed ${w.file} (forwarder, ${w.bytes} bytes)`).join('\n'));
    return E.right(undefined);
  }
  try {
    const written = await installPlugins(dir);
    io.out(written.map((w) => `installed ${w.file} (${w.bytes} bytes)`).join('\n'));
    return E.right(undefined);
  } catch (e) {
    return E.left({ _tag: 'Failed', message: `cni install: ${(e as Error).message}` });
  }
};

const measure = async (argv: readonly string[], io: Output): Promise<E.Either<CliError, void>> => {
  const p = parse('measure', argv, { rounds: { type: 'string', default: '10' }, json: { type: 'boolean', default: false } });
  if (E.isLeft(p)) return p;
  const rounds = String(p.right.values['rounds']);
  if (!/^[1-9][0-9]{0,3}$/.test(rounds)) return E.left(usage(`cni measure: --rounds must be an integer from 1 to 9999, got ${JSON.stringify(rounds)}`));
  try {
    const m = await measureCniAdd({ rounds: Number(rounds) });
    if (p.right.values['json'] === true) io.out(JSON.stringify(m, null, 2));
    else io.out([`node startup: ${m.nodeStartup.medianMs} ms median`, ...m.timings.map((t) => `${t.scenario}: ${t.medianMs} ms median (${t.minMs}-${t.maxMs}, ${m.rounds} rounds)`)].join('\n'));
    return E.right(undefined);
  } catch (e) {
    return E.left({ _tag: 'Failed', message: `cni measure: ${(e as Error).message}` });
  }
};

const macvtapResources = async (argv: readonly string[], io: Output): Promise<E.Either<CliError, void>> => {
  const p = parse('macvtap-resources', argv, { conf: { type: 'string' }, json: { type: 'boolean', default: false } });
  if (E.isLeft(p)) return p;
  const conf = p.right.values['conf'];
  const text = typeof conf === 'string' ? conf : (process.env['DP_MACVTAP_CONF'] ?? '[]');
  const parsed = parseMacvtapResources(text);
  if (E.isLeft(parsed)) return E.left(usage(`cni macvtap-resources: ${parsed.left.problems.join('; ')}`));
  let resources = parsed.right;
  if (resources.length === 0) {
    const host = resolveNetns(`/proc/${process.pid}/ns/net`);
    if (E.isLeft(host)) return host;
    const found = await discoverResources(host.right)();
    if (E.isLeft(found)) return E.left({ _tag: 'Failed', message: `cni macvtap-resources: ${describeResourceError(found.left)}` });
    resources = found.right;
  }
  if (p.right.values['json'] === true) io.out(JSON.stringify(resources, null, 2));
  else io.out(resources.length === 0 ? 'no resources (no physical link or bond here)' : resources.map((r) => `${r.resourceName}  lower ${r.lowerDevice}  mode ${r.mode}  capacity ${r.capacity}`).join('\n'));
  return E.right(undefined);
};

const daemon = async (argv: readonly string[], io: Output): Promise<E.Either<CliError, void>> => {
  const p = parse('daemon', argv, { socket: { type: 'string', default: DEFAULT_SOCKET } });
  if (E.isLeft(p)) return p;
  const code = await serveUntilSignal(String(p.right.values['socket']), io.err);
  return code === 0 ? E.right(undefined) : E.left({ _tag: 'Failed', message: 'cni daemon stopped' });
};

export const cniCommand = async (argv: readonly string[], io: Output): Promise<E.Either<CliError, void>> => {
  const [sub, ...rest] = argv;
  if (sub === 'install') return install(rest, io);
  if (sub === 'daemon') return daemon(rest, io);
  if (sub === 'measure') return measure(rest, io);
  if (sub === 'macvtap-resources') return macvtapResources(rest, io);
  return E.left(usage(`cni: expected install, daemon, measure or macvtap-resources\n${CNI_HELP}`));
};
