#!/usr/bin/env bash
# Writes results.json with promptfoo itself (test data for tests/test_importers.py).
# promptfoo 0.123.1 needs Node >= 22.22; both come from the npm registry:
#   mkdir /tmp/pf && cd /tmp/pf && npm install node@22 promptfoo@0.123.1
# then, from this folder: PF=/tmp/pf bash make_results.sh
set -euo pipefail
cd "$(dirname "$0")"
export PATH="$PF/node_modules/.bin:$PATH" PROMPTFOO_DISABLE_TELEMETRY=1 PROMPTFOO_DISABLE_UPDATE=1 \
       PROMPTFOO_CONFIG_DIR="$(mktemp -d)"
promptfoo --version
promptfoo eval -c promptfooconfig.yaml -o results.json --no-cache --repeat 2 --no-progress-bar || true  # exit 100: some assertions failed
