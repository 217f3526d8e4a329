import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { nativeTarget, pgCommand, targetUrl, urlToPgEnv } from './pg-target';

describe('pg-target', () => {
  it('turns a DATABASE_URL into PG* variables so no password reaches the command line', () => {
    expect(urlToPgEnv('postgres://ferry:p%40ss@db.internal:6543/registry?sslmode=require')).toEqual({
      PGHOST: 'db.internal',
      PGPORT: '6543',
      PGUSER: 'ferry',
      PGPASSWORD: 'p@ss',
      PGDATABASE: 'registry',
      PGSSLMODE: 'require',
    });
    const t = nativeTarget({ DATABASE_URL: 'postgres://ferry:secret@db/registry' });
    const line = pgCommand(t, 'pg_dump', ['--format=custom']);
    expect(line).toEqual({ cmd: 'pg_dump', args: ['-d', 'registry', '--format=custom'] });
    expect(JSON.stringify(line)).not.toContain('secret');
    expect(targetUrl(t, 'other')).toBe('postgres://ferry:secret@db/other');
  });

  it('reads the password from DATABASE_PASSWORD_FILE when the URL has none', () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-pg-')), 'pw');
    fs.writeFileSync(file, 'from-secret\n');
    const t = nativeTarget({ DATABASE_URL: 'postgres://ferry@postgres:5432/ferry', DATABASE_PASSWORD_FILE: file });
    expect(t.env.PGPASSWORD).toBe('from-secret');
    expect(t.env.DATABASE_PASSWORD_FILE).toBeUndefined();
  });

  it('runs the tools inside the postgres service in compose mode, reading archives from stdin', () => {
    const t = { mode: 'compose' as const, env: {}, compose: ['docker', 'compose', '-f', 'x.yml'], service: 'postgres', database: 'ferry' };
    const line = pgCommand(t, 'pg_restore', ['--list']);
    expect(line.cmd).toBe('docker');
    expect(line.args.slice(0, 6)).toEqual(['compose', '-f', 'x.yml', 'exec', '-T', 'postgres']);
    expect(line.args.slice(-2)).toEqual(['pg_restore', '--list']);
  });
});
