#!/usr/bin/env bash
# `npm start`: installs what it needs, builds, then runs the local stack (see scripts/stack.ts).
set -euo pipefail
cd "$(dirname "$0")/.."
export NEXT_TELEMETRY_DISABLED=1
bash scripts/ensure-deps.sh
bash scripts/install-services.sh "$@"
echo "[start] building"
npm run build --silent
exec node --import tsx scripts/stack.ts "${STACK_MODE:-single}"
