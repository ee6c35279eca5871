// The inverse of renderGuestCmdline: reads a kernel command line the way
// guest/init does, so tests and tools can check what a guest will be told.
import * as E from 'fp-ts/lib/Either.js';
import { renderGuestCmdline, type GuestAddress, type GuestConfig, type GuestNic, type GuestRoute } from './cmdline.js';
import { invalidGuestValue, type GuestCmdlineError } from './errors.js';

type Checked<A> = E.Either<GuestCmdlineError, A>;

const NO_PREFIX_ROUTE = '+noprefixroute';

const parseNicValue = (word: string, value: string): Checked<GuestNic> => {
  const [mac = '', ...items] = value.split(',');
  const addresses: (string | GuestAddress)[] = [];
  let mtu: number | undefined;
  let name: string | undefined;
  let linkLocal: boolean | undefined;
  for (const item of items) {
    if (item.startsWith('mtu=')) {
      const v = item.slice(4);
      if (!/^[1-9][0-9]{0,5}$/.test(v)) return E.left(invalidGuestValue(word, 'mtu', v, 'a decimal integer'));
      mtu = Number(v);
    } else if (item.startsWith('name=')) {
      name = item.slice(5);
    } else if (item === 'linklocal=off') {
      linkLocal = false;
    } else if (item.includes('/')) {
      addresses.push(item.endsWith(NO_PREFIX_ROUTE) ? { cidr: item.slice(0, -NO_PREFIX_ROUTE.length), noPrefixRoute: true } : item);
    } else {
      return E.left(invalidGuestValue(word, 'item', item, 'ADDR/PREFIX[+noprefixroute], mtu=N, name=IFNAME or linklocal=off'));
    }
  }
  return E.right({
    mac,
    addresses,
    ...(mtu === undefined ? {} : { mtu }),
    ...(name === undefined ? {} : { name }),
    ...(linkLocal === undefined ? {} : { linkLocal }),
  });
};

/** A route's dev= names its NIC by 1-based position among the tapwire.nic words (or by MAC). */
const parseRouteValue = (word: string, value: string, nics: readonly GuestNic[]): Checked<GuestRoute> => {
  const [dst = '', ...items] = value.split(',');
  const route: { -readonly [K in keyof GuestRoute]: GuestRoute[K] } = { dst };
  for (const item of items) {
    if (item.startsWith('via=')) route.via = item.slice(4);
    else if (item.startsWith('dev=')) {
      const dev = item.slice(4);
      const mac = /^[1-9][0-9]{0,2}$/.test(dev) ? nics[Number(dev) - 1]?.mac : dev;
      if (mac === undefined) return E.left(invalidGuestValue(word, 'dev', dev, `the position of one of the ${nics.length} tapwire.nic words before it, or a MAC`));
      route.dev = mac;
    }
    else if (item.startsWith('src=')) route.src = item.slice(4);
    else if (item.startsWith('metric=') && /^(0|[1-9][0-9]{0,9})$/.test(item.slice(7))) route.metric = Number(item.slice(7));
    else if (item === 'scope=link' || item === 'scope=host') route.scope = item.slice(6) as 'link' | 'host';
    else if (item === 'onlink') route.onlink = true;
    else if (item === 'kernel') route.kernel = true;
    else return E.left(invalidGuestValue(word, 'item', item, 'via=GW, dev=MAC, src=ADDR, metric=N, scope=link|host, onlink or kernel'));
  }
  return E.right(route);
};

/**
 * Other kernel parameters are ignored; an unknown tapwire.* word is an error
 * (guest/init reports it as TAPWIRE-ERROR bad-param). The result is checked
 * by the same rules as the renderer's input.
 */
export const parseGuestCmdline = (line: string): Checked<GuestConfig> => {
  const nics: GuestNic[] = [];
  const routes: GuestRoute[] = [];
  const ping: string[] = [];
  let waitSeconds: number | undefined;
  let stay: boolean | undefined;
  let control: boolean | undefined;
  let exactRouting: boolean | undefined;
  let consoleDev: string | undefined;
  let panicSeconds: number | undefined;
  let quiet = false;
  for (const word of line.split(/\s+/).filter((w) => w.length > 0)) {
    const eq = word.indexOf('=');
    const key = eq < 0 ? word : word.slice(0, eq);
    const value = eq < 0 ? '' : word.slice(eq + 1);
    switch (key) {
      case 'console':
        consoleDev = value;
        break;
      case 'panic':
        if (!/^-?[0-9]{1,4}$/.test(value)) return E.left(invalidGuestValue(word, 'panic', value, 'an integer'));
        panicSeconds = Number(value);
        break;
      case 'quiet':
        quiet = true;
        break;
      case 'tapwire.wait':
        if (!/^[1-9][0-9]{0,2}$/.test(value)) return E.left(invalidGuestValue(word, 'tapwire.wait', value, 'whole seconds, 1 to 600'));
        waitSeconds = Number(value);
        break;
      case 'tapwire.control':
        if (value !== '1') return E.left(invalidGuestValue(word, 'tapwire.control', value, '1'));
        control = true;
        break;
      case 'tapwire.stay':
        if (value !== '0' && value !== '1') return E.left(invalidGuestValue(word, 'tapwire.stay', value, '0 or 1'));
        stay = value === '1';
        break;
      case 'tapwire.nic': {
        const n = parseNicValue(word, value);
        if (E.isLeft(n)) return n;
        nics.push(n.right);
        break;
      }
      case 'tapwire.route': {
        const r = parseRouteValue(word, value, nics);
        if (E.isLeft(r)) return r;
        routes.push(r.right);
        break;
      }
      case 'tapwire.routing':
        if (value !== 'exact') return E.left(invalidGuestValue(word, 'tapwire.routing', value, 'exact'));
        exactRouting = true;
        break;
      case 'tapwire.ping':
        ping.push(value);
        break;
      default:
        if (key.startsWith('tapwire.')) {
          return E.left(invalidGuestValue(word, 'key', key, 'tapwire.nic, tapwire.route, tapwire.routing, tapwire.ping, tapwire.wait, tapwire.stay or tapwire.control'));
        }
    }
  }
  const config: GuestConfig = {
    nics,
    routes,
    ping,
    quiet,
    ...(waitSeconds === undefined ? {} : { waitSeconds }),
    ...(stay === undefined ? {} : { stay }),
    ...(control === undefined ? {} : { control }),
    ...(exactRouting === undefined ? {} : { exactRouting }),
    ...(consoleDev === undefined ? {} : { console: consoleDev }),
    ...(panicSeconds === undefined ? {} : { panicSeconds }),
  };
  return E.map(() => config)(renderGuestCmdline(config));
};
