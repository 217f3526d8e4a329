import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { prepareNginx, type NginxUnderTest } from '../support/nginx';
import { createTestCertificate, type TestCertificate } from '../support/tls';

// testssl.sh (Debian's 3.0) against the real nginx/ configuration. Its exit code says nothing
// about findings, so the test reads the JSON file it writes.

interface Finding {
  id: string;
  severity: string;
  finding: string;
}

const SEVERE = new Set(['MEDIUM', 'HIGH', 'CRITICAL']);
// LOW findings that would mean a legacy protocol, a CBC cipher or a missing HSTS header.
const MATTERS = /^(SSLv2|SSLv3|TLS1|TLS1_1|cipherlist_.*|cipher_order.*|BEAST.*|LUCKY13|POODLE.*|SWEET32|HSTS.*|.*CBC.*)$/i;

let dir: string;
let certs: TestCertificate;
let nginx: NginxUnderTest;
let upstream: http.Server;
let findings: Finding[];

function runTestssl(port: number, jsonFile: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('testssl', [
      '--add-ca', certs.caFile, '--jsonfile', jsonFile, '--warnings', 'batch', '--color', '0', '--quiet', '--nodns', 'min', '--ip', '127.0.0.1',
      `localhost:${port}`,
    ], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', () => (fs.existsSync(jsonFile) ? resolve() : reject(new Error(`testssl wrote no JSON: ${stderr}`))));
  });
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-testssl-'));
  certs = createTestCertificate(path.join(dir, 'pki'), 397);
  // testssl only needs an HTTP answer behind TLS to read the headers; a plain 200 stands in for the api.
  upstream = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}'));
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  const port = (upstream.address() as import('node:net').AddressInfo).port;
  nginx = await prepareNginx({ cert: certs.certFile, key: certs.keyFile, apiUpstream: `127.0.0.1:${port}`, overrides: { NGINX_SERVER_NAME: 'localhost' } });
  await nginx.start();
  const json = path.join(dir, 'testssl.json');
  await runTestssl(nginx.ports.https, json);
  findings = JSON.parse(fs.readFileSync(json, 'utf8')) as Finding[];
}, 600000);

afterAll(async () => {
  await nginx?.stop();
  await new Promise((r) => upstream?.close(r));
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('testssl against nginx', () => {
  it('ran the full scan (protocols, ciphers, headers, vulnerabilities)', () => {
    const ids = new Set(findings.map((f) => f.id));
    for (const id of ['TLS1', 'TLS1_1', 'TLS1_2', 'TLS1_3', 'HSTS_time', 'cert_chain_of_trust', 'BEAST', 'LUCKY13', 'POODLE_SSL', 'SWEET32']) expect(ids).toContain(id);
  });

  it('reports nothing of severity MEDIUM or above', () => {
    expect(findings.filter((f) => SEVERE.has(f.severity)).map((f) => `${f.severity} ${f.id}: ${f.finding}`)).toEqual([]);
  });

  it('reports no LOW finding about legacy protocols, CBC ciphers or HSTS', () => {
    expect(findings.filter((f) => f.severity === 'LOW' && MATTERS.test(f.id)).map((f) => `${f.id}: ${f.finding}`)).toEqual([]);
  });

  it('sees TLS 1.0/1.1 off, 1.2/1.3 offered, HSTS set and the chain trusted through the test CA', () => {
    const by = (id: string) => findings.find((f) => f.id === id)?.finding ?? '';
    expect(by('TLS1')).toMatch(/not offered/);
    expect(by('TLS1_1')).toMatch(/not offered/);
    expect(by('TLS1_2')).toMatch(/^offered/);
    expect(by('TLS1_3')).toMatch(/^offered/);
    expect(by('HSTS_time')).toMatch(/63072000/);
    expect(by('cert_chain_of_trust')).toMatch(/^passed/);
  });
});
