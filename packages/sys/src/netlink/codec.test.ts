import test from 'ava';
import { decodeAck } from './ack.js';
import { ipBytes, ipText, AF_INET6 } from './inet.js';
import { encodeRequest, type Request } from './requests.js';
import { CAPTURED } from './testing-captured.js';
import { splitMessages } from './wire.js';

const V0 = 3;
const TP0 = 8;

const EXPECTED: Readonly<Record<keyof typeof CAPTURED & string, Request>> = {
  qdiscAddIngress: { _tag: 'Qdisc', op: 'add', index: V0 },
  qdiscDelIngress: { _tag: 'Qdisc', op: 'del', index: V0 },
  qdiscAddRootNoqueue: { _tag: 'RootNoqueue', index: V0 },
  filterAddRedirect: { _tag: 'FilterRedirect', index: V0, parent: 0xffff0000, target: TP0 },
  filterDel: { _tag: 'FilterDel', index: V0, parent: 0xffff0000 },
  linkSetAlias: { _tag: 'SetLink', dev: TP0, alias: 'model=tcfilter' },
  linkSetMtu: { _tag: 'SetLink', dev: TP0, mtu: 1400 },
  linkSetUp: { _tag: 'SetLink', dev: TP0, up: true },
  linkSetDown: { _tag: 'SetLink', dev: TP0, up: false },
  linkSetTxqlen: { _tag: 'SetLink', dev: TP0, txqlen: 0 },
  linkSetAddress: { _tag: 'SetLink', dev: TP0, address: '02:11:22:33:44:55' },
  linkSetGroup: { _tag: 'SetLink', dev: TP0, group: 29815 },
  addrAddBrdScope: { _tag: 'Addr', op: 'add', index: V0, local: '10.1.0.3', prefixlen: 24, broadcast: '10.1.0.255', scope: 253, nodad: false },
  addrAdd6Nodad: { _tag: 'Addr', op: 'add', index: V0, local: 'fd00::2', prefixlen: 64, scope: 0, nodad: true },
  addrDel: { _tag: 'Addr', op: 'del', index: V0, local: '10.1.0.3', prefixlen: 24, scope: 0, nodad: false },
  routeReplace: { _tag: 'Route', op: 'replace', dst: '10.9.0.0', dstLen: 16, gateway: '10.1.0.1', table: 254, protocol: 4, scope: 0, type: 1, metric: 5, oif: V0 },
  routeDel: { _tag: 'Route', op: 'del', dst: '10.9.0.0', dstLen: 16, gateway: '10.1.0.1', table: 254, protocol: 4, scope: 255, type: 0, metric: 5, oif: V0 },
  routeReplaceDefault6: { _tag: 'Route', op: 'replace', dst: '::', dstLen: 0, gateway: 'fd00::1', table: 100, protocol: 4, scope: 0, type: 1, prefsrc: 'fd00::2', metric: 1024, oif: V0 },
  routeReplaceBlackhole: { _tag: 'Route', op: 'replace', dst: '10.8.0.0', dstLen: 16, table: 254, protocol: 3, scope: 0, type: 6 },
  macvtapAdd: { _tag: 'NewLink', name: 'mt0', link: V0, kind: 'macvtap', infoData: [[1, 4]] },
  linkDel: { _tag: 'DelLink', dev: 9 },
  linkDelGroup: { _tag: 'DelLinkGroup', group: 29815 },
};

for (const [name, req] of Object.entries(EXPECTED)) {
  test(`encodes ${CAPTURED[name]?.command ?? name} as iproute2 does`, (t) => {
    const hex = CAPTURED[name]?.hex ?? '';
    const captured = Buffer.from(hex, 'hex');
    const seq = captured.readUInt32LE(8);
    t.is(encodeRequest(req, seq).toString('hex'), hex);
  });
}

test('a device made earlier in the same batch is addressed by name', (t) => {
  const b = encodeRequest({ _tag: 'SetLink', dev: 'tw5', up: true }, 1);
  // ifi_index 0, then IFLA_IFNAME "tw5\0".
  t.is(b.readInt32LE(16 + 4), 0);
  t.is(b.subarray(32).toString('hex'), '0800030074773500');
});

test('an error ack with extended-ack text decodes to errno, seq and message', (t) => {
  // NLMSG_ERROR, flags CAPPED|ACK_TLVS, error -19, the capped request header (seq 7), NLMSGERR_ATTR_MSG.
  const text = Buffer.from('Device not found\0');
  const tlv = Buffer.alloc(4 + 20);
  tlv.writeUInt16LE(4 + text.length, 0);
  tlv.writeUInt16LE(1, 2);
  text.copy(tlv, 4);
  const payload = Buffer.concat([Buffer.from([0xed, 0xff, 0xff, 0xff]), Buffer.from('20000000100005000700000000000000', 'hex'), tlv]);
  const hdr = Buffer.alloc(16);
  hdr.writeUInt32LE(16 + payload.length, 0);
  hdr.writeUInt16LE(2, 4);
  hdr.writeUInt16LE(0x300, 6);
  const [m] = splitMessages(Buffer.concat([hdr, payload]));
  t.deepEqual(m === undefined ? undefined : decodeAck(m), { seq: 7, errno: 19, message: 'Device not found' });
});

test('IPv6 text round-trips through bytes in RFC 5952 form', (t) => {
  for (const ip of ['::', 'fd00::1', 'fe80::5cbb:81ff:fe22:4b4b', '2001:db8:0:1:1:1:1:1', '::ffff:10.1.2.3', '1::']) {
    t.is(ipText(AF_INET6, ipBytes(ip) ?? Buffer.alloc(16)), ip);
  }
  t.is(ipBytes('10.0.0')?.length, undefined);
});
