# A local package, built into a wheel here (outside the sandbox) with the standard library:
# the agent installs it from wheels/ without an index.
mkdir -p greet-src/greet wheels
printf 'def hello(name):\n    return "hello " + name\n' > greet-src/greet/__init__.py
python3 - <<'PY'
import base64, hashlib, zipfile
files = {
    "greet/__init__.py": open("greet-src/greet/__init__.py", "rb").read(),
    "greet-1.0.dist-info/METADATA": b"Metadata-Version: 2.1\nName: greet\nVersion: 1.0\nSummary: a local package for the workload matrix\n",
    "greet-1.0.dist-info/WHEEL": b"Wheel-Version: 1.0\nGenerator: warden-workload-matrix\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
}
record = []
with zipfile.ZipFile("wheels/greet-1.0-py3-none-any.whl", "w") as z:
    for name, data in files.items():
        z.writestr(name, data)
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{name},sha256={digest},{len(data)}")
    record.append("greet-1.0.dist-info/RECORD,,")
    z.writestr("greet-1.0.dist-info/RECORD", "\n".join(record) + "\n")
PY
python3 -c 'import ensurepip, venv' 2>/dev/null || { echo "python3 has no venv/ensurepip (install python3-venv)"; exit 77; }
printf '.venv/\n' > .gitignore
