import type { CliIo } from '../context';
import { createProgress, renderBar } from './progress';
import { formatBytes, formatPairs, formatTable, truncate } from './table';

describe('output formatting', () => {
  it('aligns table columns under their headers', () => {
    const out = formatTable(['ID', 'N'], [['a', 1], ['longer', null]]);
    expect(out).toBe('ID      N\na       1\nlonger  -\n');
  });

  it('keeps a table cell on one line', () => {
    expect(formatTable(['E'], [['line1\nline2']])).toBe('E\nline1 line2\n');
  });

  it('aligns key/value pairs', () => {
    expect(formatPairs([['a', 1], ['bbb', 'x']])).toBe('a    1\nbbb  x\n');
  });

  it('truncates long text with an ellipsis', () => {
    expect(truncate('abcdef', 4)).toBe('abc…');
    expect(truncate('abc', 4)).toBe('abc');
    expect(truncate(null, 4)).toBe('');
  });

  it('prints sizes in binary units', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(3 * 1024 ** 3)).toBe('3.0 GiB');
    expect(formatBytes(null)).toBe('-');
  });

  it('draws a progress bar proportional to the work done', () => {
    expect(renderBar(5, 10, 'x', 10)).toBe('[#####-----] 5/10 x');
    expect(renderBar(0, 0, '', 4)).toBe('[####] 0/0');
    expect(renderBar(3, undefined, 'checked')).toBe('3 checked');
  });
});

describe('progress', () => {
  function io(isTTY: boolean) {
    const out = { stdout: '', stderr: '' };
    const sink: CliIo = { stdout: { write: (s: string) => (out.stdout += s) }, stderr: { write: (s: string) => (out.stderr += s) }, isTTY };
    return { out, sink };
  }

  it('prints plain lines on stdout when not on a terminal', () => {
    const { out, sink } = io(false);
    const p = createProgress(sink, 2, 'retried');
    p.step('retried a');
    p.step('retried b');
    p.done();
    expect(out).toEqual({ stdout: 'retried a\nretried b\n', stderr: '' });
  });

  it('redraws a bar on stderr on a terminal and keeps stdout clean', () => {
    const { out, sink } = io(true);
    const p = createProgress(sink, 2, 'retried');
    p.step('retried a');
    p.print('MISMATCH x');
    p.done();
    expect(out.stdout).toBe('MISMATCH x\n');
    expect(out.stderr).toContain('\r\x1b[2K[###############---------------] 1/2 retried');
    expect(out.stderr.endsWith('\r\x1b[2K')).toBe(true);
  });
});
