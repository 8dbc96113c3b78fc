step copy-imported python3 -c 'import jsonschema, os; assert jsonschema.__file__.startswith(os.getcwd()), jsonschema.__file__'
step pytest python3 -m pytest -q jsonschema/tests/test_validators.py jsonschema/tests/test_types.py jsonschema/tests/test_exceptions.py
