// rtnetlink in TypeScript: pure codec (wire, requests, ack, inet), one
// socket owner (socket.ts) and the tun ioctls that make taps.
export * from './wire.js';
export * from './inet.js';
export * from './requests.js';
export * from './ack.js';
export { openNetlinkSocket, PIPELINE_DEPTH, type NetlinkSocket, type Outcome } from './socket.js';
export { createPersistentTap, type TapSpec } from './tun-create.js';
export { errnoName } from '../ffi/errno.js';
