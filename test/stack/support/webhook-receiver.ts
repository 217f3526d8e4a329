import fs from 'node:fs';
import { stringify } from 'yaml';

/** Service name of the test's own webhook receiver, added to the project by an override file. */
export const WEBHOOK_SERVICE = 'stack-test-webhook';
export const WEBHOOK_PORT = 8080;

// Prints one line per POST: "WEBHOOK <body on one line>"; the test reads them with docker logs.
const RECEIVER_JS = [
  "require('http').createServer((q, s) => {",
  "  let b = ''; q.on('data', (c) => (b += c));",
  "  q.on('end', () => { console.log('WEBHOOK ' + b.replace(/\\n/g, ' ')); s.end('ok'); });",
  `}).listen(${WEBHOOK_PORT});`,
].join('\n');

/**
 * Writes a compose override that adds a tiny webhook receiver, run from Ferry's own image (Node is
 * there, nothing is pulled), on the networks Alertmanager uses, hardened like the rest. It
 * publishes nothing: Alertmanager reaches it by service name on the stack's own network.
 */
export function writeWebhookOverride(file: string, image: string, networks: string[]): void {
  const service = {
    image,
    pull_policy: 'never',
    entrypoint: ['node', '-e', RECEIVER_JS],
    networks,
    read_only: true,
    cap_drop: ['ALL'],
    security_opt: ['no-new-privileges:true'],
    healthcheck: {
      // No spaces: podman 4.3 splits CMD health-check arguments on whitespace.
      test: ['CMD', 'node', '-e', `require('http').get('http://127.0.0.1:${WEBHOOK_PORT}/',(r)=>process.exit(r.statusCode===200?0:1)).on('error',()=>process.exit(1))`],
      // Starting node for each check takes seconds on a machine busy with the rest of the suite:
      // a check that answers late is a slow machine, not a dead receiver.
      interval: '5s',
      timeout: '15s',
      retries: 10,
      start_period: '30s',
    },
  };
  fs.writeFileSync(file, stringify({ services: { [WEBHOOK_SERVICE]: service } }));
}

/** One alert as Alertmanager's webhook payload carries it. */
export interface WebhookAlert {
  status: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  receiver: string;
}

/** The alerts in the receiver's log (docker logs output). */
export function alertsFromLog(log: string): WebhookAlert[] {
  const alerts: WebhookAlert[] = [];
  for (const line of log.split('\n')) {
    const i = line.indexOf('WEBHOOK ');
    if (i < 0) continue;
    try {
      const payload = JSON.parse(line.slice(i + 8)) as { receiver: string; alerts?: Omit<WebhookAlert, 'receiver'>[] };
      for (const a of payload.alerts ?? []) alerts.push({ ...a, receiver: payload.receiver });
    } catch {
      // a health-check GET has an empty body
    }
  }
  return alerts;
}
