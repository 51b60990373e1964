#!/usr/bin/env bash
# Lay out the installed tree of gonghui under OUT: the layout the .deb and the offline tarball
# share. Usage: packaging/stage.sh BINARY OUT
set -euo pipefail
bin=${1:?binary}; out=${2:?output dir}
here=$(cd "$(dirname "$0")" && pwd)
rm -rf "$out"
install -d -m 0755 "$out/usr/bin" "$out/lib/systemd/system" "$out/usr/share/doc/gonghui"
install -d -m 0750 "$out/etc/gonghui"
install -m 0755 "$bin" "$out/usr/bin/gonghui"
install -m 0640 "$here/config.example.toml" "$out/etc/gonghui/config.toml"
install -m 0644 "$here/gonghui.service" "$out/lib/systemd/system/gonghui.service"
install -m 0644 "$here/gonghui-litestream.service" "$out/lib/systemd/system/gonghui-litestream.service"
install -m 0640 "$here/litestream.example.yml" "$out/etc/gonghui/litestream.yml"
install -m 0644 "$here/INSTALL-offline.md" "$out/usr/share/doc/gonghui/INSTALL-offline.md"
