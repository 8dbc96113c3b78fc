#!/usr/bin/env bash
# `make test-dist`: the release artifacts work on a Debian machine that has never seen Swift.
#  1. `make dist` (scripts/dist.sh), then `sha256sum -c dist/SHA256SUMS`;
#  2. a fresh Debian root (debootstrap --variant=minbase, the host's suite, the host's apt
#     mirror, plus git and python3 for the agent's probes; cached in .build/dist-test so
#     reruns take seconds) is copied twice;
#  3. copy one: `dpkg -i` the .deb (no Swift, no -dev package there), then with that copy as
#     the root directory (pivot_root in a private mount namespace; /proc, /sys, /dev bound): scripts/dist-test/in-root.sh (version, doctor, lint, test,
#     completions, a sandboxed run of /bin/true, forbidden actions denied, the audit trail
#     verified; docs/install.md lists them);
#  4. copy two: the tarball unpacked in /opt, the same checks with its bin/warden.
# Skips (exit 0, with the reason) without root, debootstrap, mount namespaces or a reachable
# mirror, unless
# WARDEN_REQUIRE_DIST_TEST=1 (then those are failures); WARDEN_SKIP_DIST_TEST=1 skips it. `--prepare-root` only builds the
# cached root. Options: WARDEN_DIST_SUITE, WARDEN_DIST_MIRROR (default: from /etc/apt).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

skip() {
  if [[ ${WARDEN_REQUIRE_DIST_TEST:-0} == 1 ]]; then echo "test-dist: FAIL (WARDEN_REQUIRE_DIST_TEST=1): $*" >&2; exit 1; fi
  echo "test-dist: SKIP: $*"
  exit 0
}
die() { echo "test-dist: FAIL: $*" >&2; exit 1; }

[[ ${WARDEN_SKIP_DIST_TEST:-0} == 1 ]] && skip "WARDEN_SKIP_DIST_TEST=1"
[[ $(id -u) -eq 0 ]] || skip "needs root (debootstrap, mount namespaces, pivot_root)"
command -v debootstrap >/dev/null || skip "debootstrap is not installed (scripts/setup.sh installs it when run as root)"
unshare --mount --propagation private true 2>/dev/null || skip "cannot create a mount namespace here (unshare --mount failed)"

# shellcheck disable=SC1091
. /etc/os-release
suite=${WARDEN_DIST_SUITE:-${VERSION_CODENAME:-}}
[[ -n $suite ]] || skip "no VERSION_CODENAME in /etc/os-release; set WARDEN_DIST_SUITE"
debarch=$(dpkg --print-architecture)

