#!/usr/bin/env bash
# chiiki-pos developer entry point: `./run.sh demo` or `./run.sh test [pytest args]`.
# Both set up the machine first (system libraries, virtual environment, translations).

set -euo pipefail
ROOT="$(cd "$(dirname "$0")" && pwd)"
cd "$ROOT"
# shellcheck source=packaging/bootstrap.sh
source packaging/bootstrap.sh

PG_URL_DEFAULT="postgresql+psycopg://postgres@127.0.0.1:5432/test"

start_postgres() {
    # Tests of the server run against PostgreSQL too. Start the local cluster when it is down.
    if command -v pg_isready >/dev/null && pg_isready -q -h 127.0.0.1 -p 5432; then
        return 0
    fi
    if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
        log "starting PostgreSQL"
        pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
        for _ in $(seq 1 30); do
            pg_isready -q -h 127.0.0.1 -p 5432 && return 0
            sleep 1
        done
    fi
    log "PostgreSQL is not reachable on 127.0.0.1:5432; its tests will be skipped"
}

command="${1:-}"
[ $# -gt 0 ] && shift
case "$command" in
    demo)
        bootstrap
        exec "$VENV/bin/chiiki-pos" demo "$@"
        ;;
    test)
        bootstrap
        start_postgres
        export CHIIKI_TEST_PG_URL="${CHIIKI_TEST_PG_URL:-$PG_URL_DEFAULT}"
        export QT_QPA_PLATFORM="${QT_QPA_PLATFORM:-offscreen}"
        exec "$VENV/bin/python" -m pytest -q -p no:cacheprovider "$@"
        ;;
    *)
        echo "usage: ./run.sh demo [--lang en] | ./run.sh test [pytest arguments]" >&2
        exit 2
        ;;
esac
