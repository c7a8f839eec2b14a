#!/usr/bin/env bash
# `npm start`: installs what it needs, builds, then runs the local stack (see scripts/stack.ts):
# nginx serves the web app and the API on one origin. `npm run start:cluster` runs this too.
set -euo pipefail
cd "$(dirname "$0")/.."
export NEXT_TELEMETRY_DISABLED=1
bash scripts/ensure-deps.sh
# nginx fronts the web app and the API in both modes; other extras are passed on.
extras=(nginx)
for extra in "$@"; do [ "$extra" = nginx ] || extras+=("$extra"); done
bash scripts/install-services.sh "${extras[@]}"
echo "[start] building"
npm run build --silent

# The web app is rebuilt when it has never been built or when a source of it (anything in
# frontend/ outside .next and node_modules, or the shared package's sources) is newer than
# the last build. Files that `next build` writes itself (next-env.d.ts, *.tsbuildinfo) do not
# count.
build_id=frontend/.next/BUILD_ID
web_stale() {
  [ ! -f "$build_id" ] && return 0
  [ -n "$(find frontend shared/src \
    \( -path frontend/.next -o -name node_modules -o -name next-env.d.ts -o -name '*.tsbuildinfo' \) -prune -o \
    -type f -newer "$build_id" -print -quit)" ]
}
if web_stale; then
  echo "[start] building the web app (next build, about a minute the first time)"
  npm run build --silent -w @collabflow/frontend
else
  echo "[start] web app build is up to date"
fi
exec node --import tsx scripts/stack.ts "${STACK_MODE:-single}"
