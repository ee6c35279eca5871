// Where the checkout's deployment files are, seen from this package (src/ and
// dist/ sit at the same depth, so one set of paths serves both).
import { fileURLToPath } from 'node:url';

export const REPO = fileURLToPath(new URL('../../../', import.meta.url));
export const DEPLOY_DIR = fileURLToPath(new URL('../../../deploy/', import.meta.url));
export const MANIFEST_DIR = fileURLToPath(new URL('../../../deploy/manifests/', import.meta.url));
/** Every place holding NAD examples: deploy's own and the pod rig's (tap, dataplane). */
export const NAD_DIRS: readonly string[] = [
  fileURLToPath(new URL('../../../deploy/examples/', import.meta.url)),
  fileURLToPath(new URL('../../../packages/pod/examples/kubevirt/', import.meta.url)),
];
export const CNI_DOC = fileURLToPath(new URL('../../../docs/cni.md', import.meta.url));
