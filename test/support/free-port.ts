import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';

/** The lowest port freePort draws. */
const LOWEST = 10000;

/** Ports this process has handed out: two draws in one test (ten at once, in places) never coincide. */
const given = new Set<number>();

/** The first port of the kernel's ephemeral range (listen on 0, outgoing connections). */
function ephemeralLow(): number {
  try {
    return Number(fs.readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || 32768;
  } catch {
    return 32768;
  }
}

/** Read once: the range is the machine's, not the test's. */
const EPHEMERAL_LOW = ephemeralLow();

/** Whether address:port can be listened on right now. */
function canListen(port: number, address: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, address, () => s.close(() => resolve(true)));
  });
}

/**
 * A port free a moment ago on address (127.0.0.1 unless given), for a process a test starts next
 * (for settings that refuse 0). Drawn at random below the kernel's ephemeral range, never by
 * listening on 0: a port the kernel picked goes back into that range when closed, where any
 * process's listen on 0 or outgoing connection may take it before the process under test binds it,
 * and that process then exits at start-up with EADDRINUSE. Below the range only another freePort
 * can take it.
 */
export async function freePort(address = '127.0.0.1'): Promise<number> {
  const high = EPHEMERAL_LOW - 1;
  for (let tries = 0; tries < 100 && high > LOWEST; tries++) {
    const port = LOWEST + crypto.randomInt(high - LOWEST + 1);
    if (given.has(port)) continue;
    given.add(port);
    if (await canListen(port, address)) return port;
  }
  throw new Error(`no free port found on ${address} between ${LOWEST} and ${high}`);
}
