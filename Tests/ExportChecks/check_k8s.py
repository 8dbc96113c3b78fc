#!/usr/bin/env python3
"""Parses `warden compile --emit k8s` YAML and checks every field name and type against a
list of facts taken from the published Kubernetes API reference (core/v1 PodTemplate,
networking.k8s.io/v1 NetworkPolicy) and the Security Profiles Operator's v1beta1
SeccompProfile CRD. Unknown fields, wrong types and bad enum values are errors.

usage: check_k8s.py FILE.yaml  -> prints `ok KIND` per document; exit 0 ok, 1 errors, 77 no PyYAML."""
import sys

try:
    import yaml
except ImportError as e:  # pragma: no cover
    print(f"skip: python3-yaml is not installed ({e})")
    sys.exit(77)

S, I, B = "string", "integer", "boolean"
MAP = ("map", S)
QUANTITY = ("map", "quantity")

# Field facts: type name -> {field: type}. A list type is [T].
TYPES = {
    "ObjectMeta": {"name": S, "namespace": S, "labels": MAP, "annotations": MAP, "generateName": S},
    "PodTemplate": {"apiVersion": S, "kind": S, "metadata": "ObjectMeta", "template": "PodTemplateSpec"},
    "PodTemplateSpec": {"metadata": "ObjectMeta", "spec": "PodSpec"},
    "PodSpec": {"activeDeadlineSeconds": I, "automountServiceAccountToken": B, "enableServiceLinks": B,
                "hostNetwork": B, "hostPID": B, "hostIPC": B, "securityContext": "PodSecurityContext",
                "containers": ["Container"], "initContainers": ["Container"], "volumes": ["Volume"],
                "restartPolicy": S, "serviceAccountName": S, "nodeSelector": MAP},
    "PodSecurityContext": {"runAsNonRoot": B, "runAsUser": I, "runAsGroup": I, "fsGroup": I,
                           "supplementalGroups": [I], "seccompProfile": "SeccompProfile"},
    "Container": {"name": S, "image": S, "command": [S], "args": [S], "workingDir": S, "env": ["EnvVar"],
                  "securityContext": "SecurityContext", "resources": "ResourceRequirements",
                  "volumeMounts": ["VolumeMount"]},
    "SecurityContext": {"allowPrivilegeEscalation": B, "privileged": B, "readOnlyRootFilesystem": B,
                        "runAsNonRoot": B, "runAsUser": I, "runAsGroup": I, "capabilities": "Capabilities",
                        "seccompProfile": "SeccompProfile", "procMount": S},
    "Capabilities": {"add": [S], "drop": [S]},
    "SeccompProfile": {"type": S, "localhostProfile": S},
    "EnvVar": {"name": S, "value": S},
    "ResourceRequirements": {"limits": QUANTITY, "requests": QUANTITY},
    "VolumeMount": {"name": S, "mountPath": S, "subPath": S, "readOnly": B, "mountPropagation": S},
    "Volume": {"name": S, "emptyDir": "EmptyDirVolumeSource", "persistentVolumeClaim": "PVCSource"},
    "EmptyDirVolumeSource": {"medium": S, "sizeLimit": "quantity"},
    "PVCSource": {"claimName": S, "readOnly": B},
    "NetworkPolicy": {"apiVersion": S, "kind": S, "metadata": "ObjectMeta", "spec": "NetworkPolicySpec"},
    "NetworkPolicySpec": {"podSelector": "LabelSelector", "policyTypes": [S],
                          "ingress": ["NetworkPolicyIngressRule"], "egress": ["NetworkPolicyEgressRule"]},
    "LabelSelector": {"matchLabels": MAP},
    "NetworkPolicyIngressRule": {"from": ["NetworkPolicyPeer"], "ports": ["NetworkPolicyPort"]},
    "NetworkPolicyEgressRule": {"to": ["NetworkPolicyPeer"], "ports": ["NetworkPolicyPort"]},
    "NetworkPolicyPeer": {"ipBlock": "IPBlock", "podSelector": "LabelSelector", "namespaceSelector": "LabelSelector"},
    "IPBlock": {"cidr": S, "except": [S]},
    "NetworkPolicyPort": {"protocol": S, "port": "int-or-string", "endPort": I},
    "SPOSeccompProfile": {"apiVersion": S, "kind": S, "metadata": "ObjectMeta", "spec": "SPOSpec"},
    "SPOSpec": {"defaultAction": S, "architectures": [S], "syscalls": ["SPOSyscall"], "flags": [S],
                "listenerPath": S, "listenerMetadata": S, "baseProfileName": S, "disabled": B},
    "SPOSyscall": {"names": [S], "action": S, "errnoRet": I, "args": ["SPOArg"]},
    "SPOArg": {"index": I, "value": I, "valueTwo": I, "op": S},
}

