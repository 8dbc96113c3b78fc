mkdir -p vendor/pad-lite test
cat > vendor/pad-lite/package.json <<'J'
{ "name": "pad-lite", "version": "1.0.0", "main": "index.js", "license": "MIT" }
J
cat > vendor/pad-lite/index.js <<'J'
module.exports = (s, n, c = ' ') => String(s).padStart(n, c);
J
cat > package.json <<'J'
{
  "name": "matrix-node",
  "version": "1.0.0",
  "private": true,
  "scripts": { "test": "node --test" },
  "dependencies": { "pad-lite": "file:vendor/pad-lite" }
}
J
cat > test/pad.test.js <<'J'
const test = require('node:test');
const assert = require('node:assert');
const pad = require('pad-lite');
test('pads on the left', () => assert.strictEqual(pad('7', 3, '0'), '007'));
test('leaves long strings alone', () => assert.strictEqual(pad('1234', 3), '1234'));
J
npm install --package-lock-only --offline --no-audit --no-fund >/dev/null 2>&1 || { echo "npm could not write the lockfile offline"; exit 1; }
printf 'node_modules/\n' > .gitignore
