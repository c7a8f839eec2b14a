#!/usr/bin/env bash
# `npm run bench`: like `npm start` and `npm test`, works on a fresh clone: installs the npm
# workspaces and the services the benchmark starts (Redis, PostgreSQL, FerretDB) when missing,
# builds `shared`, then runs bench/suite.ts with the arguments given (`npm run bench -- --help`).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
bash scripts/install-services.sh
echo "[bench] building shared"
npm run build --silent -w @collabflow/shared
exec node --import tsx bench/suite.ts "$@"
