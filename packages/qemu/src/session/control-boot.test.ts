import test from 'ava';
import { podReportOf } from './control-boot.js';

test('a control boot\'s console as the pod\'s report: the empty first pass\'s routing and DONE out, DONE after APPLIED', (t) => {
  const console = [
    'Linux version 6.1',
    'TAPWIRE-START kernel=6.1.0 uptime=1.00',
    'TAPWIRE-ROUTING ok routes=',
    'TAPWIRE-DONE uptime=1.50',
    'TAPWIRE-CONTROL /dev/vport1p1',
    'TAPWIRE-NET-UP eth0 02:00:00:00:00:01 10.0.0.2/24 mtu=1500 uptime=2.00',
    'TAPWIRE-ROUTING ok routes=1',
    'TAPWIRE-NIC 02:00:00:00:00:01 up eth0',
    'TAPWIRE-APPLIED boot',
    '',
  ].join('\n');
  t.is(
    podReportOf(console, 'boot'),
    [
      'Linux version 6.1',
      'TAPWIRE-START kernel=6.1.0 uptime=1.00',
      'TAPWIRE-CONTROL /dev/vport1p1',
      'TAPWIRE-NET-UP eth0 02:00:00:00:00:01 10.0.0.2/24 mtu=1500 uptime=2.00',
      'TAPWIRE-ROUTING ok routes=1',
      'TAPWIRE-NIC 02:00:00:00:00:01 up eth0',
      'TAPWIRE-APPLIED boot',
      'TAPWIRE-DONE uptime=1.50',
      '',
    ].join('\n'),
  );
});

test('no APPLIED: no DONE either, so the verdict sees an unfinished guest; no CONTROL: the console as it is', (t) => {
  const cut = 'TAPWIRE-START kernel=6.1.0 uptime=1.00\nTAPWIRE-DONE uptime=1.50\nTAPWIRE-CONTROL /dev/vport1p1\nTAPWIRE-NET-UP eth0';
  t.false(podReportOf(cut, 'boot').includes('TAPWIRE-DONE'));
  const plain = 'TAPWIRE-START kernel=6.1.0 uptime=1.00\nTAPWIRE-DONE uptime=1.50\n';
  t.is(podReportOf(plain, 'boot'), plain);
});
