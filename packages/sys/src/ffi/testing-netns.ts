// Test support only (imported by *.test.ts): a throwaway netns as a handle.
import { readdirSync, readlinkSync, statSync } from 'node:fs';
import type { ExecutionContext } from 'ava';
import { makeNetns, sh } from '@tapwire/testkit';
import type { NetnsHandle } from '../netns.js';

/**
 * Built from stat's inode so the FFI tests do not depend on resolveNetns (whose
 * readlink check refused every named netns: a bind mount like /run/netns/NAME
 * reads back as its path, not net:[ino]; see nsTypeOfFd).
 */
export const handleAt = (spec: string, path: string): NetnsHandle => ({ spec, path, inode: statSync(path).ino });

/** A fresh netns (deleted on teardown) and `ip -n NAME` commands run in it. */
export const testNetns = async (t: ExecutionContext): Promise<{ ns: NetnsHandle; ip: (...args: string[]) => Promise<string> }> => {
  const { name, path } = await makeNetns(t, 'twffi');
  return { ns: handleAt(name, path), ip: (...args) => sh(['ip', '-n', name, ...args]) };
};

/** What the calling thread's netns link says, e.g. net:[4026531833]. */
export const threadNetns = (): string => readlinkSync('/proc/thread-self/ns/net');

/** Entries of /proc/self/fd (the readdir's own fd included, so compare counts, not values). */
export const openFdCount = (): number => readdirSync('/proc/self/fd').length;
