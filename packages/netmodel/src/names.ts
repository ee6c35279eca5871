// Device names and queue counts: derived deterministically, validated when given.
import * as E from 'fp-ts/lib/Either.js';
import type { PlanError } from './errors.js';
import { MAX_IFNAME_BYTES, MAX_QUEUES } from './model.js';

/**
 * The tap for endpoint ifindex N is twN: ifindexes are unique per netns, so two
 * endpoints never collide and a second attach finds the first one's device.
 */
export const defaultTapName = (ifindex: number): string => `tw${ifindex}`;

const TAP_NAME_EXPECTED = `1-${MAX_IFNAME_BYTES} bytes without '/', ':' or whitespace, not '.' or '..'`;

/** The kernel's dev_valid_name rules (plus ':', which ip reserves for alias labels). */
export const validateTapName = (name: string): E.Either<PlanError, string> => {
  const bytes = Buffer.byteLength(name, 'utf8');
  if (bytes === 0 || bytes > MAX_IFNAME_BYTES || name === '.' || name === '..' || /[/:\s]/u.test(name)) {
    return E.left({ _tag: 'BadTapName', input: name, expected: TAP_NAME_EXPECTED });
  }
  return E.right(name);
};

const QUEUES_EXPECTED = `an integer from 1 to ${MAX_QUEUES} (the kernel's MAX_TAP_QUEUES)`;

export const validateQueues = (queues: number): E.Either<PlanError, number> =>
  Number.isInteger(queues) && queues >= 1 && queues <= MAX_QUEUES
    ? E.right(queues)
    : E.left({ _tag: 'BadQueues', input: String(queues), expected: QUEUES_EXPECTED });

/** For command lines: "4" but not "4x", "0x4", "" or "1e3". The error names the text as typed ("00", not 0). */
export const parseQueues = (text: string): E.Either<PlanError, number> =>
  /^[0-9]{1,5}$/.test(text) && E.isRight(validateQueues(Number(text))) ? E.right(Number(text)) : E.left({ _tag: 'BadQueues', input: text, expected: QUEUES_EXPECTED });
