#!/usr/bin/env python3
"""Checks Kubernetes objects against the API's own OpenAPI schema, as the official Python
client (kubernetes-client/python, one release per Kubernetes minor version) carries it in
its generated models. The models are read from the client's wheels as data: each model's
`openapi_types` and `attribute_map` literals and the fields its setters refuse to leave
empty. Nothing of the client is imported or run.

Every object of a built-in kind (core/v1, batch/v1, networking.k8s.io/v1, ...) must hold only
fields its schema defines, each of the schema's type, and every field the schema requires;
this is checked against every wheel given, so an object must be valid for each of those
Kubernetes versions. Custom resources (SeccompProfile, CiliumNetworkPolicy) are outside the
schema and are left to check_k8s.py, which also checks values (ranges, names, enums).

usage: check_k8s_openapi.py --wheels DIR [--expect KIND,...] FILE...
  FILE: YAML (`---`-separated documents) or JSON (one object, or a list of objects).
  -> prints `ok release-1.35 release-1.36: KIND ...`; exit 0 ok, 1 errors, 77 when there
  is no wheel in DIR or PyYAML is missing (the caller skips)."""
import ast
import glob
import json
import os
import re
import sys
import zipfile

REQUIRED = re.compile(r"client_side_validation and (\w+) is None:")


class Schema:
    """The models of one client wheel: class name -> (types by JSON key, required JSON keys)."""

    def __init__(self, wheel):
        self.zip = zipfile.ZipFile(wheel)
        self.models = {}
        self.release = os.path.basename(wheel)
        probe = self.source("V1Pod")
        m = re.search(r"OpenAPI document: (release-[0-9.]+)", probe or "")
        if m:
            self.release = m.group(1)

    def source(self, name):
        if not hasattr(self, "files"):
            # Class name -> module, from each model module's `class NAME(object):` line.
            self.files = {}
            for entry in self.zip.namelist():
                if entry.startswith("kubernetes/client/models/") and entry.endswith(".py"):
                    m = re.search(r"^class (\w+)\(object\):", self.zip.read(entry).decode(), re.M)
                    if m:
                        self.files[m.group(1)] = entry
        entry = self.files.get(name)
        return self.zip.read(entry).decode() if entry else None

    def model(self, name):
        if name in self.models:
            return self.models[name]
        src = self.source(name)
        if src is None:
            self.models[name] = None
            return None
        types = keys = None
        for node in ast.walk(ast.parse(src)):
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                if node.targets[0].id == "openapi_types":
                    types = ast.literal_eval(node.value)
                elif node.targets[0].id == "attribute_map":
                    keys = ast.literal_eval(node.value)
        if types is None or keys is None:
            raise SystemExit(f"{self.release}: {name}: the model holds no openapi_types/attribute_map")
        fields = {keys[attr]: typ for attr, typ in types.items()}
        required = {keys[a] for a in REQUIRED.findall(src) if a in keys}
        self.models[name] = (fields, required)
        return self.models[name]


def check(schema, value, typ, where, errors):
    if typ == "object":
        return
    if typ in ("str", "datetime", "date", "bytearray", "file"):
        if not isinstance(value, str):
            errors.append(f"{where}: {typ} expected, got {type(value).__name__}")
        return
    if typ == "int":
        if not isinstance(value, int) or isinstance(value, bool):
            errors.append(f"{where}: integer expected, got {type(value).__name__}")
        return
    if typ == "float":
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            errors.append(f"{where}: number expected, got {type(value).__name__}")
        return
    if typ == "bool":
        if not isinstance(value, bool):
            errors.append(f"{where}: boolean expected, got {type(value).__name__}")
        return
    m = re.fullmatch(r"list\[(.+)\]", typ)
    if m:
        if not isinstance(value, list):
            errors.append(f"{where}: list expected, got {type(value).__name__}")
            return
        for i, item in enumerate(value):
            check(schema, item, m.group(1), f"{where}[{i}]", errors)
        return
    m = re.fullmatch(r"dict\(str, (.+)\)", typ) or re.fullmatch(r"dict\[str, (.+)\]", typ)
    if m:
        if not isinstance(value, dict):
            errors.append(f"{where}: map expected, got {type(value).__name__}")
            return
        for k, v in value.items():
            if not isinstance(k, str):
                errors.append(f"{where}: a key is not a string")
            check(schema, v, m.group(1), f"{where}.{k}", errors)
        return
    model = schema.model(typ)
    if model is None:
        errors.append(f"{where}: type {typ} is not in the schema")
        return
    if not isinstance(value, dict):
        errors.append(f"{where}: {typ} object expected, got {type(value).__name__}")
        return
    fields, required = model
    for key, v in value.items():
        if key not in fields:
            errors.append(f"{where}.{key}: {typ} has no field {key!r}")
            continue
        check(schema, v, fields[key], f"{where}.{key}", errors)
    for key in sorted(required - value.keys()):
        errors.append(f"{where}: {typ} requires {key!r}")


def model_name(doc):
    version = str(doc.get("apiVersion", "")).split("/")[-1]
    kind = str(doc.get("kind", ""))
    if not re.fullmatch(r"v\d+((alpha|beta)\d+)?", version) or not re.fullmatch(r"[A-Z][A-Za-z0-9]*", kind):
        return None
    return version[0].upper() + version[1:] + kind


def documents(path):
    text = open(path, encoding="utf-8").read()
    stripped = text.lstrip()
    if stripped.startswith("{") or stripped.startswith("["):
        try:
            data = json.loads(text)
            return data if isinstance(data, list) else [data]
        except ValueError:
            pass  # `---`-separated JSON documents: YAML reads them
    try:
        import yaml
    except ImportError as e:  # pragma: no cover
        print(f"skip: python3-yaml is not installed ({e})")
        sys.exit(77)
    return [d for d in yaml.safe_load_all(text) if d is not None]


def main(argv):
    args = list(argv)
    wheels_dir = expect = None
    files = []
    while args:
        a = args.pop(0)
        if a == "--wheels":
            wheels_dir = args.pop(0)
        elif a == "--expect":
            expect = args.pop(0).split(",")
        else:
            files.append(a)
    wheels = sorted(glob.glob(os.path.join(wheels_dir or "", "kubernetes-*.whl")))
    if not wheels:
        print(f"skip: no kubernetes client wheel in {wheels_dir} (scripts/setup.sh downloads them)")
        return 77
    schemas = [Schema(w) for w in wheels]
    errors, kinds, builtin = [], [], 0
    for path in files:
        for i, doc in enumerate(documents(path)):
            if not isinstance(doc, dict):
                errors.append(f"{path}#{i}: not an object")
                continue
            kinds.append(str(doc.get("kind")))
            name = model_name(doc)
            if name is None or schemas[0].model(name) is None or "." in str(doc.get("apiVersion", "")).split("/")[0] \
                    and not str(doc.get("apiVersion", "")).split("/")[0].endswith(".k8s.io"):
                continue  # a custom resource: not in the API's schema
            builtin += 1
            for schema in schemas:
                check(schema, doc, name, f"{schema.release}: {path}#{i} {doc.get('kind')}", errors)
    if expect is not None and sorted(expect) != sorted(kinds):
        errors.append(f"kinds {sorted(kinds)}, expected {sorted(expect)}")
    if builtin == 0:
        errors.append("no object of a built-in kind to check")
    for e in errors:
        print(e)
    if errors:
        return 1
    print("ok " + " ".join(s.release for s in schemas) + ": " + " ".join(kinds))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
