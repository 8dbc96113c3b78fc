#!/usr/bin/env bash
# The built-in demo (grows with the runner and audit issues).
set -euo pipefail
cd "$(dirname "$0")/.."
echo "warden demo: the runner is not built yet; showing the CLI."
.build/debug/warden --help
