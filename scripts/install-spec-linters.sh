#!/usr/bin/env bash
# Spectral and Redocly CLI, pinned, into .tools/ (gitignored): installed once from the npm
# registry, then tests/test_spec_lint.py and scripts/lint-specs.sh run them offline.
# Usage: scripts/install-spec-linters.sh   (does nothing when the pinned versions are there)
set -euo pipefail
cd "$(dirname "$0")/.."

SPECTRAL_VERSION=6.16.3
REDOCLY_VERSION=2.77.0
TOOLS=.tools

installed() {  # installed PACKAGE -> its version in .tools, or nothing
    local manifest="$TOOLS/node_modules/$1/package.json"
    [ -f "$manifest" ] && node -p "require('./$manifest').version" 2>/dev/null || true
}

if [ "$(installed @stoplight/spectral-cli)" = "$SPECTRAL_VERSION" ] \
    && [ "$(installed @redocly/cli)" = "$REDOCLY_VERSION" ]; then
    exit 0
fi
if ! command -v npm >/dev/null 2>&1 || ! command -v node >/dev/null 2>&1; then
    echo "scripts/install-spec-linters.sh: node and npm are needed to install the spec linters" \
        "(Spectral, Redocly CLI); install Node.js 20 or later" >&2
    exit 1
fi
mkdir -p "$TOOLS"
npm install --prefix "$TOOLS" --no-audit --no-fund --loglevel=error \
    "@stoplight/spectral-cli@$SPECTRAL_VERSION" "@redocly/cli@$REDOCLY_VERSION" >/dev/null
