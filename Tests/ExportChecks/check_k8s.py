#!/usr/bin/env python3
"""Parses `warden compile --emit k8s` YAML and checks every field name and type against a
list of facts taken from the published Kubernetes API reference (core/v1 PodTemplate, Pod and
ConfigMap, batch/v1 Job, networking.k8s.io/v1 NetworkPolicy), the Security Profiles Operator's
v1beta1 SeccompProfile CRD and Cilium's cilium.io/v2 CiliumNetworkPolicy CRD. Unknown fields,
wrong types, out-of-range integers, bad enum values,
missing required fields and names the API server would refuse are errors.

usage: check_k8s.py [--expect KIND,KIND,...] FILE.yaml
  -> prints `ok KIND...`; exit 0 ok, 1 errors, 77 no PyYAML. --expect: the kinds the file must
  hold, in any order (default: PodTemplate,SeccompProfile,NetworkPolicy, the podtemplate file)."""
import re
import sys

try:
    import yaml
except ImportError as e:  # pragma: no cover
    print(f"skip: python3-yaml is not installed ({e})")
    sys.exit(77)

S, I, B = "string", "integer", "boolean"
I32, NONNEG32, POS = "int32", "non-negative int32", "positive int64"
OBJECT = "object"  # an API object whose inner fields Warden never emits: only its being a map is checked
MAP = ("map", S)
QUANTITY = ("map", "quantity")

