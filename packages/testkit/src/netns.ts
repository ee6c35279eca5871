import { randomBytes } from 'node:crypto';
import { execa } from 'execa';
import type { ExecutionContext } from 'ava';

/** Short random names: netns names are free-form but link names are <=15 bytes. */
export const uniqueName = (prefix: string): string => `${prefix}${randomBytes(3).toString('hex')}`;

/** Runs one argv (never a shell string) and returns stdout; throws on failure. */
export const sh = async (argv: readonly string[], input?: string): Promise<string> => {
  const [file, ...args] = argv;
  if (file === undefined) throw new Error('sh: empty argv');
  const r = await execa(file, args, input === undefined ? {} : { input });
  return r.stdout;
};

/**
 * Creates a named netns (lo up) removed by t.teardown whether the test passes or
 * fails. Deleting the netns destroys every link inside it, so tests that only
 * create links inside need no further cleanup.
 */
export const makeNetns = async (t: ExecutionContext, prefix = 'twt'): Promise<{ name: string; path: string }> => {
  const name = uniqueName(prefix);
  await sh(['ip', 'netns', 'add', name]);
  t.teardown(async () => {
    await execa('ip', ['netns', 'del', name], { reject: false });
  });
  await sh(['ip', '-n', name, 'link', 'set', 'lo', 'up']);
  return { name, path: `/var/run/netns/${name}` };
};
