#!/usr/bin/env bash
# Lint the served specs with Spectral (`spectral:oas`, .spectral.yaml) and Redocly CLI
# (`recommended`, redocly.yaml and .redocly.lint-ignore.yaml): zero errors allowed.
# Usage: scripts/lint-specs.sh [spec files]   (default: openapi/uniqodo.yaml openapi/admin.yaml)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-spec-linters.sh
specs=("$@")
[ ${#specs[@]} -gt 0 ] || specs=(openapi/uniqodo.yaml openapi/admin.yaml)
export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true
.tools/node_modules/.bin/spectral lint --ruleset .spectral.yaml --fail-severity error "${specs[@]}"
.tools/node_modules/.bin/redocly lint --config redocly.yaml "${specs[@]}"
