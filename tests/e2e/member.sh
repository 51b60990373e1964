#!/usr/bin/env bash
# Browser tests of the member client (H5 at /h5/, phone viewport): run.sh's set-up, member.mjs.
# Screenshots: target/e2e/member/.
exec "$(dirname "$0")/run.sh" member.mjs
