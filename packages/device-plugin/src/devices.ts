// A resource's devices and their health: every device of a resource is as
// healthy as its lower device (kubelet stops allocating Unhealthy ones).
import { DEVICE_SUFFIX, type MacvtapResource } from './config.js';
import type { LinkState } from './links.js';

export type Health = 'Healthy' | 'Unhealthy';

/** The wire shape of v1beta1 Device (proto field names). */
export interface Device {
  readonly ID: string;
  readonly health: Health;
}

export const deviceIds = (r: MacvtapResource): readonly string[] => Array.from({ length: r.capacity }, (_, i) => `${r.name}${DEVICE_SUFFIX}${i}`);

/**
 * Healthy when the lower device exists and carries traffic: operstate UP, or
 * UNKNOWN (drivers that never report it, like lo or some tun/bond setups).
 * A missing lower device is Unhealthy rather than absent, so kubelet keeps
 * the capacity and only stops scheduling onto it (upstream sends an empty
 * list instead; both keep pods off a dead link).
 */
export const healthOf = (lower: LinkState | undefined): Health =>
  lower !== undefined && (lower.operstate === 'UP' || lower.operstate === 'UNKNOWN') ? 'Healthy' : 'Unhealthy';

export const deviceList = (r: MacvtapResource, links: readonly LinkState[]): readonly Device[] => {
  const health = healthOf(links.find((l) => l.name === r.lowerDevice));
  return deviceIds(r).map((ID) => ({ ID, health }));
};

export const sameDevices = (a: readonly Device[], b: readonly Device[]): boolean =>
  a.length === b.length && a.every((d, i) => d.ID === b[i]?.ID && d.health === b[i]?.health);