ENUMS = {
    ("SeccompProfile", "type"): {"RuntimeDefault", "Localhost", "Unconfined"},
    ("NetworkPolicyPort", "protocol"): {"TCP", "UDP", "SCTP"},
    ("SPOSpec", "defaultAction"): {"SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_TRAP",
                                   "SCMP_ACT_ERRNO", "SCMP_ACT_TRACE", "SCMP_ACT_ALLOW", "SCMP_ACT_LOG", "SCMP_ACT_NOTIFY"},
    ("SPOSyscall", "action"): {"SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_TRAP",
                               "SCMP_ACT_ERRNO", "SCMP_ACT_TRACE", "SCMP_ACT_ALLOW", "SCMP_ACT_LOG", "SCMP_ACT_NOTIFY"},
    ("SPOArg", "op"): {"SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ"},
}
LIST_ENUMS = {
    ("NetworkPolicySpec", "policyTypes"): {"Ingress", "Egress"},
    ("SPOSpec", "architectures"): {"SCMP_ARCH_X86_64", "SCMP_ARCH_AARCH64", "SCMP_ARCH_X86", "SCMP_ARCH_ARM"},
}
KINDS = {("v1", "PodTemplate"): "PodTemplate",
         ("networking.k8s.io/v1", "NetworkPolicy"): "NetworkPolicy",
         ("security-profiles-operator.x-k8s.io/v1beta1", "SeccompProfile"): "SPOSeccompProfile"}

errors = []


def quantity(v):
    import re
    return isinstance(v, (int, str)) and re.fullmatch(r"[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E)?", str(v))


def check(value, typ, where, owner=None, field=None):
    if isinstance(typ, list):
        if not isinstance(value, list):
            return errors.append(f"{where}: expected a list")
        for i, v in enumerate(value):
            check(v, typ[0], f"{where}[{i}]")
        if (owner, field) in LIST_ENUMS:
            for v in value:
                if v not in LIST_ENUMS[(owner, field)]:
                    errors.append(f"{where}: {v!r} is not one of {sorted(LIST_ENUMS[(owner, field)])}")
        if (owner, field) == ("Capabilities", "add") or (owner, field) == ("Capabilities", "drop"):
            for v in value:
                if v.startswith("CAP_") or v != v.upper():
                    errors.append(f"{where}: capability {v!r} must be upper case without CAP_")
        return
    if isinstance(typ, tuple):
        if not isinstance(value, dict):
            return errors.append(f"{where}: expected a map")
        for k, v in value.items():
            if not isinstance(k, str):
                errors.append(f"{where}: key {k!r} is not a string")
            if typ[1] == "quantity":
                if not quantity(v):
                    errors.append(f"{where}.{k}: {v!r} is not a quantity")
            elif not isinstance(v, str):
                errors.append(f"{where}.{k}: {v!r} must be a string (quote it)")
        return
    if typ == S:
        if not isinstance(value, str):
            errors.append(f"{where}: {value!r} must be a string")
        elif (owner, field) in ENUMS and value not in ENUMS[(owner, field)]:
            errors.append(f"{where}: {value!r} is not one of {sorted(ENUMS[(owner, field)])}")
        return
    if typ == I:
        if not isinstance(value, int) or isinstance(value, bool):
            errors.append(f"{where}: {value!r} must be an integer")
        return
    if typ == B:
        if not isinstance(value, bool):
            errors.append(f"{where}: {value!r} must be a boolean")
        return
    if typ == "quantity":
        if not quantity(value):
            errors.append(f"{where}: {value!r} is not a quantity")
        return
    if typ == "int-or-string":
        if not isinstance(value, (int, str)) or isinstance(value, bool):
            errors.append(f"{where}: {value!r} must be an integer or a string")
        return
    fields = TYPES[typ]
    if not isinstance(value, dict):
        return errors.append(f"{where}: expected an object ({typ})")
    for k, v in value.items():
        if k not in fields:
            errors.append(f"{where}: unknown field {k!r} in {typ}")
        else:
            check(v, fields[k], f"{where}.{k}", typ, k)


docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d is not None]
seen = []
for d in docs:
    kind = KINDS.get((d.get("apiVersion"), d.get("kind")))
    if kind is None:
        errors.append(f"unknown apiVersion/kind {d.get('apiVersion')}/{d.get('kind')}")
        continue
    check(d, kind, d["kind"])
    seen.append(d["kind"])
if sorted(seen) != ["NetworkPolicy", "PodTemplate", "SeccompProfile"]:
    errors.append(f"expected one PodTemplate, SeccompProfile and NetworkPolicy, got {seen}")
for e in errors:
    print("error:", e)
if not errors:
    print("ok", " ".join(seen))
sys.exit(1 if errors else 0)
