// koffi, loaded on the first native call: importing @tapwire/sys loads no
// native module, so a CNI VERSION call or a pure helper runs without one (and a
// bundle whose koffi sits next to it looks for it only when a syscall is made).
// The free `require('koffi')` is the branch a bundler sees: esbuild bundles it,
// and tapwire's bundler (packages/cni/src/bundler.ts) swaps koffi for a lookup
// relative to the bundle. Node's ESM has no `require` and takes createRequire.
import { createRequire } from 'node:module';

export type Koffi = typeof import('koffi');

let loaded: Koffi | undefined;

/** koffi itself; throws as require does when it cannot be loaded (callers turn that into FfiUnavailable). */
export const koffi = (): Koffi =>
  (loaded ??= (typeof require === 'function' ? require('koffi') : createRequire(import.meta.url)('koffi')) as Koffi);

/** Whether koffi was loaded in this process (tests check that pure paths never load it). */
export const koffiLoaded = (): boolean => loaded !== undefined;
