import { execFile, execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * Hosts made of network namespaces on this machine, joined by veth pairs to one bridge (itself
 * in a namespace of its own), for tests of Ferry across hosts and partitions. Addresses are only
 * 127.88.0.x, which exist inside these namespaces alone: each namespace lets 127/8 be routed
 * (route_localnet) and keeps only 127.0.0.1 local, so another host's 127.88.0.x goes out on the
 * wire. Nothing is changed outside the namespaces the lab creates.
 */
export interface NetLab {
  /** Random suffix of every namespace name (fkm-<id>-<host>). */
  id: string;
  /** The namespace of a host. */
  ns(host: string): string;
  /** `ip netns exec <ns>`: prefix a command with it to run the command on that host. */
  prefix(host: string): string[];
  /** Takes a link down at the bridge: nothing passes, connections stall (no reset). */
  cut(link: string): Promise<void>;
  /** Brings the link back. */
  restore(link: string): Promise<void>;
  /** Kills what still runs in the lab's namespaces and deletes them. Idempotent. */
  cleanup(): Promise<void>;
}

/** One network interface of a host: its link name (unique in the lab) and its address. */
export interface NetLink {
  link: string;
  address: string;
}

/** Why this process cannot build a lab (not root, no `ip`), or undefined when it can. */
export function netLabUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'network namespaces need root (this process is not)';
  try {
    execFileSync('ip', ['netns', 'list'], { stdio: 'ignore' });
  } catch (err) {
    return `\`ip netns\` does not work here: ${(err as Error).message.split('\n')[0]}`;
  }
  return undefined;
}

const ip = (...args: string[]) => run('ip', args);

/** Creates the bridge and one namespace per host with the given links, all up. */
export async function createNetLab(hosts: Record<string, NetLink[]>): Promise<NetLab> {
  const id = crypto.randomBytes(3).toString('hex');
  const bridge = `fkm-${id}-bridge`;
  const created: string[] = [];
  const nsOf = (host: string) => `fkm-${id}-${host}`;
  const exec = (ns: string, ...cmd: string[]) => run('ip', ['netns', 'exec', ns, ...cmd]);

  const lab: NetLab = {
    id,
    ns: nsOf,
    prefix: (host) => ['ip', 'netns', 'exec', nsOf(host)],
    cut: async (link) => { await ip('-n', bridge, 'link', 'set', `p-${link}`, 'down'); },
    restore: async (link) => { await ip('-n', bridge, 'link', 'set', `p-${link}`, 'up'); },
    async cleanup() {
      for (const ns of created.splice(0).reverse()) {
        const pids = await run('ip', ['netns', 'pids', ns]).then((r) => r.stdout.split('\n').filter(Boolean), () => []);
        for (const pid of pids) {
          try {
            process.kill(Number(pid), 'SIGKILL');
          } catch {
            // already gone
          }
        }
        await ip('netns', 'del', ns).catch(() => undefined);
      }
    },
  };

  try {
    await ip('netns', 'add', bridge);
    created.push(bridge);
    await ip('-n', bridge, 'link', 'set', 'lo', 'up');
    await ip('-n', bridge, 'link', 'add', 'br0', 'type', 'bridge');
    await ip('-n', bridge, 'link', 'set', 'br0', 'up');
    for (const [host, links] of Object.entries(hosts)) {
      const ns = nsOf(host);
      await ip('netns', 'add', ns);
      created.push(ns);
      await ip('-n', ns, 'link', 'set', 'lo', 'up');
      await exec(ns, 'sysctl', '-qw', 'net.ipv4.conf.all.route_localnet=1', 'net.ipv4.conf.all.rp_filter=0', 'net.ipv4.conf.default.rp_filter=0');
      // Only 127.0.0.1 stays local; the rest of 127/8 is routed like any other network.
      await ip('-n', ns, 'route', 'del', 'local', '127.0.0.0/8', 'dev', 'lo', 'table', 'local');
      for (const [i, l] of links.entries()) {
        const dev = `eth${i}`;
        await ip('-n', bridge, 'link', 'add', `p-${l.link}`, 'type', 'veth', 'peer', 'name', dev, 'netns', ns);
        await ip('-n', bridge, 'link', 'set', `p-${l.link}`, 'master', 'br0', 'up');
        await exec(ns, 'sysctl', '-qw', `net.ipv4.conf.${dev}.route_localnet=1`, `net.ipv4.conf.${dev}.rp_filter=0`);
        await ip('-n', ns, 'addr', 'add', `${l.address}/24`, 'dev', dev);
        await ip('-n', ns, 'link', 'set', dev, 'up');
        if (links.length > 1) {
          // A host with several links answers on each from its own address only (no ARP flux,
          // replies leave by the link they came in on), so cutting one link leaves the others up.
          const table = String(100 + i);
          const subnet = `${l.address.split('.').slice(0, 3).join('.')}.0/24`;
          await exec(ns, 'sysctl', '-qw', `net.ipv4.conf.${dev}.arp_ignore=1`, `net.ipv4.conf.${dev}.arp_announce=2`);
          await ip('-n', ns, 'route', 'add', subnet, 'dev', dev, 'src', l.address, 'table', table);
          await ip('-n', ns, 'rule', 'add', 'from', l.address, 'table', table);
        }
      }
    }
  } catch (err) {
    await lab.cleanup();
    throw err;
  }
  return lab;
}
