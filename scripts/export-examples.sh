#!/usr/bin/env bash
# Regenerates examples/oci, examples/kubernetes and examples/systemd from policies/default.warden.
# All three are the same on every machine (a test checks they are current). For a service,
# export on the target host without --portable: that hides every top-level directory it has.
set -euo pipefail
cd "$(dirname "$0")/.."
warden=${WARDEN:-.build/debug/warden}
policy=policies/default.warden

"$warden" compile "$policy" --emit oci --allow-weaker --workspace /srv/agent/workspace --home /home/agent \
  --output examples/oci/config.json 2>/dev/null
"$warden" compile "$policy" --emit k8s --allow-weaker --image ghcr.io/example/agent:1.0 \
  --output examples/kubernetes -- /bin/sh -c 'make test' 2>/dev/null
# --portable: the standard top-level directories, not this host's (so the file is the same
# everywhere; weaker, hence --allow-weaker); a workspace under /var/lib: DynamicUser=.
"$warden" compile "$policy" --emit systemd --portable --allow-weaker \
  --workspace /var/lib/agent/workspace --home /home/agent \
  --output examples/systemd/warden-default.conf 2>/dev/null
echo "regenerated examples/oci, examples/kubernetes, examples/systemd"
