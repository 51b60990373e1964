#!/usr/bin/env bash
# The offline tarball: the .deb's tree (usr/bin, etc/gonghui, lib/systemd/system) plus
# install.sh, which copies it to / and runs the .deb's postinst. For servers without dpkg.
# Usage: packaging/tarball.sh [BINARY] [OUT_DIR]   (default target/release/gonghui, target/)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-target/release/gonghui}; outdir=${2:-target}
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
arch=$(uname -m)
name="gonghui-$version-linux-$arch"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
packaging/stage.sh "$bin" "$work/$name/root"
install -m 0755 packaging/debian/postinst "$work/$name/postinst"
cat > "$work/$name/install.sh" <<'SH'
#!/bin/sh
# Install gonghui from this tarball (run as root). An existing /etc/gonghui/config.toml is kept.
set -e
cd "$(dirname "$0")"
install -m 0755 root/usr/bin/gonghui /usr/bin/gonghui
install -m 0644 root/lib/systemd/system/gonghui.service /lib/systemd/system/gonghui.service
install -m 0644 root/lib/systemd/system/gonghui-litestream.service /lib/systemd/system/gonghui-litestream.service
install -d -m 0750 /etc/gonghui
[ -e /etc/gonghui/config.toml ] || install -m 0640 root/etc/gonghui/config.toml /etc/gonghui/config.toml
[ -e /etc/gonghui/litestream.yml ] || install -m 0640 root/etc/gonghui/litestream.yml /etc/gonghui/litestream.yml
./postinst configure
echo "已安装。编辑 /etc/gonghui/config.toml（至少 admin_password），然后: systemctl enable --now gonghui"
SH
chmod 0755 "$work/$name/install.sh"
mkdir -p "$outdir"
tar -C "$work" --owner=0 --group=0 --numeric-owner -czf "$outdir/$name.tar.gz" "$name"
echo "$outdir/$name.tar.gz"
