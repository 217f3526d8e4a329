// Copies the non-TypeScript files the services read at run time (SQL migrations, the console's stylesheet) next to the
// compiled output: dist/ by default, or the directory given (the benchmarks compile to dist-bench/services).
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
const out = path.resolve(root, process.argv[2] ?? 'dist');
fs.cpSync(path.join(root, 'services'), out, {
  recursive: true,
  filter: (src) => fs.statSync(src).isDirectory() || src.endsWith('.sql') || src.endsWith('.css'),
});
