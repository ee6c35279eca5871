// Which attachments a launch uses on a pod that may be attached already: the
// logic is netmodel's (attached-pod.ts), shared with the direct QEMU launch;
// re-exported here for the users of this package's API.
export { plannedAttachments, endpointsToAttach } from '@tapwire/netmodel';
