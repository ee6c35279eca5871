// Every failure of the effect shell is one of these tagged values; callers
// switch on `_tag` and humans read `describeSysError`.
export type SysError =
  | { readonly _tag: 'BadNetnsSpec'; readonly input: string; readonly expected: string }
  | { readonly _tag: 'NetnsNotFound'; readonly input: string; readonly path: string }
  | { readonly _tag: 'NotANetns'; readonly input: string; readonly path: string; readonly found: string }
  | {
      readonly _tag: 'NetnsPermission';
      readonly input: string;
      readonly path: string;
      readonly capability: 'CAP_SYS_ADMIN' | 'CAP_SYS_PTRACE' | 'CAP_NET_ADMIN';
      readonly detail: string;
    }
  | {
      readonly _tag: 'CommandFailed';
      readonly argv: readonly string[];
      readonly exitCode: number | undefined;
      readonly stderr: string;
      /** 1-based line of a -batch input that failed, when the tool said so. */
      readonly failedLine: number | undefined;
    }
  | { readonly _tag: 'SyscallFailed'; readonly call: string; readonly errno: number; readonly code: string; readonly detail: string }
  | { readonly _tag: 'FfiUnavailable'; readonly detail: string }
  | { readonly _tag: 'BadInput'; readonly what: string; readonly input: string; readonly expected: string }
  /** The netns path now names another namespace than the one resolveNetns checked. */
  | { readonly _tag: 'NetnsChanged'; readonly input: string; readonly path: string; readonly expectedInode: number; readonly foundInode: number }
  | { readonly _tag: 'LinkNotFound'; readonly netns: string; readonly link: string }
  | { readonly _tag: 'WrongLinkKind'; readonly netns: string; readonly name: string; readonly expected: string; readonly found: string }
  | {
      readonly _tag: 'TapQueueMismatch';
      readonly netns: string;
      readonly name: string;
      readonly asked: 'multi_queue' | 'single_queue';
      readonly created: 'multi_queue' | 'single_queue' | 'unknown';
      readonly hint: string;
    }
  | { readonly _tag: 'TapBusy'; readonly netns: string; readonly name: string; readonly hint: string }
  | { readonly _tag: 'DeviceMissing'; readonly path: string; readonly hint: string }
  /** Another process holds the netns's tapwire lock (netns-lock.ts) and kept it past the timeout. */
  | { readonly _tag: 'NetnsBusy'; readonly netns: string; readonly lockFile: string; readonly holder: string | undefined; readonly waitedMs: number };

export const describeSysError = (e: SysError): string => {
  switch (e._tag) {
    case 'BadNetnsSpec':
      return `bad netns ${JSON.stringify(e.input)}: expected ${e.expected}`;
    case 'NetnsNotFound':
      return `netns ${JSON.stringify(e.input)} not found (no ${e.path})`;
    case 'NotANetns':
      return `${JSON.stringify(e.input)} is not a network namespace (${e.path} is ${e.found})`;
    case 'NetnsPermission':
      return `permission denied for netns ${JSON.stringify(e.input)} (${e.path}): ${e.capability} is missing; ${e.detail}`;
    case 'CommandFailed': {
      const line = e.failedLine === undefined ? '' : ` at batch line ${e.failedLine}`;
      const err = e.stderr.trim().split('\n').filter((l) => !l.startsWith('Command failed')).join('; ');
      return `${e.argv.join(' ')} failed${line} (exit ${e.exitCode ?? 'signal'}): ${err || 'no message'}`;
    }
    case 'SyscallFailed':
      return `${e.call} failed: ${e.code} (${e.detail})`;
    case 'FfiUnavailable':
      return `native calls unavailable (koffi/libc): ${e.detail}`;
    case 'BadInput':
      return `bad ${e.what} ${JSON.stringify(e.input)}: expected ${e.expected}`;
    case 'NetnsChanged':
      return `netns ${JSON.stringify(e.input)} changed: ${e.path} is now net:[${e.foundInode}], was net:[${e.expectedInode}] when resolved`;
    case 'LinkNotFound':
      return `no link ${JSON.stringify(e.link)} in netns ${JSON.stringify(e.netns)}`;
    case 'WrongLinkKind':
      return `link ${JSON.stringify(e.name)} in netns ${JSON.stringify(e.netns)} is ${e.found}, expected ${e.expected}`;
    case 'TapQueueMismatch': {
      const tap = `tap ${JSON.stringify(e.name)} in netns ${JSON.stringify(e.netns)}`;
      const asked = e.asked.replace('_', '-');
      return e.created === 'unknown'
        ? `${tap} was not created ${asked} but was asked to open ${asked}; ${e.hint}`
        : `${tap} was created ${e.created.replace('_', '-')} but was asked to open ${asked}; ${e.hint}`;
    }
    case 'TapBusy':
      return `tap ${JSON.stringify(e.name)} in netns ${JSON.stringify(e.netns)} is busy: ${e.hint}`;
    case 'DeviceMissing':
      return `${e.path} does not exist: ${e.hint}`;
    case 'NetnsBusy':
      return `netns ${JSON.stringify(e.netns)} is busy: another tapwire process (${e.holder ?? 'holder unknown'}) is attaching or detaching there; waited ${e.waitedMs} ms for ${e.lockFile}`;
  }
};
