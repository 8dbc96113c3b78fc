#!/usr/bin/env bash
# `make dist`: the release artifacts in dist/, for a Debian/Ubuntu machine without a Swift
# toolchain or -dev packages (docs/install.md):
#   warden-VERSION-linux-MACHINE.tar.gz  bin/warden, share/warden/policies, share/man/man1,
#                                        share/{bash-completion,zsh,fish}, share/doc/warden
#   warden_VERSION_DEBARCH.deb           the same under /usr
#   SHA256SUMS                           `sha256sum -c SHA256SUMS` checks both
# The version is WardenVersion.string in Sources/warden/Warden.swift (checked against the
# built binary's --version). Static Swift stdlib; libseccomp and libcap linked from their
# archives (.a), so the binary needs only libc, libm, libstdc++ and libgcc_s at run time
# (the .deb's Depends is computed from the binary by dpkg-shlibdeps).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
SWIFT=${SWIFT:-swift}
die() { echo "dist: $*" >&2; exit 1; }

version=$(sed -n 's/^ *static let string = "\([^"]*\)".*/\1/p' Sources/warden/Warden.swift)
[[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+([.+~-][0-9A-Za-z.+~-]*)?$ ]] \
  || die "cannot read WardenVersion.string from Sources/warden/Warden.swift (got '$version')"
machine=$(uname -m)
debarch=$(dpkg --print-architecture)
# Reproducible archives: every timestamp is the last commit's.
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}

# libseccomp, libcap and SQLite statically: SwiftPM links the system library targets
# CSeccomp, CCap and CSQLite with the flags of their pkg-config files (`-L<libdir>
# -lseccomp`). Our own .pc files, first on PKG_CONFIG_PATH, point -L at a directory holding
# only the archives (links to the system's .a), so the linker takes those. Package.swift
# and the debug build stay as they are.
static_libs=$root/.build/dist-static-libs
mkdir -p "$static_libs/pkgconfig"
# pkg-config name, library name, extra libraries the archive needs.
for spec in "libseccomp seccomp" "libcap cap" "sqlite3 sqlite3 -lm"; do
  read -r pc lib extra <<<"$spec"
  archive=$(gcc -print-file-name="lib$lib.a")
  [[ -f $archive ]] || die "lib$lib.a not found (install the -dev package: scripts/setup.sh)"
  ln -sf "$(readlink -f "$archive")" "$static_libs/lib$lib.a"
  cat > "$static_libs/pkgconfig/$pc.pc" <<EOF
Name: $pc
Description: lib$lib, its static archive only (scripts/dist.sh)
Version: $(pkg-config --modversion "$pc")
Libs: -L$static_libs -l$lib $extra
Cflags: $(pkg-config --cflags "$pc")
EOF
done
export PKG_CONFIG_PATH=$static_libs/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}

build_flags=(-c release --static-swift-stdlib --product warden)
echo "dist: swift build ${build_flags[*]}" >&2
"$SWIFT" build "${build_flags[@]}"
binary=$("$SWIFT" build "${build_flags[@]}" --show-bin-path)/warden
[[ -x $binary ]] || die "no binary at $binary"

built_version=$("$binary" --version)
[[ $built_version == "$version" ]] || die "the binary says version '$built_version', Warden.swift says '$version'"
if ldd "$binary" | grep -E 'lib(seccomp|cap|sqlite3)\.so|libswift|libFoundation|not found'; then
  die "$binary still needs the shared libraries above"
fi

stage=$root/.build/dist-stage
rm -rf "$stage" && mkdir -p "$stage"
name=warden-$version-linux-$machine
tree=$stage/$name

# The tarball's tree; the .deb's /usr is the same tree.
install -d "$tree/bin" "$tree/share/warden/policies" "$tree/share/man/man1" "$tree/share/doc/warden" \
  "$tree/share/bash-completion/completions" "$tree/share/zsh/site-functions" "$tree/share/fish/vendor_completions.d"
