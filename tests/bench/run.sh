#!/bin/sh
# make bench: print throughput and CPU figures (no assertions).
B=${1:-build}
[ $# -gt 0 ] && shift
POCHTA_BUILD=$B
export POCHTA_BUILD
exec python3 "$(dirname "$0")/smtp_load.py" "$@"
