// The demo's throwaway "pod": a netns wired by a veth pair to a peer netns,
// as a CNI bridge/ptp plugin would leave it. Three ip processes to build,
// one to tear down; teardown is safe to call twice.
import { randomBytes } from 'node:crypto';
import * as E from 'fp-ts/lib/Either.js';
import { run, type SysError } from '@tapwire/sys';

export interface DemoPod {
  readonly pod: string;
  readonly peer: string;
  readonly podIf: string;
  readonly podAddr: string;
  readonly peerAddr: string;
  readonly remove: () => Promise<void>;
}

export const createDemoPod = async (): Promise<E.Either<SysError, DemoPod>> => {
  const id = randomBytes(3).toString('hex');
  const pod = `tw-demo-pod-${id}`;
  const peer = `tw-demo-peer-${id}`;
  const podIf = 'eth0';
  const podAddr = '10.200.0.2';
  const peerAddr = '10.200.0.1';
  const remove = async () => {
    await run(['ip', '-force', '-batch', '-'], { input: `netns del ${pod}\nnetns del ${peer}\n` })();
  };
  const steps: [readonly string[], string][] = [
    [['ip', '-batch', '-'], `netns add ${pod}\nnetns add ${peer}\nlink add twd${id} netns ${pod} type veth peer name twp${id} netns ${peer}\n`],
    [
      ['ip', '-n', pod, '-batch', '-'],
      `link set lo up\nlink set twd${id} name ${podIf}\nlink set ${podIf} address 02:00:0a:c8:00:02\naddr add ${podAddr}/24 dev ${podIf}\nlink set ${podIf} up\nroute add default via ${peerAddr} dev ${podIf}\n`,
    ],
    [['ip', '-n', peer, '-batch', '-'], `link set lo up\naddr add ${peerAddr}/24 dev twp${id}\nlink set twp${id} up\n`],
  ];
  for (const [argv, input] of steps) {
    const r = await run(argv, { input })();
    if (E.isLeft(r)) {
      await remove();
      return r;
    }
  }
  return E.right({ pod, peer, podIf, podAddr, peerAddr, remove });
};
