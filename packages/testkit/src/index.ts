// Test support shared by every package: privileged-test gating and netns
// fixtures that always clean up after themselves (also when a test fails).
export { requireRoot, requireCommand, ciStrict } from './gate.js';
export { makeNetns, uniqueName, sh } from './netns.js';
export { writePodmanConf, type PodmanConfEnv } from './podman-conf.js';
export { privateMountNs, type PrivateMountNs } from './mount-ns.js';
