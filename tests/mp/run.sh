#!/bin/sh
# Offline checks of the committed mini-program build, without WeChat's developer tool:
# miniprogram-ci resolves app.json, every page and component (getAppJSON/getPageJSON) and runs its
# code-quality check; wcc/wcsc compile every WXML/WXSS; miniprogram-simulate loads every page and
# checks the home and member-card pages with a stubbed `wx`; a self-test breaks copies of the build
# and requires each check to fail. MP_DIST points at another build (default: the committed one).
set -eu
cd "$(dirname "$0")"
# A clean install from the lock (always in CI's fresh checkout); skipped when this checkout's
# node_modules was installed from the current lock already, since it takes about a minute.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ] || [ package.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
npm test
