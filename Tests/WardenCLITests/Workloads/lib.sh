# Shared by every run.sh: `step NAME CMD...` runs CMD, prints `STEP NAME RC` and, when it
# failed, the last lines of its output; `failed` counts the failed steps.
failed=0
step() {
  _n=$1; shift
  _out=$("$@" 2>&1); _rc=$?
  echo "STEP $_n $_rc"
  if [ $_rc -ne 0 ]; then failed=$((failed + 1)); printf '%s\n' "$_out" | tail -n 12 | sed 's/^/  | /'; fi
}
