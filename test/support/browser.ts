import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { REPO_ROOT } from './repo-root';

/** Debian's Chromium (`apt-get install chromium`; .ci/prepare.sh installs it). */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * A network namespace of its own for the browser, reaching `ports` on this machine's loopback
 * (test/support/loopback-ns.py): undefined where one cannot be made (not root). Its process and
 * a wrapper that runs a program inside it; stop() ends both.
 */
async function loopbackNamespace(ports: readonly number[]): Promise<{ wrap(program: string): string; stop(): void } | undefined> {
  const child = spawn('python3', [path.join(__dirname, 'loopback-ns.py'), ...ports.map(String)], { stdio: ['ignore', 'pipe', 'pipe'] });
  const ready = await new Promise<string | undefined>((resolve) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /^ready (\S+)$/m.exec(out);
      if (m) resolve(m[1]);
    });
    child.once('exit', () => resolve(undefined));
    child.once('error', () => resolve(undefined));
  });
  if (!ready) {
    child.kill('SIGKILL');
    return undefined;
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-browser-'));
  return {
    wrap(program) {
      const script = path.join(dir, 'in-namespace');
      fs.writeFileSync(script, `#!/bin/sh\nexec nsenter --net=${ready} -- ${program} "$@"\n`, { mode: 0o755 });
      return script;
    },
    stop() {
      child.kill('SIGKILL');
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Headless Chromium with nothing of its own phoning home, so a test sees only the page's traffic,
 * in a network namespace of its own that reaches `ports` on the loopback. Chromium drops every
 * request in flight with ERR_NETWORK_CHANGED when an address on the machine changes, and tests
 * running beside it (the container stack, network namespaces) add and remove addresses; in its
 * own namespace it sees none of that. Where no namespace can be made (not root) it runs as is.
 */
export async function launchChromium(ports: readonly number[]): Promise<Browser> {
  const ns = await loopbackNamespace(ports);
  const browser = await chromium.launch({
    executablePath: ns ? ns.wrap(CHROMIUM) : CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  }).catch((err: unknown) => {
    ns?.stop();
    throw err;
  });
  browser.once('disconnected', () => ns?.stop());
  return browser;
}

/** Where browser tests leave their screenshots (gitignored). */
export const SCREENSHOT_DIR = path.join(REPO_ROOT, 'test-output', 'console');

/** An axe-core violation reduced to what a failure message needs. */
export interface AxeFinding {
  id: string;
  impact: string | null | undefined;
  help: string;
  targets: string[];
}

const AXE_SOURCE = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

/**
 * Runs axe-core on the page and returns its serious and critical violations. The source goes in
 * through the DevTools protocol (page.evaluate), which the page's CSP does not govern, so the
 * page itself still allows no inline or foreign script.
 */
export async function seriousAxeViolations(page: Page): Promise<AxeFinding[]> {
  await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run(opts: unknown): Promise<{ violations: Array<{ id: string; impact?: string | null; help: string; nodes: Array<{ target: unknown[] }> }> }> } }).axe;
    const r = await axe.run({ resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.map((n) => n.target.join(' ')) }));
  });
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

/** Installs a recorder of CSP violations into every page of a context (read back with cspViolations). */
export const RECORD_CSP_VIOLATIONS = `
  window.__cspViolations = [];
  document.addEventListener('securitypolicyviolation', (e) => window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));
`;

/** The CSP violations the current page reported so far. */
export function cspViolations(page: Page): Promise<string[]> {
  return page.evaluate(() => (globalThis as unknown as { __cspViolations?: string[] }).__cspViolations ?? []);
}
