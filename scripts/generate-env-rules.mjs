#!/usr/bin/env node
// Writes deploy/env-rules.json from the compiled config schema (run `npm run build` first), so
// deploy/validate-env.mjs checks what the services check, even on a host with no build of its own.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { envRules } = createRequire(import.meta.url)(path.join(root, 'dist/core/config/env-rules.js'));
fs.writeFileSync(path.join(root, 'deploy/env-rules.json'), `${JSON.stringify(envRules(), null, 2)}\n`);