# The first apt source (deb822 .sources or one-line sources.list) serving the suite.
apt_mirror() {
  local f
  for f in /etc/apt/sources.list.d/*.sources; do
    [[ -f $f ]] || continue
    awk -v suite="$suite" 'BEGIN { RS = ""; FS = "\n" }
      { uri = ""; ok = 0; deb = 0; off = 0
        for (i = 1; i <= NF; i++) {
          if ($i ~ /^URIs:/) { split($i, a, /[ \t]+/); uri = a[2] }
          if ($i ~ /^Suites:/) { n = split($i, s, /[ \t]+/); for (j = 2; j <= n; j++) if (s[j] == suite) ok = 1 }
          if ($i ~ /^Types:/ && $i ~ /[ \t]deb([ \t]|$)/) deb = 1
          if ($i ~ /^Enabled:[ \t]*no/) off = 1
        }
        if (ok && deb && !off && uri != "") { print uri; exit } }' "$f"
  done | head -n1
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [[ -f $f ]] || continue
    awk -v suite="$suite" '$1 == "deb" { i = 2; if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ } if ($(i+1) == suite) { print $i; exit } }' "$f"
  done | head -n1
}
mirror=${WARDEN_DIST_MIRROR:-$(apt_mirror | head -n1)}
[[ -n $mirror ]] || skip "no apt source for $suite in /etc/apt; set WARDEN_DIST_MIRROR"

work=$root/.build/dist-test
cache=$work/debootstrap-$suite-$debarch
mkdir -p "$work"
# Nothing may still be mounted under the roots this script removes.
if findmnt -rn -o TARGET | grep -q "^$work/"; then die "something is mounted under $work; unmount it first"; fi

if [[ ! -f $cache/.warden-complete ]]; then
  rm -rf --one-file-system "$cache"
  echo "test-dist: debootstrap --variant=minbase $suite from $mirror (cached in $cache)"
  start=$(date +%s)
  # In a mount namespace of its own: what it mounts in the root goes away with it.
  unshare --mount --propagation private -- debootstrap --variant=minbase --include=git,python3 "$suite" "$cache" "$mirror" \
    > "$work/debootstrap.log" 2>&1 \
    || { tail -n 5 "$work/debootstrap.log"; rm -rf --one-file-system "$cache"; skip "debootstrap of $suite from $mirror failed (no network? log: $work/debootstrap.log)"; }
  rm -rf "$cache"/var/cache/apt/archives/*.deb
  touch "$cache/.warden-complete"
  echo "test-dist: debootstrap took $(( $(date +%s) - start ))s"
fi
[[ ${1:-} == --prepare-root ]] && exit 0

start=$(date +%s)
./scripts/dist.sh
echo "test-dist: make dist took $(( $(date +%s) - start ))s"
(cd dist && sha256sum -c SHA256SUMS) || die "dist/SHA256SUMS does not match"
version=$(sed -n 's/^ *static let string = "\([^"]*\)".*/\1/p' Sources/warden/Warden.swift)
deb=dist/warden_${version}_${debarch}.deb
name=warden-$version-linux-$(uname -m)
tarball=dist/$name.tar.gz
[[ -f $deb && -f $tarball ]] || die "make dist left no $deb or $tarball"

# in_root ROOT COMMAND...: COMMAND in ROOT as its root directory, with /proc, /sys and /dev
# bound, in a private mount namespace that takes every mount away when it ends; a clean
# environment. pivot_root, not chroot: in a chroot the kernel refuses user namespaces
# (EPERM), and a root that is a mount point lets the sandbox pivot_root in turn.
in_root() {
  local r=$1; shift
  unshare --mount --propagation private -- /bin/sh -c '
    r=$1; shift
    mount --bind "$r" "$r" && mount --rbind /proc "$r/proc" && mount --rbind /sys "$r/sys" && mount --rbind /dev "$r/dev" \
      && mkdir -p "$r/.old-root" && cd "$r" && pivot_root . .old-root && cd / && umount -l /.old-root && rmdir /.old-root \
      || { echo "test-dist: cannot enter $r (bind /proc, /sys, /dev; pivot_root)" >&2; exit 97; }
    exec /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
      HOME=/root LANG=C.UTF-8 TERM=dumb "$@"' sh "$r" "$@"
}

fresh_root() { # fresh_root DIR: a copy of the cached debootstrap root
  rm -rf --one-file-system "$1"
  cp -a "$cache" "$1"
  mkdir -p "$1/opt/warden-test"
  cp scripts/dist-test/in-root.sh scripts/dist-test/agent.sh "$1/opt/warden-test/"
}

failures=0

echo "test-dist: the .deb in a fresh $suite root"
deb_root=$work/root-deb
fresh_root "$deb_root"
cp "$deb" "$deb_root/tmp/warden.deb"
in_root "$deb_root" dpkg -i /tmp/warden.deb || die "dpkg -i $deb failed in a fresh $suite root"
if in_root "$deb_root" dpkg-query -W -f='${Package}\n' | grep -E -- '-dev$|swift'; then
  die "the fresh root has development or Swift packages (listed above): the test would prove nothing"
fi
in_root "$deb_root" ldd /usr/bin/warden
in_root "$deb_root" /bin/bash /opt/warden-test/in-root.sh /usr/bin/warden /usr/share/warden/policies "$version" deb \
  || failures=$((failures + 1))

echo "test-dist: the tarball unpacked in a fresh $suite root"
tar_root=$work/root-tar
fresh_root "$tar_root"
tar -xzf "$tarball" -C "$tar_root/opt"
in_root "$tar_root" /bin/bash /opt/warden-test/in-root.sh "/opt/$name/bin/warden" "/opt/$name/share/warden/policies" "$version" tar \
  || failures=$((failures + 1))

if ((failures > 0)); then die "$failures of 2 installs failed their checks (above)"; fi
rm -rf --one-file-system "$deb_root" "$tar_root"
echo "test-dist: ok: the .deb and the tarball work in fresh $suite roots without Swift"
