step ci npm ci --offline --no-audit --no-fund
step node-test node --test
step npm-test npm test --silent
