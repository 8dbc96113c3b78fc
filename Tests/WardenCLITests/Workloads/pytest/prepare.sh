# jsonschema's own test suite, copied with the library from the system's dist-packages
# (Debian python3-jsonschema ships its tests); attrs and pyrsistent come from the system.
src=$(python3 -c 'import jsonschema, os; print(os.path.dirname(jsonschema.__file__))' 2>/dev/null) \
  || { echo "python3 has no jsonschema (install python3-jsonschema)"; exit 77; }
[ -d "$src/tests" ] || { echo "jsonschema at $src has no tests"; exit 77; }
python3 -c 'import pytest' 2>/dev/null || { echo "python3 has no pytest (install python3-pytest)"; exit 77; }
cp -r "$src" jsonschema
find jsonschema -name __pycache__ -prune -exec rm -rf {} +
printf '__pycache__/\n.pytest_cache/\n' > .gitignore
