// The testpmd helper's pure parts: the command line the recipe gives,
// and its statistics read from output in the form DPDK 22.11 prints on stop.
import test from 'ava';
import { parsePortStats, testpmdArgv } from './testpmd.js';

test('testpmd argv: no hugepages, no PCI, two lcores, its own prefix, one vdev per port, io forwarding', (t) => {
  t.deepEqual(testpmdArgv('twpmd1', { ports: [{ kind: 'vhost', socket: '/d/vhostuser_10.0.0.2/vhu.sock' }, { kind: 'tap', iface: 'vut0' }], queues: 1 }), [
    'dpdk-testpmd', '--no-huge', '-m', '256', '--no-pci', '-l', '0-1', '--file-prefix', 'twpmd1',
    '--vdev', 'net_vhost0,iface=/d/vhostuser_10.0.0.2/vhu.sock,queues=1',
    '--vdev', 'net_tap1,iface=vut0',
    '--', '--forward-mode=io', '--auto-start', '--total-num-mbufs', '16384',
  ]);
  t.deepEqual(testpmdArgv('p', { ports: [{ kind: 'vhost', socket: '/s' }], queues: 2 }).slice(-2), ['--rxq=2', '--txq=2']);
});

const CAPTURED = `
  ---------------------- Forward statistics for port 0  ----------------------
  RX-packets: 4              RX-dropped: 0             RX-total: 4
  TX-packets: 4              TX-dropped: 0             TX-total: 4
  ----------------------------------------------------------------------------

  ---------------------- Forward statistics for port 1  ----------------------
  RX-packets: 11             RX-dropped: 0             RX-total: 11
  TX-packets: 4              TX-dropped: 7             TX-total: 11
  ----------------------------------------------------------------------------

  +++++++++++++++ Accumulated forward statistics for all ports+++++++++++++++
  RX-packets: 15             RX-dropped: 0             RX-total: 15
  TX-packets: 8              TX-dropped: 7             TX-total: 15
`;

test('port statistics are read per port, the accumulated block is not a port', (t) => {
  t.deepEqual(parsePortStats(CAPTURED), [
    { port: 0, rx: 4, tx: 4 },
    { port: 1, rx: 11, tx: 4 },
  ]);
  t.deepEqual(parsePortStats('EAL: Detected CPU lcores: 2\n'), []);
});
