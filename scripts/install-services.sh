#!/usr/bin/env bash
# Installs what CollabFlow's local stack needs and is missing: Debian's redis-server and
# postgresql (and, when asked, nginx, which fronts the web app and the API in `npm start`,
# `npm run start:cluster` and the tests, and chromium for the browser tests) and FerretDB 1.24.2,
# which runs with its PostgreSQL handler on a PostgreSQL cluster of the project's own
# (scripts/lib/services.ts starts it; the system cluster the package creates is never used).
# Skips whatever is already there; runs non-interactively; safe to run again.
#
#   bash scripts/install-services.sh                   # redis-server + postgresql + ferretdb
#   bash scripts/install-services.sh nginx             # ... and nginx
#   bash scripts/install-services.sh nginx chromium    # ... and chromium (npm test)
set -euo pipefail

FERRETDB_VERSION="v1.24.2"
say() { printf '[install] %s\n' "$*"; }

# A PostgreSQL server: Debian's layout, or wherever pg_config says the programs are.
have_postgres() {
  local bin
  for bin in /usr/lib/postgresql/*/bin/postgres; do [ -x "$bin" ] && return 0; done
  bin="$(pg_config --bindir 2>/dev/null || true)"
  [ -n "$bin" ] && [ -x "$bin/postgres" ]
}

need_apt=()
command -v redis-server >/dev/null 2>&1 || need_apt+=(redis-server)
have_postgres || need_apt+=(postgresql)
for extra in "$@"; do
  case "$extra" in
    nginx) command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need_apt+=(nginx) ;;
    chromium) command -v chromium >/dev/null 2>&1 || need_apt+=(chromium) ;;
    *) echo "install-services: unknown extra '$extra' (known: nginx, chromium)" >&2; exit 2 ;;
  esac
done

if [ ${#need_apt[@]} -gt 0 ]; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  say "installing Debian packages: ${need_apt[*]}"
  $SUDO apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q "${need_apt[@]}" >/dev/null
  # The Debian package starts a system-wide redis on 6379; the project never uses it.
  if printf '%s\n' "${need_apt[@]}" | grep -qx redis-server; then
    (command -v systemctl >/dev/null 2>&1 && $SUDO systemctl disable --now redis-server >/dev/null 2>&1) || true
  fi
  # Debian's postgresql creates a system cluster (<version>/main, port 5432) and starts it when
  # it can. The project never uses it: it runs a cluster of its own under .collabflow/ or a
  # temporary directory. Stop it with the package's own tools and keep it from starting at boot.
  if printf '%s\n' "${need_apt[@]}" | grep -qx postgresql; then
    if command -v pg_lsclusters >/dev/null 2>&1; then
      pg_lsclusters --no-header 2>/dev/null | while read -r ver name _port status _rest; do
        if [ "$status" = online ]; then
          say "stopping the system PostgreSQL cluster $ver/$name (the project runs its own)"
          $SUDO pg_ctlcluster "$ver" "$name" stop >/dev/null 2>&1 || true
        fi
        conf="/etc/postgresql/$ver/$name/start.conf"
        if [ -f "$conf" ]; then $SUDO sed -i 's/^auto$/manual/' "$conf"; fi
      done
    fi
    (command -v systemctl >/dev/null 2>&1 && $SUDO systemctl disable --now postgresql >/dev/null 2>&1) || true
  fi
else
  say "Debian packages present"
fi

if ! command -v go >/dev/null 2>&1; then
  echo "install-services: Go is required to build FerretDB (https://go.dev/dl/); install it and run again" >&2
  exit 1
fi
GOBIN_DIR="$(go env GOPATH)/bin"
FERRETDB="$GOBIN_DIR/ferretdb"
# Read the whole output first: `| grep -q` can end the pipe early, and with pipefail the
# binary's SIGPIPE would read as "not installed" and rebuild it.
if [ -x "$FERRETDB" ] && [[ "$("$FERRETDB" --version 2>/dev/null || true)" == *"version: $FERRETDB_VERSION"* ]]; then
  say "ferretdb $FERRETDB_VERSION present at $FERRETDB"
  exit 0
fi

# `go install github.com/FerretDB/FerretDB/cmd/ferretdb@v1.24.2` builds a binary that panics at
# start ("Invalid build/version/version.txt file content"): the module zip ships an empty
# build/version/version.txt, which FerretDB's own build fills in (bin/task gen-version). So we
# fetch the same module version through the Go module proxy, write that one file, and build
# cmd/ferretdb from it. See docs/storage.md.
say "building ferretdb $FERRETDB_VERSION (about a minute the first time)"
src_dir="$(go mod download -json "github.com/FerretDB/FerretDB@$FERRETDB_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
if [ -z "$src_dir" ] || [ ! -d "$src_dir" ]; then
  echo "install-services: could not download github.com/FerretDB/FerretDB@$FERRETDB_VERSION from the Go module proxy" >&2
  exit 1
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp -r "$src_dir" "$work/ferretdb"
chmod -R u+w "$work/ferretdb"
echo "$FERRETDB_VERSION" > "$work/ferretdb/build/version/version.txt"
mkdir -p "$GOBIN_DIR"
(cd "$work/ferretdb" && go build -o "$FERRETDB" ./cmd/ferretdb)
"$FERRETDB" --version | head -1 | sed 's/^/[install] ferretdb /'
