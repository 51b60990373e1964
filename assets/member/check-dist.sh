#!/bin/sh
# Rebuild the member client (H5 and mini-program) from the locked dependencies and fail if the
# committed dist/ differs; then check the mini-program package offline (scripts/check-mp.mjs, tests/mp).
set -eu
cd "$(dirname "$0")"
npm ci --no-audit --no-fund
npm run build
if [ -n "$(git status --porcelain -- dist)" ]; then
  echo "assets/member/dist 与源码构建结果不一致，请运行 npm run build 并提交 dist/" >&2
  git status --porcelain -- dist >&2
  exit 1
fi
node scripts/check-mp.mjs dist/mp-weixin
# WeChat's own compiler core, compilers and simulator over the committed package (tests/mp).
../../tests/mp/run.sh
echo "dist 一致"
