#!/usr/bin/env bash
# `npm test`: make sure the real services are provisioned and running (idempotent, fast when
# warm), then type-check, lint, check import boundaries and run every test against them.
set -euo pipefail
# The console end-to-end test drives a real Chromium (test/e2e); provision installs it.
export PROVISION_CHROMIUM="${PROVISION_CHROMIUM:-1}"
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# The Superset import test needs the pinned Superset and Chromium, unless it is skipped explicitly.
if [ "${TIDEMARK_SKIP_SUPERSET:-0}" != 1 ]; then
  export PROVISION_SUPERSET="${PROVISION_SUPERSET:-1}" PROVISION_CHROMIUM="${PROVISION_CHROMIUM:-1}"
fi

if [ "${TIDEMARK_SKIP_SERVICES:-0}" != 1 ]; then
  bash scripts/provision.sh
  bash scripts/services.sh up
  # shellcheck disable=SC1091
  source .services/env.sh
fi

node scripts/check-node-version.ts
npx --no-install tsc -p tsconfig.json
npx --no-install eslint --max-warnings 0 .
npx --no-install depcruise --config .dependency-cruiser.cjs src
npx --no-install vitest run "$@"
