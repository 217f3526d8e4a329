import { spawn } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { fsyncFile, readSha256File, sha256File, sha256Line, syncDir, writeFileAtomic } from './atomic-file';
import { BackupError } from './backup-error';
import { utcStamp } from './backup-files';

/** What a configuration backup holds by default, relative to the deployment directory (missing ones are skipped). */
export const DEFAULT_CONFIG_PATHS = [
  '.env.production',
  'certs',
  'secrets',
  'docker-compose.override.yml',
  'nginx/conf.d/local.conf',
  'nginx/local',
  'monitoring/local',
  'monitoring/alertmanager/alertmanager.local.yml',
];

// The documented decryption command must stay in step with these parameters.
const CIPHER = ['-aes-256-cbc', '-pbkdf2', '-iter', '200000', '-md', 'sha256'];

/** The shell pipeline that decrypts and unpacks an archive by hand (docs/disaster-recovery.md). */
export function decryptCommand(archive: string, passphraseFile: string, into: string): string {
  return `openssl enc -d ${CIPHER.join(' ')} -pass file:${passphraseFile} -in ${archive} | tar -xzf - -C ${into}`;
}

/** Runs `a | b`, writing b's stdout to outFile; rejects with the stderr of whichever failed. */
function pipe(a: string[], b: string[], opts: { cwd?: string; outFile?: string }): Promise<void> {
  return new Promise((resolve, reject) => {
    const pa = spawn(a[0]!, a.slice(1), { cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    const pb = spawn(b[0]!, b.slice(1), { cwd: opts.cwd, stdio: ['pipe', opts.outFile ? 'pipe' : 'ignore', 'pipe'] });
    const errs = { a: '', b: '' };
    pa.stderr.on('data', (d: Buffer) => (errs.a += d.toString()));
    pb.stderr!.on('data', (d: Buffer) => (errs.b += d.toString()));
    pb.stdin!.on('error', () => undefined);
    pa.stdout.pipe(pb.stdin!);
    let sinkDone: Promise<void> = Promise.resolve();
    if (opts.outFile && pb.stdout) {
      const sink = fs.createWriteStream(opts.outFile, { mode: 0o600 });
      sinkDone = new Promise((res, rej) => sink.on('close', () => res()).on('error', rej));
      pb.stdout.pipe(sink);
    }
    const codes: Promise<number | null>[] = [pa, pb].map((p) => new Promise((res) => p.on('close', res).on('error', () => res(-1))));
    Promise.all([...codes, sinkDone]).then(([ca, cb]) => {
      if (ca !== 0) reject(new BackupError(`${a[0]} failed: ${errs.a.trim() || `exit ${ca}`}`));
      else if (cb !== 0) reject(new BackupError(`${b[0]} failed: ${errs.b.trim() || `exit ${cb}`}`));
      else resolve();
    }, reject);
  });
}

/** Reads a passphrase file and refuses an empty or world-readable one. */
async function checkPassphraseFile(file: string | undefined): Promise<string> {
  if (!file) throw new BackupError('no passphrase file: set BACKUP_PASSPHRASE_FILE (in .env.production or the environment)');
  let st;
  try {
    st = await fsp.stat(file);
  } catch {
    throw new BackupError(`passphrase file ${file} does not exist`);
  }
  if (st.size === 0) throw new BackupError(`passphrase file ${file} is empty`);
  if (st.mode & 0o004) throw new BackupError(`passphrase file ${file} is readable by everyone: chmod 600 it`);
  return path.resolve(file);
}

/**
 * Archives the deployment's configuration (env file, certificates, secrets, local overrides) with
 * tar, encrypts it with AES-256 under a passphrase file, and writes it atomically with a .sha256.
 */
export async function createConfigBackup(opts: {
  root: string;
  dir: string;
  paths: string[];
  passphraseFile: string | undefined;
  now?: Date;
  log: (msg: string) => void;
}): Promise<{ archive: string; included: string[] }> {
  const pass = await checkPassphraseFile(opts.passphraseFile);
  const included: string[] = [];
  for (const p of opts.paths) {
    if (path.isAbsolute(p) || p.split(/[\\/]/).includes('..')) throw new BackupError(`config path ${p} must be relative to ${opts.root}`);
    if (await fsp.access(path.join(opts.root, p)).then(() => true, () => false)) included.push(p);
  }
  if (!included.includes('.env.production')) throw new BackupError(`${path.join(opts.root, '.env.production')} not found: is this the deployment directory?`);
  await fsp.mkdir(opts.dir, { recursive: true });
  const archive = path.join(opts.dir, `ferry-config-${utcStamp(opts.now ?? new Date())}.tar.gz.enc`);
  const tmp = path.join(opts.dir, `.${path.basename(archive)}.tmp`);
  try {
    await pipe(['tar', '-czf', '-', '--', ...included], ['openssl', 'enc', ...CIPHER, '-salt', '-pass', `file:${pass}`], { cwd: opts.root, outFile: tmp });
    await fsyncFile(tmp);
    await fsp.rename(tmp, archive);
    await syncDir(opts.dir);
    await writeFileAtomic(`${archive}.sha256`, sha256Line(await sha256File(archive), archive));
  } catch (err) {
    await fsp.rm(tmp, { force: true });
    throw err;
  }
  opts.log(`config backup ${archive}: ${included.join(', ')}`);
  return { archive, included };
}

/** Checks, decrypts and unpacks a configuration archive into an empty or new directory. */
export async function restoreConfigBackup(opts: { archive: string; into: string; passphraseFile: string | undefined }): Promise<string[]> {
  const pass = await checkPassphraseFile(opts.passphraseFile);
  const expected = await readSha256File(`${opts.archive}.sha256`);
  if (expected && expected !== (await sha256File(opts.archive))) throw new BackupError(`checksum mismatch for ${opts.archive}: the archive is corrupted`);
  await fsp.mkdir(opts.into, { recursive: true });
  if ((await fsp.readdir(opts.into)).length > 0) throw new BackupError(`${opts.into} is not empty: unpack into a new directory and copy what you need`);
  await pipe(['openssl', 'enc', '-d', ...CIPHER, '-pass', `file:${pass}`, '-in', path.resolve(opts.archive)], ['tar', '-xzf', '-', '-C', path.resolve(opts.into)], {});
  return fsp.readdir(opts.into);
}
