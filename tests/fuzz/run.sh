#!/bin/sh
# Schema fuzzing of the whole API (see fuzz.py). Installs Schemathesis (pinned) into a venv under
# target/fuzz-venv on first use, then runs the real binary: $GH_TEST_BIN, else target/debug/gonghui
# (built with `cargo build` if missing). Arguments go to fuzz.py (--deep, --role R, --keep).
set -eu
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
target="${CARGO_TARGET_DIR:-$root/target}"
venv="$target/fuzz-venv"
if [ ! -x "$venv/bin/schemathesis" ] || ! "$venv/bin/schemathesis" --version 2>/dev/null | grep -q '4\.32\.5'; then
  echo "安装 schemathesis 4.32.5 到 $venv …"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check 'schemathesis==4.32.5'
fi
if [ -z "${GH_TEST_BIN:-}" ]; then
  [ -x "$target/debug/gonghui" ] || (cd "$root" && cargo build)
  GH_TEST_BIN="$target/debug/gonghui"
fi
export GH_TEST_BIN
exec python3 "$here/fuzz.py" --venv "$venv" "$@"
