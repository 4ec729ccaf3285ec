#!/usr/bin/env bash
# CI: install Debian's PostgreSQL server binaries (initdb, pg_ctl, postgres) for the collection's
# database tests (tests/collection/test_database.py starts its own throwaway server from them; the package's
# own cluster is not used). Idempotent: does nothing when the binaries are already there.
set -euo pipefail

if ! compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
fi
compgen -G "/usr/lib/postgresql/*/bin/initdb"
