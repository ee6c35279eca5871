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
  | { readonly _tag: 'SyscallFailed'; readonly call: string; readonly errno: number; readonly code: string; readonly detail: string };

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
  }
};
