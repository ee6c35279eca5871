#!/usr/bin/env bash
# Builds each link scenario in throwaway network namespaces, captures what the
# scanner reads (one `ip -j -d -batch -` process, ethtool driver info, tc for
# tcfilter, sysfs PCI ids, vhost-user sockets) and writes fixtures/<scenario>/.
#
# Usage (root):  bash scripts/capture-fixtures.sh [scenario...]
# Without arguments every captured scenario is rebuilt. Hand-written fixtures
# (ipvlan, vlan, sriov-vf, sriov-vf-vfio) are never touched: see fixtures/README.md.
#
# Everything this script makes is named twfx*: netns twfx-<scenario>[-peer],
# links twfx*, files under /tmp/twfx-*. Every link is created with `ip -n` inside
# a twfx netns (never in the host netns), so deleting the netns removes it; the
# EXIT trap deletes every netns and /tmp path this run made, also on failure.
# The host netns is only read (host-pci scenario).
set -euo pipefail

readonly ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
readonly FIXTURES=$ROOT/fixtures
# Where vhost-user sockets are looked for: <dir>/vhostuser_<address>/<socket>.
readonly VHU_DIR=/tmp/twfx-vhu
readonly SCAN_BATCH=$'addr show\nroute show table all\nneigh show\n'
readonly ALL_SCENARIOS=(veth macvlan macvlan-parent-elsewhere macvtap tap tap-multiqueue tun bridge
  lo-only no-address ipv6-only vhost-user odd-names tcfilter host-pci)

MADE_NETNS=()
MADE_PATHS=()

die() {
  printf 'capture-fixtures: %s\n' "$*" >&2
  exit 1
}

