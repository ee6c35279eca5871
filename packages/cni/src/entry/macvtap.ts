// Executable entry of the `macvtap` plugin (bundled by bundle.ts).
import { macvtapPlugin } from '../plugins/macvtap.js';
import { main } from '../skel.js';

main(macvtapPlugin);