# Field facts: type name -> {field: type}. A list type is [T].
TYPES = {
    "ObjectMeta": {"name": S, "namespace": S, "labels": MAP, "annotations": MAP, "generateName": S},
    "PodTemplate": {"apiVersion": S, "kind": S, "metadata": "ObjectMeta", "template": "PodTemplateSpec"},
    "PodTemplateSpec": {"metadata": "ObjectMeta", "spec": "PodSpec"},
    "Pod": {"apiVersion": S, "kind": S, "metadata": "ObjectMeta", "spec": "PodSpec"},
    "Job": {"apiVersion": S, "kind": S, "metadata": "ObjectMeta", "spec": "JobSpec"},
    # batch/v1 JobSpec: all 16 fields of the API reference (v1.31 to v1.35); int32 and int64 as there.
    "JobSpec": {"activeDeadlineSeconds": POS, "backoffLimit": NONNEG32, "backoffLimitPerIndex": NONNEG32,
                "completionMode": S, "completions": NONNEG32, "managedBy": S, "manualSelector": B,
                "maxFailedIndexes": NONNEG32, "parallelism": NONNEG32, "podFailurePolicy": OBJECT,
                "podReplacementPolicy": S, "selector": "LabelSelector", "successPolicy": OBJECT, "suspend": B,
                "template": "PodTemplateSpec", "ttlSecondsAfterFinished": NONNEG32},
    "PodSpec": {"activeDeadlineSeconds": POS, "automountServiceAccountToken": B, "enableServiceLinks": B,
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
    "Volume": {"name": S, "emptyDir": "EmptyDirVolumeSource", "persistentVolumeClaim": "PVCSource",
               "configMap": "ConfigMapVolumeSource"},
    "ConfigMapVolumeSource": {"name": S, "items": ["KeyToPath"], "defaultMode": I32, "optional": B},
    "KeyToPath": {"key": S, "path": S, "mode": I32},
    # core/v1 ConfigMap: all 6 fields.
    "ConfigMap": {"apiVersion": S, "kind": S, "metadata": "ObjectMeta", "data": MAP, "binaryData": MAP, "immutable": B},
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
    # cilium.io/v2 CiliumNetworkPolicy (the CRD's openAPIV3Schema): the rule fields and the
    # egress, port and DNS fields; selectors and peers Warden never writes are only objects.
    "CiliumNetworkPolicy": {"apiVersion": S, "kind": S, "metadata": "ObjectMeta", "spec": "CiliumRule",
                            "specs": ["CiliumRule"]},
    "CiliumRule": {"endpointSelector": "CiliumSelector", "nodeSelector": "CiliumSelector", "description": S,
                   "labels": [OBJECT], "enableDefaultDeny": OBJECT, "log": OBJECT,
                   "ingress": [OBJECT], "ingressDeny": [OBJECT], "egress": ["CiliumEgressRule"], "egressDeny": [OBJECT]},
    "CiliumSelector": {"matchLabels": MAP, "matchExpressions": [OBJECT]},
    "CiliumEgressRule": {"toEndpoints": ["CiliumSelector"], "toFQDNs": ["FQDNSelector"], "toPorts": ["CiliumPortRule"],
                         "toCIDR": [S], "toCIDRSet": [OBJECT], "toEntities": [S], "toServices": [OBJECT],
                         "toGroups": [OBJECT], "toNodes": [OBJECT], "toRequires": [OBJECT], "icmps": [OBJECT],
                         "authentication": OBJECT},
    "FQDNSelector": {"matchName": S, "matchPattern": S},
    "CiliumPortRule": {"ports": ["CiliumPortProtocol"], "rules": "CiliumL7Rules", "listener": OBJECT,
                       "originatingTLS": OBJECT, "terminatingTLS": OBJECT, "serverNames": [S]},
    "CiliumPortProtocol": {"port": S, "protocol": S, "endPort": I32},
    "CiliumL7Rules": {"dns": ["FQDNSelector"], "http": [OBJECT], "kafka": [OBJECT], "l7proto": S, "l7": [OBJECT]},
}

ENUMS = {
    ("PodSpec", "restartPolicy"): {"Always", "OnFailure", "Never"},
    ("JobSpec", "completionMode"): {"NonIndexed", "Indexed"},
    ("JobSpec", "podReplacementPolicy"): {"TerminatingOrFailed", "Failed"},
    ("SeccompProfile", "type"): {"RuntimeDefault", "Localhost", "Unconfined"},
    ("NetworkPolicyPort", "protocol"): {"TCP", "UDP", "SCTP"},
    ("SPOSpec", "defaultAction"): {"SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_TRAP",
                                   "SCMP_ACT_ERRNO", "SCMP_ACT_TRACE", "SCMP_ACT_ALLOW", "SCMP_ACT_LOG", "SCMP_ACT_NOTIFY"},
    ("SPOSyscall", "action"): {"SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_TRAP",
                               "SCMP_ACT_ERRNO", "SCMP_ACT_TRACE", "SCMP_ACT_ALLOW", "SCMP_ACT_LOG", "SCMP_ACT_NOTIFY"},
    ("CiliumPortProtocol", "protocol"): {"TCP", "UDP", "SCTP", "ICMP", "ICMPV6", "ANY"},
    ("SPOArg", "op"): {"SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ"},
}
LIST_ENUMS = {
    ("PodSpec", "restartPolicy"): {"Always", "OnFailure", "Never"},
    ("JobSpec", "completionMode"): {"NonIndexed", "Indexed"},
    ("JobSpec", "podReplacementPolicy"): {"TerminatingOrFailed", "Failed"},
    ("NetworkPolicySpec", "policyTypes"): {"Ingress", "Egress"},
    ("SPOSpec", "architectures"): {"SCMP_ARCH_X86_64", "SCMP_ARCH_AARCH64", "SCMP_ARCH_X86", "SCMP_ARCH_ARM"},
}
# Fields the API server requires (type -> fields).
REQUIRED = {"Job": ["metadata", "spec"], "JobSpec": ["template"], "Pod": ["metadata", "spec"],
            "PodTemplate": ["metadata", "template"], "PodSpec": ["containers"], "Container": ["name", "image"],
            "NetworkPolicy": ["metadata", "spec"], "NetworkPolicySpec": ["podSelector"],
            "VolumeMount": ["name", "mountPath"], "Volume": ["name"], "EnvVar": ["name"], "KeyToPath": ["key", "path"],
            "ConfigMap": ["metadata"]}
KINDS = {("v1", "PodTemplate"): "PodTemplate",
         ("v1", "ConfigMap"): "ConfigMap",
         ("v1", "Pod"): "Pod",
         ("batch/v1", "Job"): "Job",
         ("networking.k8s.io/v1", "NetworkPolicy"): "NetworkPolicy",
         ("security-profiles-operator.x-k8s.io/v1beta1", "SeccompProfile"): "SPOSeccompProfile",
         ("cilium.io/v2", "CiliumNetworkPolicy"): "CiliumNetworkPolicy"}

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
    if typ in (I, I32, NONNEG32, POS):
        if not isinstance(value, int) or isinstance(value, bool):
            errors.append(f"{where}: {value!r} must be an integer")
        elif typ == I32 and not -2**31 <= value < 2**31 or typ == NONNEG32 and not 0 <= value < 2**31 \
                or typ == POS and not 0 < value < 2**63:
            errors.append(f"{where}: {value!r} is out of range ({typ})")
        return
    if typ == OBJECT:
        if not isinstance(value, dict):
            errors.append(f"{where}: expected an object")
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
    for k in REQUIRED.get(typ, []):
        if k not in value:
            errors.append(f"{where}: {typ} needs {k!r}")


LABEL_VALUE = re.compile(r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?")
LABEL_KEY = re.compile(r"([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?")
CONFIGMAP_KEY = re.compile(r"[-._a-zA-Z0-9]+")
SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")


def semantics(d, kind):
    """What the API server validates beyond field types, for the fields Warden writes."""
    name = (d.get("metadata") or {}).get("name")
    if name is None:
        errors.append(f"{kind}: metadata.name is missing")
    elif isinstance(name, str):
        limit = 63 if kind == "Job" else 253  # a Job's name becomes its pods' job-name label
        if len(name) > limit or not SUBDOMAIN.fullmatch(name):
            errors.append(f"{kind}: name {name!r} is not a DNS subdomain of at most {limit} characters")
    if kind == "CiliumNetworkPolicy":
        cilium_semantics(d)
    metas = [d.get("metadata") or {}]
    if kind == "Job":
        metas.append(((d.get("spec") or {}).get("template") or {}).get("metadata") or {})
    for meta in metas:
        for key, value in (meta.get("labels") or {}).items():
            if not isinstance(key, str) or not LABEL_KEY.fullmatch(key) or len(key.split("/")[-1]) > 63:
                errors.append(f"{kind}: label key {key!r} is not a qualified name")
            if not isinstance(value, str) or len(value) > 63 or not LABEL_VALUE.fullmatch(value):
                errors.append(f"{kind}: label value {value!r} is not a label value")
        for key in (meta.get("annotations") or {}):
            if not isinstance(key, str) or not LABEL_KEY.fullmatch(key):
                errors.append(f"{kind}: annotation key {key!r} is not a qualified name")
    if kind == "ConfigMap":
        data = d.get("data") or {}
        total = 0
        for key, value in data.items():
            if not isinstance(key, str) or len(key) > 253 or not CONFIGMAP_KEY.fullmatch(key):
                errors.append(f"ConfigMap: data key {key!r} is not [-._a-zA-Z0-9]+")
            total += len(str(value).encode())
        if total > 1 << 20:
            errors.append(f"ConfigMap: {total} bytes of data, over the 1 MiB limit")
    if kind in ("Job", "Pod"):
        pod = (((d.get("spec") or {}).get("template") or {}).get("spec") or {}) if kind == "Job" else (d.get("spec") or {})
        volumes = {v.get("name") for v in pod.get("volumes") or [] if isinstance(v, dict)}
        for c in (pod.get("containers") or []) + (pod.get("initContainers") or []):
            for m in (c.get("volumeMounts") or []) if isinstance(c, dict) else []:
                if isinstance(m, dict) and m.get("name") not in volumes:
                    errors.append(f"{kind}: container {c.get('name')!r} mounts {m.get('name')!r}, which is not a volume")
        for v in pod.get("volumes") or []:
            for item in ((v.get("configMap") or {}).get("items") or []) if isinstance(v, dict) else []:
                p = item.get("path", "") if isinstance(item, dict) else ""
                if not p or p.startswith("/") or ".." in p.split("/"):
                    errors.append(f"{kind}: configMap item path {p!r} must be relative without '..'")
    if kind == "Job":
        pod = (((d.get("spec") or {}).get("template") or {}).get("spec") or {})
        if pod.get("restartPolicy") not in ("Never", "OnFailure"):
            errors.append(f"Job: template.spec.restartPolicy must be Never or OnFailure, not {pod.get('restartPolicy')!r}")


# The CRD's patterns: a name of DNS characters, a pattern that may hold `*`; a port number.
FQDN_NAME = re.compile(r"([-a-zA-Z0-9_]+[.]?)+")
FQDN_PATTERN = re.compile(r"([-a-zA-Z0-9_*]+[.]?)+")
PORT = re.compile(r"6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[0-9]{1,4}")


def cilium_semantics(d):
    """What Cilium validates or needs beyond field types: one of matchName/matchPattern per
    selector, port numbers, toFQDNs alone in its rule, and a DNS rule (kube-dns, port 53,
    L7 `dns`) that lets the pod resolve every name it may reach (Cilium learns a name's
    addresses only from DNS answers its proxy saw)."""
    spec = d.get("spec") or {}
    if not isinstance(spec, dict) or "endpointSelector" not in spec:
        return errors.append("CiliumNetworkPolicy: spec.endpointSelector is missing (the policy would select nothing)")
    resolvable, wanted = set(), set()
    for i, rule in enumerate(spec.get("egress") or []):
        if not isinstance(rule, dict):
            continue
        where = f"CiliumNetworkPolicy.spec.egress[{i}]"
        peers = [k for k in rule if k.startswith("to") and k != "toPorts"]
        if "toFQDNs" in rule and peers != ["toFQDNs"]:
            errors.append(f"{where}: toFQDNs cannot be combined with {[p for p in peers if p != 'toFQDNs']}")
        for s in rule.get("toFQDNs") or []:
            if isinstance(s, dict):
                wanted.update(fqdn_selector(s, f"{where}.toFQDNs"))
        for pr in rule.get("toPorts") or []:
            if not isinstance(pr, dict):
                continue
            ports = [p for p in pr.get("ports") or [] if isinstance(p, dict)]
            for p in ports:
                if isinstance(p.get("port"), str) and not PORT.fullmatch(p["port"]):
                    errors.append(f"{where}: port {p['port']!r} is not a port number")
                if "endPort" in p and not (isinstance(p.get("port"), str) and p["port"].isdigit() and int(p["port"]) <= p["endPort"] <= 65535):
                    errors.append(f"{where}: endPort {p['endPort']!r} must lie between port and 65535")
            dns = ((pr.get("rules") or {}).get("dns")) or []
            if dns:
                if not any(p.get("port") == "53" and p.get("protocol") in ("ANY", "UDP", "TCP") for p in ports):
                    errors.append(f"{where}: DNS rules need port 53")
                labels = [((e or {}).get("matchLabels") or {}) for e in rule.get("toEndpoints") or []]
                if not any(l.get("k8s:k8s-app") == "kube-dns" and l.get("k8s:io.kubernetes.pod.namespace") == "kube-system" for l in labels):
                    errors.append(f"{where}: DNS rules must go to kube-dns in kube-system")
                for s in dns:
                    if isinstance(s, dict):
                        resolvable.update(fqdn_selector(s, f"{where}.toPorts.rules.dns"))
    if wanted and not wanted <= resolvable:
        errors.append(f"CiliumNetworkPolicy: no DNS rule lets the pod resolve {sorted(wanted - resolvable)}")


def fqdn_selector(s, where):
    keys = [k for k in ("matchName", "matchPattern") if k in s]
    if len(keys) != 1:
        errors.append(f"{where}: a selector needs exactly one of matchName or matchPattern")
        return set()
    v = s[keys[0]]
    pattern = FQDN_NAME if keys[0] == "matchName" else FQDN_PATTERN
    if not isinstance(v, str) or not pattern.fullmatch(v):
        errors.append(f"{where}: {keys[0]} {v!r} is not valid")
        return set()
    return {(keys[0], v.lower())}


args = sys.argv[1:]
expected = ["NetworkPolicy", "PodTemplate", "SeccompProfile"]
if len(args) == 3 and args[0] == "--expect":
    expected = sorted(k for k in args[1].split(",") if k)
    args = args[2:]
if len(args) != 1:
    print(__doc__)
    sys.exit(2)
try:
    docs = [d for d in yaml.safe_load_all(open(args[0])) if d is not None]
except yaml.YAMLError as e:
    print(f"error: not YAML: {e}")
    sys.exit(1)
seen = []
for d in docs:
    if not isinstance(d, dict):
        errors.append(f"a document is not an object: {d!r:.60}")
        continue
    api, k = d.get("apiVersion"), d.get("kind")
    kind = KINDS.get((api, k)) if isinstance(api, str) and isinstance(k, str) else None
    if kind is None:
        errors.append(f"unknown apiVersion/kind {d.get('apiVersion')}/{d.get('kind')}")
        continue
    check(d, kind, d["kind"])
    semantics(d, d["kind"])
    seen.append(d["kind"])
if sorted(seen) != expected:
    errors.append(f"expected exactly {', '.join(expected)}, got {seen}")
for e in errors:
    print("error:", e)
if not errors:
    print("ok", " ".join(seen))
sys.exit(1 if errors else 0)
