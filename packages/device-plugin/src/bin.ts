// `node dist/bin.js [--dir DIR]`: the plugin without the CLI (a DaemonSet
// container's command; tests run it as a child process).
import { run } from './main.js';

process.exitCode = await run(process.argv.slice(2));
