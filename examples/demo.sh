#!/usr/bin/env bash
# The built-in demo (`make demo`): an agent runs under the stock default policy in a
# scratch repository; its real work succeeds, its forbidden actions are denied, and the
# signed audit trail of the run is verified and shown.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD
warden="$root/.build/debug/warden"
[[ -x "$warden" ]] || { echo "demo: build first (make demo does)"; exit 2; }

bold() { printf '\n\033[1m%s\033[0m\n' "$*"; }
scratch=$(mktemp -d /tmp/warden-demo.XXXXXX)
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$scratch/home/.ssh" "$scratch/workspace" "$scratch/audit"
echo "-----BEGIN FAKE OPENSSH PRIVATE KEY----- demo only" > "$scratch/home/.ssh/id_ed25519"

# The workspace is a checked-out repository, as when an agent is triggered on a pull request.
git -C "$scratch/workspace" init -q
cp "$root/examples/demo-agent/agent.sh" "$scratch/workspace/agent.sh"
printf 'print("hello from the repository")\n' > "$scratch/workspace/hello.py"
git -C "$scratch/workspace" add -A
git -C "$scratch/workspace" -c user.name=operator -c user.email=operator@example.invalid commit -qm "initial"

bold "1. The policy: policies/default.warden (lint and its own tests)"
"$warden" lint policies/default.warden
"$warden" test policies/default.warden

bold "2. An audit signing key"
"$warden" audit keygen --output "$scratch/audit/signing"

bold "3. The agent runs under the policy (warden run)"
echo "\$ warden run --policy policies/default.warden --workspace <repo> -- ./agent.sh"
(cd "$scratch/workspace" && HOME="$scratch/home" "$warden" run --policy "$root/policies/default.warden" \
    --audit-log "$scratch/audit/audit.jsonl" --signing-key "$scratch/audit/signing.key" -- ./agent.sh)
status=$?

bold "4. Why was ptrace denied? (warden explain)"
"$warden" explain policies/default.warden --syscall ptrace
"$warden" explain policies/default.warden --fs write '${workspace}/.git/hooks/pre-commit'

bold "5. The audit trail: verify the chain and signature, then show the run"
"$warden" audit verify "$scratch/audit/audit.jsonl" --public-key "$scratch/audit/signing.pub"
verified=$?
"$warden" audit show "$scratch/audit/audit.jsonl"

bold "Summary"
if [[ $status -eq 0 && $verified -eq 0 ]]; then
  echo "demo: the agent's work succeeded, every forbidden action was denied, and the audit trail verified."
  exit 0
fi
echo "demo: something unexpected happened (agent status $status, audit verify status $verified)."
exit 1
