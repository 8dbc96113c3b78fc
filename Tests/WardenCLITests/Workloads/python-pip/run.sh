# pip would otherwise ask PyPI for a newer pip (no network in the sandbox: a warning).
export PIP_DISABLE_PIP_VERSION_CHECK=1
step venv python3 -m venv .venv
step install .venv/bin/pip install --no-index --find-links wheels greet
step import .venv/bin/python -c 'import greet; assert greet.hello("agent") == "hello agent"'
step list sh -c '.venv/bin/pip list 2>/dev/null | grep -q "^greet "'
