// decode-netlink.ts on captured bytes: the link and address dumps `ip -d addr
// show` received decode to the links decode-ip.ts makes from ip's JSON of the
// same netns.
import test from 'ava';
import * as E from 'fp-ts/lib/Either.js';
import { netlink } from '@tapwire/sys';
import { decodeLinks } from './decode-ip.js';
import { decodeNetlinkLinks } from './decode-netlink.js';
import { ADDR_DUMP, IP_ADDR_SHOW_JSON, LINK_DUMP } from './testing-netlink-dump.js';

const messages = (datagrams: readonly string[]) => datagrams.flatMap((h) => netlink.splitMessages(Buffer.from(h, 'hex')));

test('captured link and address dumps decode to the links ip -j -d addr show printed', (t) => {
  const viaIp = decodeLinks(IP_ADDR_SHOW_JSON);
  if (E.isLeft(viaIp)) return t.fail(viaIp.left.problems.join('; '));
  const viaNetlink = decodeNetlinkLinks(messages(LINK_DUMP), messages(ADDR_DUMP));
  t.true(viaNetlink.length >= 6);
  t.deepEqual(viaNetlink, viaIp.right);
});

test('a dump part that is no link or address message is ignored', (t) => {
  const done = messages(LINK_DUMP).filter((m) => m.type === netlink.NLMSG_DONE);
  t.true(done.length > 0);
  t.deepEqual(decodeNetlinkLinks(done, done), []);
});
