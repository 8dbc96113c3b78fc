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
except ImportError as e:  # pragma: no cover
    print(f"skip: python3-jsonschema is not installed ({e})")
    sys.exit(77)

schema_dir = pathlib.Path(sys.argv[1]).resolve()
schemas = {f.name: json.loads(f.read_text()) for f in schema_dir.glob("*.json")}
schema = schemas["config-schema.json"]
try:
    # jsonschema >= 4.18: a `referencing` registry resolves "defs.json#/..." by file name.
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT4
    registry = Registry().with_resources(
        [(name, Resource.from_contents(doc, default_specification=DRAFT4)) for name, doc in schemas.items()])
    validator = jsonschema.Draft4Validator(schema, registry=registry)
except ImportError:
    # Older jsonschema (Debian 12 ships 4.10): a RefResolver with the files in its store.
    base = schema_dir.as_uri() + "/"
    store = {base + name: doc for name, doc in schemas.items()}
    resolver = jsonschema.RefResolver(base_uri=base + "config-schema.json", referrer=schema, store=store)
    validator = jsonschema.Draft4Validator(schema, resolver=resolver)

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
