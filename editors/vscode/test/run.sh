#!/usr/bin/env bash
# Tests the VS Code extension's TextMate grammar against the repository (see test/tokenize.mjs):
# installs the pinned dev dependencies (vscode-textmate, vscode-oniguruma) from package-lock.json,
# then tokenises every example, stdlib module and fixture and cross-checks grammar/reward.pest.
# Needs Node.js 18 or later and npm. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
npm ci --no-audit --no-fund
node test/tokenize.mjs
