#!/usr/bin/env python3
"""Writes a policy with N identities for the compile and lint benchmark of `make bench`.

    gen-policy.py N OUT.warden

Realistic and varied: three shared permission sets; each identity uses one or two of them
and adds its own filesystem allows and denies, a registry allowlist, a syscall rule with an
argument condition, a capability with a reason, limits, environment, and a test block.
"""
import sys

n, out = int(sys.argv[1]), sys.argv[2]
kinds = ["dependency-updater", "test-runner", "doc-writer", "linter", "release-notes"]
with open(out, "w") as f:
    f.write("""warden 1

permissions toolchain {
  allow fs read, exec "/usr", "/bin", "/lib", "/lib64"
  allow fs read "/etc/ssl", "/etc/hosts", "/etc/resolv.conf"
  allow syscall @default
}

permissions registries {
  allow net connect tcp "registry.example.org:443", "*.cdn.example.org:443"
}

permissions databases {
  allow net connect tcp "10.20.0.0/16:5432"
}
""")
    for i in range(n):
        kind = kinds[i % len(kinds)]
        name = f"{kind}-{i}"
        uses = "toolchain, registries" if i % 2 == 0 else "toolchain, databases"
        f.write(f"""
identity {name} {{
  description "Agent {i}: {kind.replace('-', ' ')} for repository {i}"
  use {uses}
  allow fs read, write, exec "${{workspace}}"
  allow fs read, write "${{tmp}}", "/srv/cache/{name}"
  allow fs read "/srv/shared/{i % 7}", "/opt/tools/{kind}"
  deny  fs write "${{workspace}}/.git/hooks", "${{workspace}}/.git/config"
  deny  fs read  "${{home}}/.ssh", "${{home}}/.aws", "/srv/shared/{i % 7}/secrets"
  allow net connect tcp "git-{i}.example.org:443", "10.{i % 250}.{i // 250}.0/24:{8000 + i % 1000}"
  allow syscall socket(domain in [AF_UNIX, AF_INET, AF_INET6])
  allow capability NET_BIND_SERVICE because "serves a test app on port {80 + i % 10}"
  limit processes {64 + i % 200}
  limit memory {1 + i % 8}GiB
  limit wall-time {10 + i % 50}m
  env pass PATH, HOME, LANG
  env set AGENT = "{name}"
}}

test "{name} stays in its workspace" {{
  identity {name}
  expect deny  fs write "${{workspace}}/.git/hooks/pre-commit"
  expect allow fs write "${{workspace}}/src/main.c"
  expect deny  net connect tcp "example.com:443"
  expect deny  syscall bpf
}}
""")
