// `tapwire device-plugin`: the kubelet device plugin for macvtap devices, in the
// foreground until SIGTERM/SIGINT (@tapwire/device-plugin does the work).
import * as E from 'fp-ts/lib/Either.js';
import { describeDevicePluginError, runDevicePlugin, type DevicePluginError } from '@tapwire/device-plugin';
import { usage, type CliError } from '../cli-error.js';

export { DEVICE_PLUGIN_HELP } from '@tapwire/device-plugin';

const toCliError = (e: DevicePluginError): CliError =>
  e._tag === 'BadArgs' ? usage(describeDevicePluginError(e)) : { _tag: 'Failed', message: describeDevicePluginError(e) };

export const devicePluginCommand = async (argv: readonly string[]): Promise<E.Either<CliError, void>> =>
  E.mapLeft(toCliError)(await runDevicePlugin(argv)());
