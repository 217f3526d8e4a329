import { execSync } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { listDir, runDeployScript } from '../support/backup';
import { createTestRoots, writeFile, type TestRoots } from '../support/dirs';

// Real pg_dump / pg_restore runs on 2 shared cores: allow more than jest's default 5 s.
jest.setTimeout(120_000);

/** Every file under dir with its content and permission bits, for comparing two trees. */
async function tree(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const entry of await fs.readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath, entry.name);
    const st = await fs.stat(file);
    out[path.relative(dir, file)] = `${(st.mode & 0o777).toString(8)}:${await fs.readFile(file, 'utf8')}`;
  }
  return out;
}

describe('backup.sh --config', () => {
  let roots: TestRoots;
  let deployment: string;
  let passphrase: string;
  const SECRET = 'db-password-that-must-never-appear-in-clear';

  beforeAll(async () => {
    roots = await createTestRoots();
    deployment = path.join(roots.base, 'deployment');
    // The passphrase lives outside what is archived: it must be kept elsewhere (a password manager).
    passphrase = path.join(roots.base, 'backup-passphrase');
    await fs.writeFile(passphrase, 'correct horse battery staple\n', { mode: 0o600 });
    await writeFile(deployment, '.env.production', `POSTGRES_PASSWORD_FILE=./secrets/postgres_password\nBACKUP_PASSPHRASE_FILE=${passphrase}\nBACKUP_DIR=${path.join(roots.base, 'backups')}\n`);
    await writeFile(deployment, 'secrets/postgres_password', SECRET);
    await fs.chmod(path.join(deployment, 'secrets/postgres_password'), 0o600);
    await writeFile(deployment, 'certs/fullchain.pem', '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
    await writeFile(deployment, 'certs/privkey.pem', '-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n');
    await writeFile(deployment, 'docker-compose.override.yml', 'services: {}\n');
    await writeFile(deployment, 'nginx/conf.d/local.conf', '# local nginx override\n');
    await writeFile(deployment, 'monitoring/local/alert-receivers.yml', 'receivers: []\n');
    // Not configuration: must stay out of the archive.
    await writeFile(deployment, 'backups/ferry-20260101T000000Z.dump', 'PGDMP');
  });
  afterAll(() => roots.cleanup());

  it('round-trips the configuration through an encrypted archive: encrypt, decrypt, same files', async () => {
    const env = { FERRY_ROOT: deployment };
    const res = await runDeployScript('backup.sh', ['--config'], env);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    const backups = path.join(roots.base, 'backups');
    const [archiveName, shaName] = await listDir(backups);
    expect(archiveName).toMatch(/^ferry-config-\d{8}T\d{6}Z\.tar\.gz\.enc$/);
    expect(shaName).toBe(`${archiveName}.sha256`);
    const archive = path.join(backups, archiveName!);
    const bytes = await fs.readFile(archive);
    expect(bytes.subarray(0, 8).toString()).toBe('Salted__'); // openssl enc with a salt
    expect(bytes.includes(Buffer.from(SECRET))).toBe(false);

    const into = path.join(roots.base, 'restored');
    const restored = await runDeployScript('restore.sh', ['--config', '--into', into, archive], env);
    expect(restored.stderr).toBe('');
    expect(restored.code).toBe(0);
    const expected = await tree(deployment);
    delete expected['backups/ferry-20260101T000000Z.dump'];
    expect(await tree(into)).toEqual(expected);

    // The by-hand decryption documented in docs/disaster-recovery.md gives the same files.
    const byHand = path.join(roots.base, 'by-hand');
    await fs.mkdir(byHand);
    execSync(`openssl enc -d -aes-256-cbc -pbkdf2 -iter 200000 -md sha256 -pass file:${passphrase} -in ${archive} | tar -xzf - -C ${byHand}`);
    expect(await tree(byHand)).toEqual(expected);
  });

  it('refuses to decrypt with the wrong passphrase', async () => {
    const backups = path.join(roots.base, 'backups');
    const archive = path.join(backups, (await listDir(backups)).find((f) => f.endsWith('.enc'))!);
    const wrong = path.join(roots.base, 'wrong-passphrase');
    await fs.writeFile(wrong, 'not the passphrase\n', { mode: 0o600 });
    const into = path.join(roots.base, 'wrong');
    const res = await runDeployScript('restore.sh', ['--config', '--into', into, archive], { FERRY_ROOT: deployment, BACKUP_PASSPHRASE_FILE: wrong });
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/openssl failed|tar failed/);
  });

  it('refuses a passphrase file that everyone can read', async () => {
    const open = path.join(roots.base, 'open-passphrase');
    await fs.writeFile(open, 'x\n', { mode: 0o644 });
    await fs.chmod(open, 0o644);
    const res = await runDeployScript('backup.sh', ['--config'], { FERRY_ROOT: deployment, BACKUP_PASSPHRASE_FILE: open });
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/readable by everyone/);
  });
});
