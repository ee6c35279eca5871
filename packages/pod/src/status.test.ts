import test from 'ava';
import * as E from 'fp-ts/lib/Either.js';
import { decodeCniResult, networkStatus } from './status.js';

const decode = (u: unknown) => {
  const r = decodeCniResult(u);
  if (E.isLeft(r)) throw new Error(r.left.join('; '));
  return r.right;
};

test('bridge + host-local: the pod interface, its address without prefix, dns always present', (t) => {
  const result = decode({
    cniVersion: '1.0.0',
    interfaces: [{ name: 'cni0', mac: '36:aa:00:00:00:01' }, { name: 'veth1', mac: '36:aa:00:00:00:02' }, { name: 'net1', mac: '02:00:00:00:00:09', sandbox: '/var/run/netns/vm1' }],
    ips: [{ address: '10.1.0.5/24', gateway: '10.1.0.1', interface: 2 }],
  });
  t.deepEqual(networkStatus('default/br', 'net1', false, result, undefined), { name: 'default/br', interface: 'net1', ips: ['10.1.0.5'], mac: '02:00:00:00:00:09', dns: {} });
});

test('the default network is marked default; dns and device-info are reported as given', (t) => {
  const result = decode({ cniVersion: '0.4.0', interfaces: [{ name: 'eth0', mac: '0a:58:0a:f4:02:06', sandbox: '/x' }], ips: [{ address: 'fd00::5/64', interface: 0 }], dns: { nameservers: ['10.96.0.10'] } });
  const info = { type: 'pci', version: '1.1.0', pci: { 'pci-address': '0000:00:08.0' } };
  t.deepEqual(networkStatus('cluster', 'eth0', true, result, info), {
    name: 'cluster',
    interface: 'eth0',
    ips: ['fd00::5'],
    mac: '0a:58:0a:f4:02:06',
    default: true,
    dns: { nameservers: ['10.96.0.10'] },
    'device-info': info,
  });
});

test('tc-redirect-tap results: the asked interface, not the VM pseudo-interface with the copied IPs', (t) => {
  const result = decode({
    cniVersion: '1.0.0',
    interfaces: [
      { name: 'veth0', mac: '36:00:00:00:00:01' },
      { name: 'eth0', mac: '0a:00:00:00:00:02', sandbox: '/var/run/netns/vm1' },
      { name: 'tw2', mac: '0a:00:00:00:00:03', sandbox: '/var/run/netns/vm1' },
      { name: 'tw2', mac: '0a:00:00:00:00:02', sandbox: 'c0ffee' },
    ],
    ips: [{ address: '10.2.0.7/24', interface: 1 }, { address: '10.2.0.7/24', interface: 3 }],
  });
  t.like(networkStatus('cluster', 'eth0', true, result, undefined), { interface: 'eth0', ips: ['10.2.0.7'], mac: '0a:00:00:00:00:02' });
});
