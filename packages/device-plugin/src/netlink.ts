// The plugin's netns, seen and changed through iproute2 via @tapwire/sys:
// one `ip -j -d link show` per look, one `ip -batch` per change. The netns
// is the one the plugin runs in (/proc/self/ns/net) unless told otherwise.
import * as TE from 'fp-ts/lib/TaskEither.js';
import { pipe } from 'fp-ts/lib/function.js';
import { run, runBatch, type NetnsHandle } from '@tapwire/sys';
import type { IpCommand } from './allocate.js';
import type { DevicePluginError } from './errors.js';
import { decodeLinks, type LinkState } from './links.js';

export const readLinks = (ns: NetnsHandle): TE.TaskEither<DevicePluginError, readonly LinkState[]> =>
  pipe(
    run(['ip', '-j', '-d', 'link', 'show'], { netns: ns }),
    TE.mapLeft((cause): DevicePluginError => ({ _tag: 'Sys', what: `reading the links of ${ns.spec}`, cause })),
    TE.chainEitherK((r) => decodeLinks(r.stdout)),
  );

export const applyIp = (ns: NetnsHandle, what: string, commands: readonly IpCommand[], force = false): TE.TaskEither<DevicePluginError, void> =>
  pipe(
    runBatch(ns, 'ip', commands, { force }),
    TE.bimap((cause): DevicePluginError => ({ _tag: 'Sys', what, cause }), () => undefined),
  );

