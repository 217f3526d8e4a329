import { Command } from 'commander';
import { runOneShot } from './run-process';

/** Runs a one-shot with process.stderr captured; resolves to its exit code and what it wrote. */
async function outcome(spec: Parameters<typeof runOneShot>[0]): Promise<{ code: number; stderr: string }> {
  const written: string[] = [];
  const spy = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    written.push(String(chunk));
    return true;
  });
  try {
    let code = -1;
    await runOneShot(spec, (c) => {
      code = c;
    });
    return { code, stderr: written.join('') };
  } finally {
    spy.mockRestore();
  }
}

describe('runOneShot', () => {
  it('exits with the code main returns, 0 when it returns nothing', async () => {
    expect(await outcome({ name: 'x', main: async () => 3 })).toEqual({ code: 3, stderr: '' });
    expect(await outcome({ name: 'x', main: async () => undefined })).toEqual({ code: 0, stderr: '' });
  });

  it('reports a thrown error on one stderr line and exits 1, or with the code exitCodeFor gives', async () => {
    expect(await outcome({ name: 'backup.sh', main: async () => { throw new Error('disk full'); } })).toEqual({ code: 1, stderr: 'backup.sh: error: disk full\n' });
    expect(await outcome({ name: 'restore.sh', main: async () => { throw new Error('half done'); }, exitCodeFor: () => 3 })).toEqual({ code: 3, stderr: 'restore.sh: error: half done\n' });
  });

  it('reports a bad configuration with its problems and exits 1', async () => {
    const env = jest.replaceProperty(process, 'env', { STAGE_ROOT: 'relative' });
    const res = await outcome({ name: 'healthcheck', main: async ({ config }) => { config('healthcheck'); } }).finally(() => env.restore());
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/^healthcheck: invalid configuration:\n {2}- /);
    expect(res.stderr).toContain('STAGE_ROOT: must be an absolute path');
  });

  it('exits 2 on a usage error and 0 on --help, leaving the text to commander', async () => {
    const program = () => new Command('t').option('--n <n>').exitOverride().configureOutput({ writeOut: () => {}, writeErr: () => {} });
    expect(await outcome({ name: 't', main: async () => { program().parse(['node', 't', '--bogus']); } })).toEqual({ code: 2, stderr: '' });
    expect(await outcome({ name: 't', main: async () => { program().parse(['node', 't', '--help']); } })).toEqual({ code: 0, stderr: '' });
  });
});
