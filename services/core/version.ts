import fs from 'node:fs';
import path from 'node:path';

/** Ferry's version, read once from package.json. */
function readVersion(): string {
  // services/core and dist/core both sit two levels below the package root.
  const file = path.join(__dirname, '..', '..', 'package.json');
  const pkg = JSON.parse(fs.readFileSync(file, 'utf8')) as { version: string };
  return pkg.version;
}

export const version = readVersion();
