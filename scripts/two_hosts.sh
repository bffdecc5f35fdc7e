#!/usr/bin/env bash
# Two "hosts" without containers: two `tracker serve` processes on different ports (each with its
# own local staging folder, as on separate machines) sharing one PostgreSQL 15 and one S3 server
# (moto's, standing in for MinIO). It uploads through A and downloads through B, then kills A in
# the middle of 20 uploads and checks that nothing was lost or left half-written.
#   ./scripts/two_hosts.sh
set -euo pipefail
source "$(dirname "$0")/_common.sh"
cd "$ROOT"
ensure_venv test

work="$(mktemp -d /tmp/tracker-two-hosts.XXXXXX)"
chmod 755 "$work"  # the PostgreSQL server runs as `postgres` when we are root
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    "$ROOT/scripts/pg-test-server" stop "$work/pg" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

free_port() { "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

echo "==> PostgreSQL 15 and the S3 server"
admin_url="$("$ROOT/scripts/pg-test-server" start "$work/pg")"
"$PY" -c "import sys, sqlalchemy; e = sqlalchemy.create_engine(sys.argv[1], isolation_level='AUTOCOMMIT');
c = e.connect(); c.exec_driver_sql('CREATE DATABASE two_hosts'); c.close()" "$admin_url"
s3_port="$(free_port)"
"$PY" -m moto.server -H 127.0.0.1 -p "$s3_port" >"$work/moto.log" 2>&1 &
pids+=($!)

export TRACKER_DATABASE_URL="${admin_url%/*}/two_hosts"
export TRACKER_STORAGE_URL="s3://two-hosts/files"
export TRACKER_S3_ENDPOINT_URL="http://127.0.0.1:$s3_port"
export AWS_ACCESS_KEY_ID=two-hosts AWS_SECRET_ACCESS_KEY=two-hosts-secret AWS_DEFAULT_REGION=us-east-1
"$PY" scripts/two_hosts.py wait-s3 "$TRACKER_S3_ENDPOINT_URL"
"$PY" scripts/two_hosts.py setup "$work/state.json"

port_a="$(free_port)"
port_b="$(free_port)"
echo "==> host A on port $port_a (1 worker), host B on port $port_b (2 workers)"
TRACKER_STAGING_DIR="$work/host-a" "$VENV/bin/tracker" serve --port "$port_a" >"$work/a.log" 2>&1 &
pid_a=$!
pids+=("$pid_a")
TRACKER_STAGING_DIR="$work/host-b" "$VENV/bin/tracker" serve --port "$port_b" --workers 2 >"$work/b.log" 2>&1 &
pids+=($!)
url_a="http://127.0.0.1:$port_a"
url_b="http://127.0.0.1:$port_b"
"$PY" scripts/two_hosts.py wait "$url_a" "$url_b"

echo "==> upload through A, download through B"
"$PY" scripts/two_hosts.py roundtrip "$work/state.json" "$url_a" "$url_b"

echo "==> 20 uploads through A, A killed in the middle"
TRACKER_STAGING_DIR="$work/host-a" "$PY" scripts/two_hosts.py crash "$work/state.json" "$url_a" "$url_b" "$pid_a"
