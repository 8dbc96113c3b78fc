#!/bin/bash
# Runs inside a fresh Debian root where Warden was installed from a release artifact
# (scripts/test-dist.sh): in-root.sh WARDEN STOCK_DIR VERSION deb|tar
# Prints one line per check; exits with the number of failed checks.
set -u
warden=$1 stock=$2 version=$3 kind=$4
failures=0
pass() { echo "  ok    $1"; }
fail() { echo "  FAIL  $1"; shift; [[ $# -gt 0 ]] && printf '%s\n' "$@" | sed 's/^/        /'; failures=$((failures + 1)); }

out=$("$warden" --version 2>&1)
[[ $out == "$version" ]] && pass "warden --version is $version" || fail "warden --version" "$out"

out=$("$warden" doctor 2>&1); status=$?
if [[ $status -eq 0 && $out == *"stock policies in $stock"* ]]; then pass "warden doctor: core layers available, stock policies in $stock"
else fail "warden doctor (status $status)" "$out"; fi

out=$("$warden" lint "$stock" 2>&1); status=$?
[[ $status -eq 0 ]] && pass "warden lint $stock" || fail "warden lint $stock (status $status)" "$out"

for f in "$stock"/*.warden; do
  grep -q '^test "' "$f" || continue
  out=$("$warden" test "$f" 2>&1); status=$?
  [[ $status -eq 0 ]] && pass "warden test $(basename "$f"): ${out##*$'\n'}" || fail "warden test $f (status $status)" "$out"
done

# Man pages and completions where the artifact puts them.
case $kind in
  deb) prefix=/usr bash_completion=/usr/share/bash-completion/completions/warden
       zsh_completion=/usr/share/zsh/vendor-completions/_warden ;;
  tar) prefix=$(dirname "$(dirname "$warden")") bash_completion=$prefix/share/bash-completion/completions/warden
       zsh_completion=$prefix/share/zsh/site-functions/_warden ;;
esac
for page in warden.1.gz warden.run.1.gz warden.doctor.1.gz; do
  if zcat "$prefix/share/man/man1/$page" 2>/dev/null | grep -q '^\.Nm warden\|^\.Dt WARDEN'; then pass "man page $page"
  else fail "man page $prefix/share/man/man1/$page"; fi
done
if bash -c ". '$bash_completion' && complete -p warden" >/dev/null 2>&1; then pass "bash completion loads"; else fail "bash completion $bash_completion"; fi
[[ -s $zsh_completion && -s $prefix/share/fish/vendor_completions.d/warden.fish ]] && pass "zsh and fish completions" || fail "zsh/fish completions"

# A workspace (a git repository), a home with a fake key, an audit key.
state=/var/lib/warden-test
rm -rf "$state" /srv/ws /home/agent
mkdir -p "$state" /srv/ws /home/agent/.ssh
echo "-----BEGIN FAKE OPENSSH PRIVATE KEY----- test only" > /home/agent/.ssh/id_ed25519
cp /opt/warden-test/agent.sh /srv/ws/agent.sh
git -C /srv/ws init -q && git -C /srv/ws add -A \
  && git -C /srv/ws -c user.name=operator -c user.email=operator@example.invalid commit -qm initial
"$warden" audit keygen --output "$state/signing" >/dev/null 2>&1 || fail "warden audit keygen"
audit=(--audit-log "$state/audit.jsonl" --signing-key "$state/signing.key")

out=$(cd /srv/ws && HOME=/home/agent "$warden" run -q --policy "$stock/default.warden" "${audit[@]}" -- /bin/true 2>&1); status=$?
[[ $status -eq 0 ]] && pass "warden run --policy $stock/default.warden -- /bin/true" || fail "sandboxed /bin/true (status $status)" "$out"

# The stock policy by name, as `--policy default` finds it.
# (The default policy's world shows /etc/shadow as an empty character device: cat succeeds
# and reads nothing.)
grep -q '^root:' /etc/shadow || fail "the root has no root: line in /etc/shadow; the next check would prove nothing"
out=$(cd /srv/ws && HOME=/home/agent "$warden" run -q --policy default "${audit[@]}" -- /bin/cat /etc/shadow 2>&1); status=$?
if [[ $out != *"root:"* ]]; then pass "warden run --policy default -- cat /etc/shadow: nothing read (status $status)"
else fail "cat /etc/shadow under the default policy read the file (status $status)" "$out"; fi

echo "  the agent under --policy default:"
(cd /srv/ws && HOME=/home/agent "$warden" run -q --policy default "${audit[@]}" -- /bin/sh ./agent.sh); status=$?
[[ $status -eq 0 ]] && pass "the agent's work succeeded, every forbidden action was denied" || fail "the agent (status $status)"
[[ -e /usr/bin/evil || -e /srv/ws/.git/hooks/pre-commit ]] && fail "a forbidden write reached the disk"

out=$("$warden" audit verify "$state/audit.jsonl" --public-key "$state/signing.pub" 2>&1); status=$?
[[ $status -eq 0 ]] && pass "warden audit verify: ${out%%$'\n'*}" || fail "warden audit verify (status $status)" "$out"

echo "  $kind: $failures failed check(s)"
exit "$failures"
