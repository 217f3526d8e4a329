import { PublishError } from '../errors/publish-error';
import { classifyError } from './classify-error';

const errno = (code: string) => Object.assign(new Error(code), { code });

describe('classifyError', () => {
  it('treats a full disk or quota as a retryable resource failure', () => {
    expect(classifyError(errno('ENOSPC'))).toMatchObject({ errorClass: 'no_space', kind: 'resource', retryable: true });
    expect(classifyError(errno('EDQUOT'))).toMatchObject({ errorClass: 'quota_exceeded', kind: 'resource', retryable: true });
  });

  it('treats EIO and EBUSY as transient', () => {
    expect(classifyError(errno('EIO'))).toMatchObject({ errorClass: 'io_error', kind: 'transient' });
    expect(classifyError(errno('EBUSY'))).toMatchObject({ errorClass: 'busy', kind: 'transient' });
  });

  it('treats a permission problem as permanent', () => {
    expect(classifyError(errno('EACCES'))).toMatchObject({ errorClass: 'permission_denied', retryable: false });
  });

  it('keeps an already classified error and retries unknown ones as internal', () => {
    const e = new PublishError('conflict', 'taken');
    expect(classifyError(e)).toBe(e);
    expect(classifyError(new Error('bug'))).toMatchObject({ errorClass: 'internal', retryable: true });
  });
});
