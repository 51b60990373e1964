#!/bin/sh
# Browser tests. Installs what is missing (chromium, CJK fonts, node deps), uses $GH_TEST_BIN
# or builds the release binary, then runs the suite named by the first argument: run.mjs (the
# admin UI, default) or member.mjs (the member H5). Each starts the server on a temp data dir
# and a free port and always stops it. Screenshots: target/e2e/.
set -eu
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"

if [ ! -x /usr/bin/chromium ]; then
  echo "安装 chromium 与中文字体…"
  apt-get update -qq && apt-get install -y -qq chromium fonts-noto-cjk
fi
if ! fc-list 2>/dev/null | grep -qi "Noto Sans CJK"; then
  apt-get install -y -qq fonts-noto-cjk || echo "警告: 未能安装中文字体，截图中文字可能显示为方块" >&2
fi

cd "$here"
if [ ! -d node_modules/playwright-core ]; then
  npm ci --no-audit --no-fund
fi

if [ -z "${GH_TEST_BIN:-}" ]; then
  (cd "$root" && cargo build --release)
  GH_TEST_BIN="${CARGO_TARGET_DIR:-$root/target}/release/gonghui"
fi
export GH_TEST_BIN
echo "使用 $GH_TEST_BIN"
exec node "$here/${1:-run.mjs}"
