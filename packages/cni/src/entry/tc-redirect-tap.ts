// Executable entry of the `tc-redirect-tap` plugin (bundled by bundle.ts).
import { tcRedirectTapPlugin } from '../plugins/tc-redirect-tap.js';
import { main } from '../skel.js';

main(tcRedirectTapPlugin);
