#!/usr/bin/env python3
"""Validates OCI runtime-spec configs against the schema in a directory.

usage: validate_oci.py SCHEMA_DIR CONFIG.json...
Prints `ok PATH` or the first errors; exit 0 when all are valid, 1 when one is not,
77 when python3-jsonschema is missing (the caller skips)."""
import json
import pathlib
import sys

try:
    import jsonschema
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT4
except ImportError as e:  # pragma: no cover
    print(f"skip: python3-jsonschema is not installed ({e})")
    sys.exit(77)

schema_dir = pathlib.Path(sys.argv[1]).resolve()
resources = []
for f in schema_dir.glob("*.json"):
    resources.append((f.name, Resource.from_contents(json.loads(f.read_text()), default_specification=DRAFT4)))
    resources.append((f.as_uri(), Resource.from_contents(json.loads(f.read_text()), default_specification=DRAFT4)))
registry = Registry().with_resources(resources)
schema = json.loads((schema_dir / "config-schema.json").read_text())
validator = jsonschema.Draft4Validator(schema, registry=registry)

status = 0
for path in sys.argv[2:]:
    doc = json.loads(pathlib.Path(path).read_text())
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
    if errors:
        status = 1
        for e in errors[:5]:
            print(f"invalid {path}: {'/'.join(map(str, e.absolute_path))}: {e.message}")
    else:
        print(f"ok {path}")
sys.exit(status)
