#!/usr/bin/env bash
# Build the .deb from a built binary with dpkg-deb on the staged tree (the same contents as
# `cargo deb` with [package.metadata.deb], without building or installing cargo-deb).
# Usage: packaging/build-deb.sh BINARY OUT_DIR [dpkg-deb compression options]
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:?binary}; outdir=${2:?output dir}; shift 2
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
arch=$(dpkg --print-architecture)
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
root="$work/root"
packaging/stage.sh "$bin" "$root"
install -d -m 0755 "$root/DEBIAN"
install -m 0755 packaging/debian/postinst packaging/debian/prerm packaging/debian/postrm "$root/DEBIAN/"
printf '%s\n' /etc/gonghui/config.toml /etc/gonghui/litestream.yml > "$root/DEBIAN/conffiles"
size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
cat > "$root/DEBIAN/control" <<CTL
Package: gonghui
Version: $version
Architecture: $arch
Maintainer: gonghui maintainers <gonghui@localhost>
Section: net
Priority: optional
Installed-Size: $size
Depends: libc6, adduser | passwd
Description: 工会 trade-union member service appliance
 One binary with an embedded SQLite database, search index and admin UI.
 Data in /var/lib/gonghui, configuration in /etc/gonghui/config.toml.
CTL
mkdir -p "$outdir"
out="$outdir/gonghui_${version}_${arch}.deb"
dpkg-deb --root-owner-group "$@" --build "$root" "$out" >/dev/null
echo "$out"
