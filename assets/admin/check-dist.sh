#!/bin/sh
# Rebuild the admin UI from the locked dependencies and fail if the committed dist/ differs.
set -eu
cd "$(dirname "$0")"
npm ci --no-audit --no-fund
npm run build
if [ -n "$(git status --porcelain -- dist)" ]; then
  echo "assets/admin/dist 与源码构建结果不一致，请运行 npm run build 并提交 dist/" >&2
  git status --porcelain -- dist >&2
  exit 1
fi
echo "dist 一致"
