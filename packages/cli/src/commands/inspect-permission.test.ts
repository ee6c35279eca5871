// Without privileges the error must say which capability is missing.
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { execa } from 'execa';
import { makeNetns, requireCommand, requireRoot } from '@tapwire/testkit';

const BIN = fileURLToPath(new URL('../../bin/tapwire.js', import.meta.url));
const asNobody = (args: string[]) =>
  execa('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, BIN, ...args], { reject: false });

test('an unprivileged user is told which capability is missing', async (t) => {
  if (!requireRoot(t) || !requireCommand(t, 'setpriv')) return;
  const ns = await makeNetns(t);
  const named = await asNobody(['inspect', ns.name]);
  t.is(named.exitCode, 3);
  t.regex(named.stderr, /^tapwire: error: permission denied for netns ".*" \(\/var\/run\/netns\/.*\): CAP_SYS_ADMIN is missing/);
  const pid1 = await asNobody(['inspect', 'pid:1']);
  t.is(pid1.exitCode, 3);
  t.regex(pid1.stderr, /CAP_SYS_PTRACE is missing/);
});
