/** Linux capability names by bit number (include/uapi/linux/capability.h), without the CAP_ prefix. */
const CAPABILITIES = [
  'CHOWN', 'DAC_OVERRIDE', 'DAC_READ_SEARCH', 'FOWNER', 'FSETID', 'KILL', 'SETGID', 'SETUID', 'SETPCAP',
  'LINUX_IMMUTABLE', 'NET_BIND_SERVICE', 'NET_BROADCAST', 'NET_ADMIN', 'NET_RAW', 'IPC_LOCK', 'IPC_OWNER',
  'SYS_MODULE', 'SYS_RAWIO', 'SYS_CHROOT', 'SYS_PTRACE', 'SYS_PACCT', 'SYS_ADMIN', 'SYS_BOOT', 'SYS_NICE',
  'SYS_RESOURCE', 'SYS_TIME', 'SYS_TTY_CONFIG', 'MKNOD', 'LEASE', 'AUDIT_WRITE', 'AUDIT_CONTROL', 'SETFCAP',
  'MAC_OVERRIDE', 'MAC_ADMIN', 'SYSLOG', 'WAKE_ALARM', 'BLOCK_SUSPEND', 'AUDIT_READ', 'PERFMON', 'BPF',
  'CHECKPOINT_RESTORE',
];

/** The capability names set in a /proc/<pid>/status hex mask (CapBnd, CapEff). */
export function decodeCapabilities(hexMask: string): string[] {
  const mask = BigInt(`0x${hexMask}`);
  const names: string[] = [];
  for (let bit = 0; bit < 64; bit += 1) {
    if ((mask >> BigInt(bit)) & 1n) names.push(CAPABILITIES[bit] ?? `CAP_${bit}`);
  }
  return names;
}

/** One process of a container as /proc/<pid>/status describes it. */
export interface ContainerProcess {
  pid: number;
  name: string;
  uid: number;
  bounding: string[];
  effective: string[];
}

/**
 * Parses the concatenated /proc/[0-9]* /status files of a container (`cat` inside it), keeping
 * the real uid, the bounding set (the most any process there can ever hold) and the effective set.
 */
export function parseProcStatus(text: string): ContainerProcess[] {
  const procs: ContainerProcess[] = [];
  for (const block of text.split(/\n(?=Name:)/)) {
    const field = (k: string) => new RegExp(`^${k}:\\s*(.*)$`, 'm').exec(block)?.[1]?.trim();
    const pid = Number(field('Pid'));
    const uid = field('Uid');
    const bnd = field('CapBnd');
    if (!Number.isInteger(pid) || uid === undefined || bnd === undefined) continue;
    procs.push({
      pid,
      name: field('Name') ?? '?',
      uid: Number(uid.split(/\s+/)[0]),
      bounding: decodeCapabilities(bnd),
      effective: decodeCapabilities(field('CapEff') ?? '0'),
    });
  }
  return procs;
}

/** Images whose entrypoint is documented to keep a root master and run the work as an unprivileged user. */
const PRIVILEGE_DROPPING_MASTERS = new Set(['nginx']);

/**
 * Why a container's processes count as unprivileged, or a problem: either nothing runs as root,
 * or the only root process is a known master (nginx) whose workers run as another user.
 */
export function privilegeProblem(procs: ContainerProcess[]): string | undefined {
  if (procs.length === 0) return 'no process found';
  const root = procs.filter((p) => p.uid === 0);
  if (root.length === 0) return undefined;
  const allowed = root.every((p) => PRIVILEGE_DROPPING_MASTERS.has(p.name)) && procs.some((p) => p.uid !== 0);
  if (allowed) return undefined;
  return `runs as root: ${root.map((p) => `${p.name}(pid ${p.pid})`).join(', ')}`;
}
