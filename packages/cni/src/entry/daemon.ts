// Executable entry of the thick-mode daemon without the CLI:
// `node dist/entry/daemon.js [--socket PATH]` (the CLI's `tapwire cni daemon` runs the same).
import { parseArgs } from 'node:util';
import { DEFAULT_SOCKET, serveUntilSignal } from '../thick/daemon.js';

const { values } = parseArgs({ options: { socket: { type: 'string', default: DEFAULT_SOCKET } } });
void serveUntilSignal(values.socket ?? DEFAULT_SOCKET, (line) => process.stderr.write(`${line}\n`)).then((code) => {
  process.exitCode = code;
});
