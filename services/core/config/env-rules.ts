import { z } from 'zod';
import { envSchema } from './env-schema';

/** One variable's contract as the deploy checks read it (JSON Schema keywords of the input). */
export interface EnvRule {
  type?: string;
  minimum?: number;
  maximum?: number;
  enum?: string[];
  pattern?: string;
  /** The schema's own words for a pattern, so the deploy check says what the services would. */
  patternMessage?: string;
  default?: string | number | boolean;
}

/** The config schema's rules, as written to deploy/env-rules.json for hosts without a build. */
export interface EnvRules {
  required: string[];
  variables: Record<string, EnvRule>;
}

const KEPT = ['type', 'minimum', 'maximum', 'enum', 'pattern', 'default'] as const;

/** The message of a regex check on a string schema, when it has one. */
function patternMessage(schema: z.core.$ZodType): string | undefined {
  const checks = (schema._zod.def as { checks?: z.core.$ZodCheck[] }).checks ?? [];
  for (const check of checks) {
    const def = check._zod.def as { format?: string; error?: (issue?: unknown) => unknown };
    if (def.format === 'regex' && typeof def.error === 'function') {
      const message = def.error();
      if (typeof message === 'string') return message;
    }
  }
  return undefined;
}

/** The schema under its default, optional or transform wrapper, where the checks live. */
function unwrap(schema: z.core.$ZodType): z.core.$ZodType {
  const def = schema._zod.def as { type: string; innerType?: z.core.$ZodType; in?: z.core.$ZodType };
  if ((def.type === 'default' || def.type === 'optional') && def.innerType) return unwrap(def.innerType);
  return def.type === 'pipe' && def.in ? unwrap(def.in) : schema;
}

/** Derives the deploy-time rules (ranges, enums, patterns, defaults, required) from envSchema. */
export function envRules(): EnvRules {
  const json = z.toJSONSchema(envSchema, { io: 'input', unrepresentable: 'any' });
  const variables: Record<string, EnvRule> = {};
  for (const [name, property] of Object.entries(json.properties ?? {})) {
    if (typeof property !== 'object') continue;
    const rule: Record<string, unknown> = {};
    for (const key of KEPT) if (property[key] !== undefined) rule[key] = property[key];
    if ((property as { hostDefault?: boolean }).hostDefault) delete rule.default;
    const message = rule.pattern === undefined ? undefined : patternMessage(unwrap(envSchema.shape[name as keyof typeof envSchema.shape]));
    if (message) rule.patternMessage = message;
    variables[name] = rule as EnvRule;
  }
  return { required: [...(json.required ?? [])].sort(), variables };
}
