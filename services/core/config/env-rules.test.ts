import fs from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../errors';
import { envRules } from './env-rules';
import { loadConfig } from './load-config';

const RULES_FILE = path.resolve(__dirname, '../../../deploy/env-rules.json');
const base = {
  DATABASE_URL: 'postgres://ferry@127.0.0.1:5432/ferry',
  REDIS_URL: 'redis://127.0.0.1:6379',
  STAGE_ROOT: '/data/stage',
  PRODUCTS_ROOT: '/data/products',
};

function refused(name: string, value: string): boolean {
  try {
    loadConfig('api', { ...base, [name]: value });
    return false;
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.some((p) => p.startsWith(name));
    throw err;
  }
}

describe('env rules', () => {
  it('are current in deploy/env-rules.json (regenerate: npm run build && node scripts/generate-env-rules.mjs)', () => {
    expect(JSON.parse(fs.readFileSync(RULES_FILE, 'utf8'))).toEqual(envRules());
  });

  it('name the variables the config cannot start without', () => {
    expect(envRules().required).toEqual(['DATABASE_URL', 'PRODUCTS_ROOT', 'REDIS_URL', 'STAGE_ROOT']);
    for (const name of envRules().required) {
      const env: Record<string, string> = { ...base };
      delete env[name];
      expect(() => loadConfig('api', env)).toThrow(ConfigError);
    }
  });

  it('give the ranges loadConfig enforces, bound by bound', () => {
    const ranged = Object.entries(envRules().variables).filter(([, r]) => r.minimum !== undefined && r.maximum !== undefined);
    expect(ranged.length).toBeGreaterThan(15);
    for (const [name, rule] of ranged) {
      const step = rule.type === 'integer' ? 1 : 0.05;
      expect([name, refused(name, String(rule.minimum))]).toEqual([name, false]);
      expect([name, refused(name, String(rule.maximum))]).toEqual([name, false]);
      expect([name, refused(name, String(rule.maximum! + step))]).toEqual([name, true]);
      if (rule.minimum! > 0) expect([name, refused(name, String(rule.minimum! - step))]).toEqual([name, true]);
    }
  });

  it('give the enums and patterns loadConfig enforces', () => {
    const { variables } = envRules();
    expect(variables.PUBLISH_MODE?.enum).toEqual(['move', 'copy']);
    expect(variables.LOG_LEVEL?.enum).toContain('verbose');
    for (const [name, rule] of Object.entries(variables)) {
      for (const value of rule.enum ?? []) expect([name, value, refused(name, value)]).toEqual([name, value, false]);
      if (rule.enum) expect([name, refused(name, 'not-one-of-them')]).toEqual([name, true]);
    }
    expect(variables.REDIS_PREFIX).toMatchObject({ pattern: '^[A-Za-z0-9_.-]{1,64}$', patternMessage: 'letters, digits, _ . - only (at most 64)' });
    expect(refused('PUBLISH_MODE_DROP_BITS', '9')).toBe(true);
    expect(variables.PUBLISH_MODE_DROP_BITS?.patternMessage).toBe('an octal mode such as 7022');
  });

  it('leave out defaults computed from the machine', () => {
    const { variables } = envRules();
    expect(variables.API_WORKERS).not.toHaveProperty('default');
    expect(variables.FERRY_INSTANCE).not.toHaveProperty('default');
    expect(variables.WORKER_HEARTBEAT_FILE).not.toHaveProperty('default');
    expect(variables.DATABASE_POOL_MAX?.default).toBe(10);
  });
});
