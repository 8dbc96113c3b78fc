#!/usr/bin/env python3
"""Docker's default seccomp profile (JSON) -> rule lines for docker-bpf.c, for `make bench`.

    docker-rules.py PROFILE.json > rules.txt

Resolves the profile as Docker does for a default container on x86_64: architecture
`amd64` (plus the x86 and x32 sub-architectures the archMap lists), Docker's default
capability set, and this kernel's version for `minKernel`. Output, one rule per line:
    default ACTION
    arch NAME                      an extra architecture to add to the filter
    ACTION SYSCALL [ARG OP VALUE [VALUE2]]...
ACTION is `allow` or `errno:N`; OP is a libseccomp comparison (EQ, NE, LT, LE, GT, GE, MASKED_EQ).
"""
import json, os, sys

# Docker's default capabilities for a container (moby's oci/caps/defaults.go).
DEFAULT_CAPS = {"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW",
                "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE",
                "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE"}
ARCH = "amd64"


def kernel_version():
    parts = os.uname().release.split("-")[0].split(".")
    return tuple(int(p) for p in parts[:2])


def applies(rule):
    inc, exc = rule.get("includes", {}) or {}, rule.get("excludes", {}) or {}
    if inc.get("arches") and ARCH not in inc["arches"]:
        return False
    if inc.get("caps") and not set(inc["caps"]) <= DEFAULT_CAPS:
        return False
    if inc.get("minKernel") and kernel_version() < tuple(int(p) for p in inc["minKernel"].split(".")[:2]):
        return False
    if exc.get("arches") and ARCH in exc["arches"]:
        return False
    if exc.get("caps") and set(exc["caps"]) & DEFAULT_CAPS:
        return False
    return True


def action(name, errno_ret, default_errno):
    if name == "SCMP_ACT_ALLOW":
        return "allow"
    if name == "SCMP_ACT_ERRNO":
        return "errno:%d" % (errno_ret if errno_ret is not None else default_errno)
    raise SystemExit("docker-rules: unsupported action %s" % name)


def main():
    if len(sys.argv) != 2:
        raise SystemExit("usage: docker-rules.py PROFILE.json")
    with open(sys.argv[1]) as f:
        profile = json.load(f)
    default_errno = profile.get("defaultErrnoRet", 1)
    print("default", action(profile["defaultAction"], default_errno, default_errno))
    for m in profile.get("archMap", []):
        if m["architecture"] == "SCMP_ARCH_X86_64":
            for sub in m.get("subArchitectures", []):
                print("arch", sub)
    for rule in profile["syscalls"]:
        if not applies(rule):
            continue
        act = action(rule["action"], rule.get("errnoRet"), default_errno)
        conds = []
        for a in rule.get("args") or []:
            op = a["op"].replace("SCMP_CMP_", "")
            conds.append("%d %s %d %d" % (a["index"], op, a["value"], a.get("valueTwo", 0)))
        for name in rule["names"]:
            print(act, name, *conds)


main()
