#!/usr/bin/env bash
# CI: build the .deb from the binary CI already has ($GH_TEST_BIN, the release build in CI; any
# debug info is stripped from a copy), then check its contents, modes, conffile, maintainer
# scripts and the unit's hardening.
# Usage: GH_TEST_BIN=target/release/gonghui packaging/check-deb.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${GH_TEST_BIN:-target/debug/gonghui}
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
objcopy --strip-debug "$bin" "$work/gonghui"
deb=$(packaging/build-deb.sh "$work/gonghui" "$work/out" -Zgzip -z1)
fail() { echo "check-deb: $*" >&2; exit 1; }
contents=$(dpkg-deb -c "$deb")
echo "$contents"
expect() { # mode owner path
  echo "$contents" | grep -Eq "^$1 root/root +[0-9]+ [0-9-]+ [0-9:]+ \./$2\$" || fail "expected $1 root/root ./$2"
}
expect '-rwxr-xr-x' usr/bin/gonghui
expect '-rw-r-----' etc/gonghui/config.toml
expect 'drwxr-x---' etc/gonghui/
expect '-rw-r--r--' lib/systemd/system/gonghui.service
expect '-rw-r--r--' lib/systemd/system/gonghui-litestream.service
expect '-rw-r-----' etc/gonghui/litestream.yml
info=$(dpkg-deb -I "$deb")
echo "$info" | grep -q '^ Package: gonghui$' || fail "control: Package"
for s in postinst prerm postrm conffiles; do
  echo "$info" | grep -Eq "^ +[0-9]+ bytes, +[0-9]+ lines +\*? *$s" || fail "missing $s"
done
[ "$(dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./conffiles)" = "$(printf '%s\n' /etc/gonghui/config.toml /etc/gonghui/litestream.yml)" ] || fail "conffiles"
dpkg-deb -x "$deb" "$work/x"
unit="$work/x/lib/systemd/system/gonghui.service"
for l in 'User=gonghui' 'UMask=0077' 'ProtectSystem=strict' 'NoNewPrivileges=true' \
         'ReadWritePaths=/var/lib/gonghui' 'Environment=GONGHUI_DATA_DIR=/var/lib/gonghui' \
         'ExecStart=/usr/bin/gonghui serve'; do
  grep -qx "$l" "$unit" || fail "unit lacks $l"
done
lsunit="$work/x/lib/systemd/system/gonghui-litestream.service"
for l in 'User=gonghui' 'UMask=0077' 'ProtectSystem=strict' 'NoNewPrivileges=true' \
         'ReadWritePaths=/var/lib/gonghui' 'ExecStart=/usr/local/bin/litestream replicate -config /etc/gonghui/litestream.yml'; do
  grep -qx "$l" "$lsunit" || fail "litestream unit lacks $l"
done
if command -v systemd-analyze >/dev/null 2>&1; then
  systemd-analyze verify "$unit" 2>&1 | grep -v 'gonghui.*not found\|Failed to \|/usr/bin/gonghui' || true
fi
dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./postinst > "$work/postinst"
sh -n "$work/postinst" || fail "postinst syntax"
grep -q 'chmod 0700 /var/lib/gonghui' "$work/postinst" || fail "postinst: data dir mode"
grep -q 'useradd --system' "$work/postinst" || fail "postinst: system user"
# The packaged binary runs and reports its version.
"$work/x/usr/bin/gonghui" --version | grep -q '^gonghui ' || fail "binary does not run"
echo "check-deb: ok ($(du -h "$deb" | cut -f1) $deb)"