# Stripped as Debian strips packages (debug information and symbols: 159 MB -> 81 MB).
strip --strip-unneeded --remove-section=.comment -o "$tree/bin/warden" "$binary"
chmod 0755 "$tree/bin/warden"
install -m 0644 policies/*.warden "$tree/share/warden/policies/"
install -m 0644 README.md SECURITY.md "$tree/share/doc/warden/"
install -m 0644 docs/install.md "$tree/share/doc/warden/install.md"

# Man pages: swift-argument-parser's generate-manual, one page per command (warden.1,
# warden.run.1, ...), built as the GenerateManual plugin's tool (offline: the package's
# dependencies are already checked out). It reads the binary's --experimental-dump-help.
# The tool's executable is `generate-manual-tool` when the plugin builds it (a fresh
# clone), `generate-manual` when built as a product.
find_manual_tool() {
  find .build -type f \( -name generate-manual-tool -o -name generate-manual \) -perm -u+x 2>/dev/null | head -n1
}
manual_tool=$(find_manual_tool)
if [[ -z $manual_tool ]]; then
  echo "dist: building swift-argument-parser's generate-manual (swift package plugin generate-manual)" >&2
  # The plugin builds the tool, then runs it on the debug products; only its tool is kept.
  "$SWIFT" package plugin generate-manual --configuration debug >/dev/null \
    || die "swift package plugin generate-manual failed"
  manual_tool=$(find_manual_tool)
  [[ -n $manual_tool && -x $manual_tool ]] || die "generate-manual(-tool) not found under .build after the plugin ran"
fi
man_date=$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%d)
"$manual_tool" "$tree/bin/warden" --multi-page --date "$man_date" --output-directory "$tree/share/man/man1"
[[ -f $tree/share/man/man1/warden.1 && -f $tree/share/man/man1/warden.run.1 ]] || die "generate-manual wrote no warden.1/warden.run.1"
chmod 0644 "$tree"/share/man/man1/*.1
gzip -9n "$tree"/share/man/man1/*.1

"$tree/bin/warden" --generate-completion-script bash > "$tree/share/bash-completion/completions/warden"
"$tree/bin/warden" --generate-completion-script zsh > "$tree/share/zsh/site-functions/_warden"
"$tree/bin/warden" --generate-completion-script fish > "$tree/share/fish/vendor_completions.d/warden.fish"
chmod 0644 "$tree"/share/*-completion*/completions/* "$tree"/share/zsh/site-functions/* "$tree"/share/fish/vendor_completions.d/*

mkdir -p dist
tarball=dist/$name.tar.gz
deb=dist/warden_${version}_${debarch}.deb
rm -f "$tarball" "$deb" dist/SHA256SUMS
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$SOURCE_DATE_EPOCH" \
  -C "$stage" -cf - "$name" | gzip -9n > "$tarball"

# The .deb: the tree under /usr, with Debian's directories for zsh completions.
pkg=$stage/deb
install -d "$pkg/DEBIAN" "$pkg/usr"
cp -a "$tree/." "$pkg/usr/"
mkdir -p "$pkg/usr/share/zsh/vendor-completions"
mv "$pkg/usr/share/zsh/site-functions/_warden" "$pkg/usr/share/zsh/vendor-completions/_warden"
rmdir "$pkg/usr/share/zsh/site-functions"
# The run-time dependencies, from the binary's own shared libraries.
shlib=$stage/shlibdeps
mkdir -p "$shlib/debian"
printf 'Source: warden\n\nPackage: warden\nArchitecture: any\n' > "$shlib/debian/control"
depends=$(cd "$shlib" && dpkg-shlibdeps -O "$pkg/usr/bin/warden" 2>/dev/null | sed -n 's/^shlibs:Depends=//p')
[[ -n $depends ]] || die "dpkg-shlibdeps found no dependencies for the binary"
installed_size=$(du -sk --apparent-size "$pkg/usr" | cut -f1)
cat > "$pkg/DEBIAN/control" <<EOF
Package: warden
Version: $version
Architecture: $debarch
Maintainer: ${DEB_MAINTAINER:-Warden maintainers <warden@example.invalid>}
Installed-Size: $installed_size
Depends: $depends
Section: admin
Priority: optional
Description: policy and governance enforcement for background AI agents
 Warden lints declarative policies (identities, filesystem, network, syscall and
 capability rules, limits), compiles them to kernel enforcement (seccomp, Landlock,
 namespaces, capabilities, rlimits), launches agents under them and keeps a
 hash-chained, signed audit trail. Stock policies are in /usr/share/warden/policies.
EOF
find "$pkg" -type d -exec chmod 0755 {} +
find "$pkg" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
dpkg-deb --root-owner-group -Zxz --build "$pkg" "$deb" >/dev/null

(cd dist && sha256sum "$(basename "$tarball")" "$(basename "$deb")" > SHA256SUMS)
echo "dist: $(du -h "$tarball" | cut -f1) $tarball" >&2
echo "dist: $(du -h "$deb" | cut -f1) $deb" >&2
echo "dist: dist/SHA256SUMS" >&2
