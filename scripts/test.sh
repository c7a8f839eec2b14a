#!/usr/bin/env bash
# `npm test`: installs what the tests need (nginx; chromium for the browser tests), builds
# shared, backend and the web app, then lint, type-check and every test. The test run starts
# its own Redis, PostgreSQL and FerretDB on free loopback ports and stops exactly those processes.
set -euo pipefail
cd "$(dirname "$0")/.."
export NEXT_TELEMETRY_DISABLED=1
bash scripts/ensure-deps.sh
bash scripts/install-services.sh nginx chromium
echo "[test] building shared and backend"
npm run build --silent
echo "[test] building the web app (next build, about a minute the first time)"
npm run build --silent -w @collabflow/frontend
echo "[test] lint"
npm run lint --silent
echo "[test] type-check"
npm run typecheck --silent
echo "[test] vitest"
npx vitest run
