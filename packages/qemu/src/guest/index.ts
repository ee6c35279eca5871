// The guest image's contract: what the kernel command line tells guest/init
// (renderGuestCmdline) and what it reports back on the console (parseConsole).
export type { GuestAddress, GuestConfig, GuestNic, GuestRoute } from './cmdline.js';
export { renderGuestCmdline, GUEST_CMDLINE_MAX } from './cmdline.js';
export { parseGuestCmdline } from './cmdline-parse.js';
export type { GuestCmdlineError } from './errors.js';
export { describeGuestCmdlineError } from './errors.js';
export type { ConsoleParseError, GuestEvent, GuestReport } from './console.js';
export {
  parseConsole,
  parseConsoleLine,
  splitConsoleLines,
  cleanConsoleLine,
  summarizeGuest,
  describeConsoleParseError,
} from './console.js';
export type { GuestImage } from './image.js';
export { buildGuestImage, guestImagePaths, GUEST_BUILD_SCRIPT, DEFAULT_GUEST_CACHE_DIR } from './image.js';
export type { RoutingEntry } from './route-table.js';
export { parseRouteText, routingEntryOf, routingTable, describeRoutingEntry, canonicalDst } from './route-table.js';
export type { GuestRouteProblem, GuestRoutingFailed } from './routing-error.js';
export { guestRoutingError, describeGuestRoutingError } from './routing-error.js';
export { renderGuestWords } from './cmdline.js';
export type { GuestBatch, GuestControl, GuestControlError, ConsoleWatch } from './control.js';
export { connectGuestControl, consoleWatch, renderControlBatch, describeGuestControlError } from './control.js';
