// Every failure of the device plugin is one of these tagged values; the CLI
// prints describeDevicePluginError, gRPC callers get it as the status detail.
import { describeSysError, type SysError } from '@tapwire/sys';

export type DevicePluginError =
  /** The command line was wrong (exit code 2 in the CLI). */
  | { readonly _tag: 'BadArgs'; readonly problem: string; readonly usage: string }
  /** DP_MACVTAP_CONF (or another input) did not decode: every problem named. */
  | { readonly _tag: 'BadConfig'; readonly input: string; readonly problems: readonly string[] }
  /** ip's JSON or a gRPC request did not have the expected shape. */
  | { readonly _tag: 'DecodeFailed'; readonly what: string; readonly problems: readonly string[] }
  | { readonly _tag: 'Sys'; readonly what: string; readonly cause: SysError }
  | { readonly _tag: 'UnknownDevice'; readonly resourceName: string; readonly deviceId: string }
  /** A host link already has a device's name and is not a macvtap on the resource's lower device. */
  | { readonly _tag: 'DeviceNameTaken'; readonly deviceId: string; readonly found: string }
  /** A macvtap the plugin just made is gone (its lower device went away meanwhile). */
  | { readonly _tag: 'DeviceVanished'; readonly deviceId: string }
  | { readonly _tag: 'LowerDeviceMissing'; readonly resourceName: string; readonly lowerDevice: string }
  | { readonly _tag: 'RegistrationFailed'; readonly kubeletSocket: string; readonly resourceName: string; readonly detail: string }
  | { readonly _tag: 'ServeFailed'; readonly socket: string; readonly detail: string };

export const describeDevicePluginError = (e: DevicePluginError): string => {
  switch (e._tag) {
    case 'BadArgs':
      return `${e.problem}\n${e.usage}`;
    case 'BadConfig':
      return `bad ${e.input}: ${e.problems.join('; ')}`;
    case 'DecodeFailed':
      return `cannot decode ${e.what}: ${e.problems.join('; ')}`;
    case 'Sys':
      return `${e.what}: ${describeSysError(e.cause)}`;
    case 'UnknownDevice':
      return `${JSON.stringify(e.deviceId)} is not a device of ${e.resourceName}`;
    case 'DeviceNameTaken':
      return `cannot allocate ${JSON.stringify(e.deviceId)}: the host has a link of that name that is ${e.found}, not one of ours`;
    case 'DeviceVanished':
      return `macvtap ${JSON.stringify(e.deviceId)} disappeared right after it was made (did its lower device go away?)`;
    case 'LowerDeviceMissing':
      return `lower device ${JSON.stringify(e.lowerDevice)} of ${e.resourceName} is not a link of the plugin's netns`;
    case 'RegistrationFailed':
      return `registering ${e.resourceName} with kubelet at ${e.kubeletSocket} failed: ${e.detail}`;
    case 'ServeFailed':
      return `cannot serve the device plugin API on ${e.socket}: ${e.detail}`;
  }
};
