import { runCaptured } from '../cli-test-kit';
import { redactCredentials, redactUrl } from './redact-url';

describe('redactUrl', () => {
  it('masks user:password@ and credential query parameters, keeping the rest', () => {
    expect(redactUrl('https://ops:hunter2@ferry.example:8443/base/?token=fry_abc&limit=5&access_token=xyz')).toBe(
      'https://***@ferry.example:8443/base/?token=***&limit=5&access_token=***',
    );
  });

  it('scrubs a string that is not a URL by pattern', () => {
    expect(redactCredentials('not a url: htp//x http://u:p@host/?password=pw and key=k1')).toBe('not a url: htp//x http://***@host/?password=*** and key=***');
  });
});

describe('ferryctl never prints URL credentials', () => {
  it('redacts them in a connection error', async () => {
    // Port 1 on loopback: nothing listens there, so the connection is refused at once.
    const out = await runCaptured(['--url', 'http://ops:hunter2@127.0.0.1:1/?token=fry_secret', 'status'], { FERRY_TOKEN: 'fry_cli' });
    expect({ code: out.code, stderr: out.stderr }).toEqual({
      code: 2,
      stderr: 'ferryctl: cannot reach the API at http://***@127.0.0.1:1/?token=***: connection refused\n',
    });
  });

  it('redacts them when the URL is refused as malformed', async () => {
    const out = await runCaptured(['--url', 'ftp://ops:hunter2@host/', 'status'], { FERRY_TOKEN: 'fry_cli' });
    expect(out.stderr).toBe('ferryctl: --url/FERRY_URL must be http:// or https://, got ftp://***@host/\n');
  });
});
