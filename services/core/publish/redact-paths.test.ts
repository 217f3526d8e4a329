import { redactServerPaths } from './redact-paths';

describe('redactServerPaths', () => {
  const roots = { stageRoot: '/srv/ferry/stage', productsRoot: '/srv/ferry/products' };

  it('names the roots instead of their server paths', () => {
    expect(redactServerPaths('/srv/ferry/stage/a/b.fits does not exist', roots)).toBe('STAGE_ROOT/a/b.fits does not exist');
    expect(redactServerPaths("EEXIST: file already exists, mkdir '/srv/ferry/products/x'", roots)).toBe("EEXIST: file already exists, mkdir 'PRODUCTS_ROOT/x'");
  });

  it('drops handle paths and hides any other absolute path', () => {
    expect(redactServerPaths("ENOENT: no such file or directory, open '/proc/self/fd/23/img.fits'", roots)).toBe("ENOENT: no such file or directory, open 'img.fits'");
    expect(redactServerPaths('cannot read /etc/passwd or (/var/lib/x)', roots)).toBe('cannot read <path> or (<path>)');
  });

  it('leaves relative paths and plain text alone', () => {
    expect(redactServerPaths('STAGE_ROOT/a/b.fits changed (size, mtime or ctime): 1/2 done', roots)).toBe('STAGE_ROOT/a/b.fits changed (size, mtime or ctime): 1/2 done');
  });
});
