#!/usr/bin/python3
"""The per-operation netlink baseline: the bench's attach/fds/detach cycle done
with pyroute2 (Debian's python3-pyroute2), one request and one ack at a time,
as a netlink library user writes it. Reads the cycle as JSON on stdin
(netns, queues, links with their tap name and alias, detach group), enters the
netns before timing, and prints the milliseconds of each phase as JSON. The
same operations, order and alias as the bench's hand commands, so the kernel
does the same work; only tap creation and queue fds are ioctls (as in pyroute2
itself)."""
import fcntl
import json
import os
import struct
import sys
import time

from pyroute2 import IPRoute
from pyroute2.netns import setns

TUNSETIFF = 0x400454CA
TUNSETPERSIST = 0x400454CB
IFF_TAP, IFF_NO_PI, IFF_VNET_HDR, IFF_MULTI_QUEUE, IFF_TUN_EXCL = 0x2, 0x1000, 0x4000, 0x100, 0x8000
INGRESS = 0xFFFF0000
NOQUEUE = 0x10000  # the tap's root qdisc, handle 1:
ETH_P_ALL = 0x0003


def ifreq(name, flags):
    return name.encode() + b'\0' * (16 - len(name)) + struct.pack('H', flags) + b'\0' * 22


def make_tap(name, multi_queue):
    fd = os.open('/dev/net/tun', os.O_RDWR)
    try:
        fcntl.ioctl(fd, TUNSETIFF, ifreq(name, IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | IFF_TUN_EXCL | (IFF_MULTI_QUEUE if multi_queue else 0)))
        fcntl.ioctl(fd, TUNSETPERSIST, 1)
    finally:
        os.close(fd)


def open_queues(name, queues, multi_queue):
    fds = []
    try:
        for _ in range(queues):
            fd = os.open('/dev/net/tun', os.O_RDWR)
            fds.append(fd)
            fcntl.ioctl(fd, TUNSETIFF, ifreq(name, IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | (IFF_MULTI_QUEUE if multi_queue else 0)))
    finally:
        for fd in fds:
            os.close(fd)
    return len(fds)


def main():
    job = json.load(sys.stdin)
    setns(job['netns'])
    queues = job['queues']
    mq = queues > 1
    ms = {}
    with IPRoute() as ip:
        t = time.perf_counter()

        def lap(phase):
            nonlocal t
            now = time.perf_counter()
            ms[phase] = (now - t) * 1000
            t = now

        links = {l.get_attr('IFLA_IFNAME'): l for l in ip.get_links()}
        ip.get_addr()
        index = {name: l['index'] for name, l in links.items()}
        lap('scan')
        for l in job['links']:
            make_tap(l['tap'], mq)
            tap = ip.link_lookup(ifname=l['tap'])[0]
            index[l['tap']] = tap
            ip.link('set', index=tap, ifalias=l['alias'])
            ip.link('set', index=tap, mtu=l['mtu'])
        for l in job['links']:
            link, tap = index[l['name']], index[l['tap']]
            ip.tc('add', kind='noqueue', index=tap, handle=NOQUEUE)
            ip.tc('add', 'ingress', link)
            ip.tc('add', 'ingress', tap)
            for a, b in ((link, tap), (tap, link)):
                # pyroute2's u32 always sends a classid; 0 binds nothing on an ingress qdisc.
                ip.tc('add-filter', 'u32', a, parent=INGRESS, protocol=ETH_P_ALL, target=0, keys=['0x0/0x0+0'],
                      action=[{'kind': 'mirred', 'direction': 'egress', 'action': 'redirect', 'ifindex': b}])
        for l in job['links']:
            ip.link('set', index=index[l['tap']], state='up')
        lap('attach')
        fds = sum(open_queues(l['tap'], queues, mq) for l in job['links'])
        lap('fds')
        for l in job['links']:
            ip.tc('del', 'ingress', index[l['name']])
        if len(job['links']) > 1:
            for l in job['links']:
                ip.link('set', index=index[l['tap']], group=job['group'])
            ip.link('del', group=job['group'])
        else:
            for l in job['links']:
                ip.link('del', index=index[l['tap']])
        lap('detach')
    print(json.dumps({'ms': ms, 'fds': fds}))


main()
