// Executable entry of the `tap` plugin (bundled by bundle.ts).
import { tapPlugin } from '../plugins/tap.js';
import { main } from '../skel.js';

main(tapPlugin);