cleanup() {
  local rc=$?
  set +e
  local ns path
  # Reverse order: peer/parent namespaces were made before the links moved out of them.
  for ((i = ${#MADE_NETNS[@]} - 1; i >= 0; i--)); do
    ns=${MADE_NETNS[i]}
    ip netns del "$ns" 2>/dev/null
  done
  for path in "${MADE_PATHS[@]}"; do
    rm -rf -- "$path"
  done
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

[[ $(id -u) -eq 0 ]] || die "needs root (netns, links, ethtool inside netns)"
for tool in ip tc ethtool python3; do
  command -v "$tool" >/dev/null || die "missing tool: $tool"
done

# JSON assembly, ethtool parsing and waiting live in one small Python program,
# called with argv only; bash stays the orchestrator.
IFS= read -r -d '' PY <<'PYEOF' || true
import glob, json, os, re, socket, stat, subprocess, sys, time

PCI_BDF = re.compile(r'^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$')

def load_scan(path):
    with open(path, encoding='utf-8') as f:
        lines = [l for l in f.read().split('\n') if l.strip()]
    if len(lines) != 3:
        sys.exit(f'{path}: expected 3 JSON lines (addr, route, neigh), got {len(lines)}')
    docs = [json.loads(l) for l in lines]
    for d in docs:
        if not isinstance(d, list):
            sys.exit(f'{path}: every line must be a JSON array')
    return docs

def in_ns(ns, argv):
    return (['ip', 'netns', 'exec', ns] if ns else []) + argv

def write_json(path, value):
    with open(path, 'w', encoding='utf-8') as f:
        json.dump(value, f, indent=2, ensure_ascii=False, sort_keys=False)
        f.write('\n')

def cmd_drivers(ns, scan, out_dir, *only):
    """ethtool -i for every link (or only the named ones); pci.json for PCI bus-infos."""
    links = [l['ifname'] for l in load_scan(scan)[0]]
    if only:
        missing = [n for n in only if n not in links]
        if missing:
            sys.exit(f'{scan}: links {missing} not found')
        links = list(only)
    drivers = {}
    for name in links:
        r = subprocess.run(in_ns(ns, ['ethtool', '-i', name]), capture_output=True, text=True)
        if r.returncode != 0:
            continue  # lo and friends: no ETHTOOL_GDRVINFO
        info = dict(line.split(': ', 1) if ': ' in line else (line.rstrip(':'), '')
                    for line in r.stdout.splitlines() if line)
        drivers[name] = {'driver': info.get('driver', ''), 'busInfo': info.get('bus-info', '')}
    write_json(os.path.join(out_dir, 'drivers.json'), drivers)
    pci = {}
    for d in drivers.values():
        bdf = d['busInfo']
        if not PCI_BDF.match(bdf):
            continue
        base = f'/sys/bus/pci/devices/{bdf}'
        def read(attr):
            try:
                with open(f'{base}/{attr}') as f:
                    return f.read().strip()
            except OSError:
                return None
        bound = os.path.basename(os.readlink(f'{base}/driver')) if os.path.islink(f'{base}/driver') else None
        pci[bdf] = {'vendor': read('vendor'), 'device': read('device'), 'boundDriver': bound}
    if pci:
        write_json(os.path.join(out_dir, 'pci.json'), pci)

def cmd_vhost_user(scan, vhu_dir, out_dir):
    """What a scanner finds: a unix socket under <dir>/vhostuser_<address>/ for a link's address."""
    found = {}
    for link in load_scan(scan)[0]:
        for a in link.get('addr_info', []):
            for p in sorted(glob.glob(os.path.join(vhu_dir, f"vhostuser_{a['local']}", '*'))):
                if stat.S_ISSOCK(os.lstat(p).st_mode):
                    found.setdefault(link['ifname'], p)
    if not found:
        sys.exit(f'no vhost-user socket found under {vhu_dir}')
    write_json(os.path.join(out_dir, 'vhost-user.json'), found)

def cmd_bind_unix(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)  # the socket file outlives the process: a listener-less vhost-user socket
    s.close()

def settle_view(ns):
    base = ['ip'] + (['-n', ns] if ns else []) + ['-j', '-d']
    links = json.loads(subprocess.run(base + ['addr', 'show'], check=True, capture_output=True, text=True).stdout)
    # `addr show` omits inet6_addr_gen_mode; only `link show` reports it.
    genmode = {l['ifname']: l.get('inet6_addr_gen_mode') for l in json.loads(
        subprocess.run(base + ['link', 'show'], check=True, capture_output=True, text=True).stdout)}
    for l in links:
        l['inet6_addr_gen_mode'] = genmode.get(l['ifname'])
    routes = subprocess.run(base + ['route', 'show', 'table', 'all'], check=True, capture_output=True, text=True).stdout
    return links, routes

def cmd_settle(ns, timeout='15'):
    """Waits until carrier, link-local addresses and routes stop moving, so captures are stable."""
    deadline = time.monotonic() + float(timeout)
    previous = None
    while time.monotonic() < deadline:
        links, routes = settle_view(ns)
        ready = True
        for l in links:
            addrs = l.get('addr_info', [])
            if any(a.get('tentative') or a.get('dadfailed') for a in addrs):
                ready = False
            flags = l.get('flags', [])
            wants_ll = ('UP' in flags and 'LOWER_UP' in flags and l.get('link_type') == 'ether'
                        and l.get('inet6_addr_gen_mode') != 'none')
            if wants_ll and not any(a['local'].startswith('fe80:') for a in addrs):
                ready = False
            if 'LOWER_UP' in flags and l.get('operstate') in ('DOWN', 'LOWERLAYERDOWN'):
                ready = False
        # Bridge timers tick forever, so compare only what settling changes.
        view = json.dumps([(l['ifname'], l.get('flags'), l.get('operstate'), l.get('addr_info')) for l in links]) + routes
        if ready and view == previous:
            return
        previous = view if ready else None
        time.sleep(0.5)
    sys.exit(f'netns {ns or "(host)"} did not settle within {timeout}s')

def cmd_meta(scan, out_dir, description, extra_json, *pairs):
    """meta.json; expect must name exactly the links in the capture; expectSkipped follows the capture."""
    if len(pairs) % 2:
        sys.exit('meta: expect pairs must be link kind link kind ...')
    expect = dict(zip(pairs[0::2], pairs[1::2]))
    links = load_scan(scan)[0]
    names = [l['ifname'] for l in links]
    if sorted(names) != sorted(expect):
        sys.exit(f'{scan}: captured links {names} differ from expected {list(expect)}')
    skipped = {}
    for l in links:
        addrs = l.get('addr_info', [])
        if not addrs:
            skipped[l['ifname']] = 'no addresses'
        elif all(a.get('scope') == 'link' for a in addrs):
            sys.exit(f"{scan}: {l['ifname']} has only link-local addresses; give it an address or none")
    kernel = os.uname().release
    iproute2 = subprocess.run(['ip', '-V'], check=True, capture_output=True, text=True).stdout.strip()
    meta = {'description': description, 'captured': True, 'kernel': kernel, 'iproute2': iproute2,
            'expect': {n: expect[n] for n in names}, 'expectSkipped': skipped}
    meta.update(json.loads(extra_json))
    write_json(os.path.join(out_dir, 'meta.json'), meta)

def cmd_check_jsonl(path, lines):
    with open(path, encoding='utf-8') as f:
        got = [l for l in f.read().split('\n') if l.strip()]
    if len(got) != int(lines):
        sys.exit(f'{path}: expected {lines} JSON lines, got {len(got)}')
    for i, l in enumerate(got, 1):
        if not isinstance(json.loads(l), list):
            sys.exit(f'{path}:{i}: not a JSON array')

def cmd_host_expect(scan):
    """The host's links vary by machine: lo, the PCI NIC eth0, ifb* helpers; anything else is a surprise."""
    out = []
    for l in load_scan(scan)[0]:
        name, kind = l['ifname'], l.get('linkinfo', {}).get('info_kind')
        if name == 'lo':
            out += [name, 'loopback']
        elif name == 'eth0' and kind is None:
            out += [name, 'physical']
        elif kind == 'ifb':
            out += [name, 'unsupported']
        else:
            sys.exit(f'host link {name} (kind {kind}) has no expectation; extend host_expect')
    print('\0'.join(out), end='')

{'drivers': cmd_drivers, 'vhost-user': cmd_vhost_user, 'bind-unix': cmd_bind_unix,
 'settle': cmd_settle, 'meta': cmd_meta, 'check-jsonl': cmd_check_jsonl,
 'host-expect': cmd_host_expect}[sys.argv[1]](*sys.argv[2:])
PYEOF
readonly PY

py() { python3 -c "$PY" "$@"; }

STAGE=$(mktemp -d /tmp/twfx-stage.XXXXXX)
MADE_PATHS+=("$STAGE")

# new_ns NAME: a fresh netns with lo up and IPv6 DAD off (addresses never sit
# "tentative", so captures do not depend on timing).
new_ns() {
  local ns=$1
  [[ ! -e /var/run/netns/$ns ]] || die "netns $ns already exists (left by an earlier run?); remove it: ip netns del $ns"
  ip netns add "$ns"
  MADE_NETNS+=("$ns")
  ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
  ip -n "$ns" link set lo up
}

# no_ll NS LINK: keep a deliberately address-less link free of IPv6 link-local too.
no_ll() { ip -n "$1" link set dev "$2" addrgenmode none; }

# capture_scan SCENARIO NS: scan.jsonl + drivers.json (+ pci.json); NS empty = host.
capture_scan() {
  local out=$STAGE/$1 ns=$2
  mkdir -p "$out"
  py settle "$ns"
  if [[ -n $ns ]]; then
    printf '%s' "$SCAN_BATCH" | ip -n "$ns" -j -d -batch - >"$out/scan.jsonl"
  else
    printf '%s' "$SCAN_BATCH" | ip -j -d -batch - >"$out/scan.jsonl"
  fi
  py check-jsonl "$out/scan.jsonl" 3
}

# meta SCENARIO DESCRIPTION EXTRA_JSON LINK KIND [LINK KIND...]
meta() {
  local scn=$1
  shift
  py meta "$STAGE/$scn/scan.jsonl" "$STAGE/$scn" "$@"
}

# pin_mac NS LINK SCENARIO_NO LINK_NO: a fixed locally administered MAC (set
# before the link goes up, so its IPv6 link-local follows), keeping re-captures
# diffable: 02:77:<scenario>:00:00:<link>.
pin_mac() { ip -n "$1" link set dev "$2" address "$(printf '02:77:%02x:00:00:%02x' "$3" "$4")"; }

# veth_out NS LINK PEER_NS PEER SCENARIO_NO: a veth whose peer lives in another
# netns, both up; MACs pinned to links 1 (LINK) and 2 (PEER).
veth_out() {
  ip -n "$1" link add "$2" type veth peer name "$4" netns "$3"
  pin_mac "$1" "$2" "$5" 1
  pin_mac "$3" "$4" "$5" 2
  ip -n "$3" link set "$4" up
  ip -n "$1" link set "$2" up
}

scenario_veth() {
  local ns=twfx-veth peer=twfx-veth-peer
  new_ns "$ns"
  new_ns "$peer"
  veth_out "$ns" twfxveth0 "$peer" twfxveth1 1
  ip -n "$peer" addr add 10.77.1.1/24 dev twfxveth1
  ip -n "$peer" addr add fd77:1::1/64 dev twfxveth1
  ip -n "$ns" addr add 10.77.1.2/24 dev twfxveth0
  ip -n "$ns" addr add fd77:1::2/64 dev twfxveth0
  ip -n "$ns" route add default via 10.77.1.1 dev twfxveth0
  ip -n "$ns" -6 route add default via fd77:1::1 dev twfxveth0
  local gw_mac
  gw_mac=$(ip -n "$peer" -j link show dev twfxveth1 | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["address"])')
  ip -n "$ns" neigh replace 10.77.1.1 lladdr "$gw_mac" dev twfxveth0 nud permanent
  ip -n "$ns" neigh replace fd77:1::1 lladdr "$gw_mac" dev twfxveth0 nud permanent
  capture_scan veth "$ns"
  py drivers "$ns" "$STAGE/veth/scan.jsonl" "$STAGE/veth"
  meta veth "veth with IPv4+IPv6 addresses, default routes (v4 and v6) via the peer, permanent neighbour entries for both gateways; the peer end lives in another netns" '{}' \
    lo loopback twfxveth0 veth
}

scenario_macvlan() {
  local ns=twfx-macvlan
  new_ns "$ns"
  ip -n "$ns" link add twfxmvp0 type veth peer name twfxmvp1
  no_ll "$ns" twfxmvp0
  no_ll "$ns" twfxmvp1
  ip -n "$ns" link add twfxmv0 link twfxmvp0 type macvlan mode bridge
  pin_mac "$ns" twfxmvp0 2 1
  pin_mac "$ns" twfxmvp1 2 2
  pin_mac "$ns" twfxmv0 2 3
  ip -n "$ns" link set twfxmvp1 up
  ip -n "$ns" link set twfxmvp0 up
  ip -n "$ns" link set twfxmv0 up
  ip -n "$ns" addr add 10.77.2.2/24 dev twfxmv0
  ip -n "$ns" route add default via 10.77.2.1 dev twfxmv0
  capture_scan macvlan "$ns"
  py drivers "$ns" "$STAGE/macvlan/scan.jsonl" "$STAGE/macvlan"
  meta macvlan "macvlan (mode bridge) whose parent veth is in the same netns (ip reports the parent by name in \"link\"); parent and its peer have no address" '{}' \
    lo loopback twfxmvp0 veth twfxmvp1 veth twfxmv0 macvlan
}

scenario_macvlan_parent_elsewhere() {
  local ns=twfx-macvlan-far parent=twfx-macvlan-far-parent
  new_ns "$ns"
  new_ns "$parent"
  ip -n "$parent" link add twfxmfp0 type veth peer name twfxmfp1
  pin_mac "$parent" twfxmfp0 3 1
  pin_mac "$parent" twfxmfp1 3 2
  ip -n "$parent" link set twfxmfp0 up
  ip -n "$parent" link set twfxmfp1 up
  ip -n "$parent" link add twfxmf0 link twfxmfp0 type macvlan mode bridge
  pin_mac "$parent" twfxmf0 3 3
  ip -n "$parent" link set twfxmf0 netns "$ns"
  ip -n "$ns" link set twfxmf0 up
  ip -n "$ns" addr add 10.77.3.2/24 dev twfxmf0
  ip -n "$ns" route add default via 10.77.3.1 dev twfxmf0
  capture_scan macvlan-parent-elsewhere "$ns"
  py drivers "$ns" "$STAGE/macvlan-parent-elsewhere/scan.jsonl" "$STAGE/macvlan-parent-elsewhere"
  meta macvlan-parent-elsewhere "macvlan (mode bridge) moved into this netns; its parent veth stays in another netns (as a host NIC parent would), so ip reports link_index + link_netnsid, not a name" '{}' \
    lo loopback twfxmf0 macvlan
}

scenario_macvtap() {
  local ns=twfx-macvtap
  new_ns "$ns"
  ip -n "$ns" link add twfxmtp0 type veth peer name twfxmtp1
  no_ll "$ns" twfxmtp0
  no_ll "$ns" twfxmtp1
  ip -n "$ns" link add twfxmt0 link twfxmtp0 type macvtap mode bridge
  pin_mac "$ns" twfxmtp0 4 1
  pin_mac "$ns" twfxmtp1 4 2
  pin_mac "$ns" twfxmt0 4 3
  ip -n "$ns" link set twfxmtp1 up
  ip -n "$ns" link set twfxmtp0 up
  ip -n "$ns" link set twfxmt0 up
  ip -n "$ns" addr add 10.77.4.2/24 dev twfxmt0
  capture_scan macvtap "$ns"
  py drivers "$ns" "$STAGE/macvtap/scan.jsonl" "$STAGE/macvtap"
  meta macvtap "macvtap (mode bridge) on a same-netns veth parent; ethtool calls its driver macvlan" '{}' \
    lo loopback twfxmtp0 veth twfxmtp1 veth twfxmt0 macvtap
}

# tuntap_scenario SCENARIO SCENARIO_NO NS LINK ADDR KIND DESCRIPTION ip-tuntap-args...
tuntap_scenario() {
  local scn=$1 no=$2 ns=$3 link=$4 addr=$5 kind=$6 desc=$7
  shift 7
  new_ns "$ns"
  ip -n "$ns" tuntap add name "$link" "$@"
  [[ " $* " == *" mode tun "* ]] || pin_mac "$ns" "$link" "$no" 1
  ip -n "$ns" link set "$link" up
  ip -n "$ns" addr add "$addr" dev "$link"
  capture_scan "$scn" "$ns"
  py drivers "$ns" "$STAGE/$scn/scan.jsonl" "$STAGE/$scn"
  meta "$scn" "$desc" '{}' lo loopback "$link" "$kind"
}

scenario_tap() {
  tuntap_scenario tap 5 twfx-tap twfxtap0 10.77.5.2/24 tuntap \
    "persistent single-queue tap with vnet_hdr (ip tuntap add mode tap vnet_hdr), addressed, no process attached so NO-CARRIER" \
    mode tap vnet_hdr
}

scenario_tap_multiqueue() {
  tuntap_scenario tap-multiqueue 6 twfx-tapmq twfxtapmq0 10.77.6.2/24 tuntap \
    "persistent multi-queue tap with vnet_hdr (ip tuntap add mode tap multi_queue vnet_hdr), addressed, no queue attached" \
    mode tap multi_queue vnet_hdr
}

scenario_tun() {
  tuntap_scenario tun 7 twfx-tun twfxtun0 10.77.7.2/24 unsupported \
    "persistent layer-3 tun (ip tuntap add mode tun): no Ethernet header, cannot back a VM NIC" \
    mode tun
}

scenario_bridge() {
  local ns=twfx-bridge
  new_ns "$ns"
  ip -n "$ns" link add twfxbr0 type bridge
  ip -n "$ns" link add twfxbrp0 type veth peer name twfxbrp1
  no_ll "$ns" twfxbrp0
  no_ll "$ns" twfxbrp1
  pin_mac "$ns" twfxbr0 8 1
  pin_mac "$ns" twfxbrp0 8 2
  pin_mac "$ns" twfxbrp1 8 3
  ip -n "$ns" link set twfxbrp0 master twfxbr0
  ip -n "$ns" link set twfxbrp1 up
  ip -n "$ns" link set twfxbrp0 up
  ip -n "$ns" link set twfxbr0 up
  ip -n "$ns" addr add 10.77.8.1/24 dev twfxbr0
  capture_scan bridge "$ns"
  py drivers "$ns" "$STAGE/bridge/scan.jsonl" "$STAGE/bridge"
  meta bridge "addressed Linux bridge with one enslaved veth port (info_slave_kind bridge); the port and its peer have no address" '{}' \
    lo loopback twfxbr0 unsupported twfxbrp0 veth twfxbrp1 veth
}

scenario_lo_only() {
  local ns=twfx-lo
  new_ns "$ns"
  capture_scan lo-only "$ns"
  py drivers "$ns" "$STAGE/lo-only/scan.jsonl" "$STAGE/lo-only"
  meta lo-only "fresh netns with only lo, up" '{}' lo loopback
}

scenario_no_address() {
  local ns=twfx-noaddr
  new_ns "$ns"
  ip -n "$ns" link add twfxna0 type veth peer name twfxna1
  no_ll "$ns" twfxna0
  no_ll "$ns" twfxna1
  pin_mac "$ns" twfxna0 10 1
  pin_mac "$ns" twfxna1 10 2
  ip -n "$ns" link set twfxna0 up
  ip -n "$ns" link set twfxna1 up
  capture_scan no-address "$ns"
  py drivers "$ns" "$STAGE/no-address/scan.jsonl" "$STAGE/no-address"
  meta no-address "veth pair, both ends up and carrier on, with no address at all (addrgenmode none: not even IPv6 link-local)" '{}' \
    lo loopback twfxna0 veth twfxna1 veth
}

scenario_ipv6_only() {
  local ns=twfx-v6 peer=twfx-v6-peer
  new_ns "$ns"
  new_ns "$peer"
  veth_out "$ns" twfxv6a "$peer" twfxv6b 11
  ip -n "$peer" addr add fd77:11::1/64 dev twfxv6b
  ip -n "$ns" addr add fd77:11::2/64 dev twfxv6a
  ip -n "$ns" -6 route add default via fd77:11::1 dev twfxv6a
  capture_scan ipv6-only "$ns"
  py drivers "$ns" "$STAGE/ipv6-only/scan.jsonl" "$STAGE/ipv6-only"
  meta ipv6-only "veth with only IPv6 (global fd77:11::2/64 plus link-local) and an IPv6 default route; no IPv4 at all" '{}' \
    lo loopback twfxv6a veth
}

scenario_vhost_user() {
  local ns=twfx-vhu peer=twfx-vhu-peer addr=10.77.12.2
  new_ns "$ns"
  new_ns "$peer"
  veth_out "$ns" twfxvhu0 "$peer" twfxvhu1 12
  ip -n "$ns" addr add "$addr/24" dev twfxvhu0
  [[ ! -e $VHU_DIR ]] || die "$VHU_DIR already exists (left by an earlier run?); remove it"
  MADE_PATHS+=("$VHU_DIR")
  mkdir -p "$VHU_DIR/vhostuser_$addr"
  py bind-unix "$VHU_DIR/vhostuser_$addr/vhu.sock"
  capture_scan vhost-user "$ns"
  py drivers "$ns" "$STAGE/vhost-user/scan.jsonl" "$STAGE/vhost-user"
  py vhost-user "$STAGE/vhost-user/scan.jsonl" "$VHU_DIR" "$STAGE/vhost-user"
  rm -rf -- "$VHU_DIR"
  meta vhost-user "veth addressed $addr with a unix socket at <vhostUserDir>/vhostuser_$addr/vhu.sock (bound by python, no listener); the socket was removed after capture, vhost-user.json records what was found" \
    "{\"vhostUserDir\": \"$VHU_DIR\"}" lo loopback twfxvhu0 vhost-user
}

scenario_odd_names() {
  local ns=twfx-odd
  # 12 bytes each (limit 15): ; ' " $( ) and a two-byte é; ip forbids only / : and blanks.
  local a="twfx;'\$(x)é" b='twfx"$(y)é;'
  new_ns "$ns"
  ip -n "$ns" link add "$a" type veth peer name "$b"
  pin_mac "$ns" "$a" 13 1
  pin_mac "$ns" "$b" 13 2
  ip -n "$ns" link set "$a" up
  ip -n "$ns" link set "$b" up
  ip -n "$ns" addr add 10.77.13.2/24 dev "$a"
  ip -n "$ns" addr add 10.77.13.3/24 dev "$b"
  capture_scan odd-names "$ns"
  py drivers "$ns" "$STAGE/odd-names/scan.jsonl" "$STAGE/odd-names"
  meta odd-names "veth pair in one netns named with shell/JSON/batch-hostile characters (; ' \" \$( ) and UTF-8 é), both addressed" '{}' \
    lo loopback "$a" veth "$b" veth
}

scenario_tcfilter() {
  local ns=twfx-tcf peer=twfx-tcf-peer veth=twfxtcv0 tap=twfxtctap0
  new_ns "$ns"
  new_ns "$peer"
  veth_out "$ns" "$veth" "$peer" twfxtcv1 14
  ip -n "$ns" addr add 10.77.14.2/24 dev "$veth"
  ip -n "$ns" route add default via 10.77.14.1 dev "$veth"
  ip -n "$ns" tuntap add name "$tap" mode tap vnet_hdr
  pin_mac "$ns" "$tap" 14 3
  ip -n "$ns" link set "$tap" up
  local tc_batch="qdisc add dev $veth ingress
qdisc add dev $tap ingress
filter add dev $veth parent ffff: protocol all u32 match u8 0 0 action mirred egress redirect dev $tap
filter add dev $tap parent ffff: protocol all u32 match u8 0 0 action mirred egress redirect dev $veth
"
  printf '%s' "$tc_batch" | tc -n "$ns" -batch -
  capture_scan tcfilter "$ns"
  py drivers "$ns" "$STAGE/tcfilter/scan.jsonl" "$STAGE/tcfilter"
  local show=("qdisc show" "filter show dev $veth ingress" "filter show dev $tap ingress")
  printf '%s\n' "${show[@]}" | tc -n "$ns" -j -batch - >"$STAGE/tcfilter/tc.jsonl"
  py check-jsonl "$STAGE/tcfilter/tc.jsonl" "${#show[@]}"
  local tc_meta
  tc_meta=$(python3 -c 'import json,sys; print(json.dumps({"tcBatch": sys.argv[1:]}))' "${show[@]}")
  meta tcfilter "tcfilter wiring: addressed veth (peer in another netns) and an unaddressed tap, ingress qdisc on both, u32 match-all filters redirecting (mirred egress) each to the other; tc.jsonl is tc -j -batch output, one line per tcBatch command" \
    "$tc_meta" lo loopback "$veth" veth "$tap" tuntap
}

scenario_host_pci() {
  # Read-only: nothing is created in the host netns.
  capture_scan host-pci ""
  py drivers "" "$STAGE/host-pci/scan.jsonl" "$STAGE/host-pci" eth0
  [[ -e $STAGE/host-pci/pci.json ]] || die "host eth0 has no PCI bus-info; host-pci needs a PCI NIC"
  local expect=()
  mapfile -d '' -t expect < <(py host-expect "$STAGE/host-pci/scan.jsonl")
  meta host-pci "the host netns itself, read only: eth0 is a virtio_net NIC on PCI (ethtool bus-info is the BDF, though ip's parentbus/parentdev say virtio); only eth0 is asked via ethtool" '{}' \
    "${expect[@]}"
}

main() {
  local scenarios=("$@")
  ((${#scenarios[@]})) || scenarios=("${ALL_SCENARIOS[@]}")
  local scn
  for scn in "${scenarios[@]}"; do
    [[ " ${ALL_SCENARIOS[*]} " == *" $scn "* ]] || die "unknown scenario $scn (known: ${ALL_SCENARIOS[*]})"
  done
  for scn in "${scenarios[@]}"; do
    printf 'capturing %s\n' "$scn" >&2
    "scenario_${scn//-/_}"
  done
  # Only now replace the committed fixtures: a failed run leaves them untouched.
  for scn in "${scenarios[@]}"; do
    rm -rf -- "${FIXTURES:?}/$scn"
    cp -r -- "$STAGE/$scn" "$FIXTURES/$scn"
  done
  printf 'wrote %d scenario(s) to %s\n' "${#scenarios[@]}" "$FIXTURES" >&2
}

main "$@"
