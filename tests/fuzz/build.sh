#!/bin/sh
# Build every tests/fuzz/fuzz_*.c as a libFuzzer binary (ASan + UBSan) linked
# with the common/ sources, then run each one briefly.
# Usage: sh tests/fuzz/build.sh [SECONDS]   (default 20 per harness; 0: build only,
# as `make check` does before tests/run.py runs each harness briefly)
# Env: FUZZ_OUT (output directory, default build/fuzz).
# Seeds: tests/fuzz/seeds/fuzz_NAME/ when present. Exit 1 when any harness
# fails to build or finds a crash; 0 (with a message) when clang is missing.
set -u
cd "$(dirname "$0")/../.." || exit 1
SECS=${1:-20}
OUT=${FUZZ_OUT:-build/fuzz}
CC=clang
if ! command -v "$CC" >/dev/null 2>&1; then
	echo "fuzz: clang not found, skipping the fuzz harnesses"
	exit 0
fi
SAN="-fsanitize=address,undefined -fno-sanitize-recover=all"
CFLAGS="-std=c11 -g -O1 -Icommon -D_GNU_SOURCE"
mkdir -p "$OUT/obj" || exit 1

# the library; a file that does not compile is left out (and named), the link
# then tells whether a harness needed it
objs=""
for c in common/*.c; do
	o="$OUT/obj/$(basename "$c" .c).o"
	if $CC $CFLAGS $SAN -fsanitize=fuzzer-no-link -c -o "$o" "$c"; then
		objs="$objs $o"
	else
		echo "fuzz: warning: $c does not compile, left out"
	fi
done

fail=0
n=0
for src in tests/fuzz/fuzz_*.c; do
	[ -f "$src" ] || continue
	name=$(basename "$src" .c)
	n=$((n + 1))
	if ! $CC $CFLAGS $SAN -fsanitize=fuzzer -o "$OUT/$name" "$src" $objs -lcrypt -lresolv; then
		echo "fuzz: $name FAILED to build"
		fail=1
		continue
	fi
	[ "$SECS" = 0 ] && continue
	corpus="$OUT/corpus-$name"
	mkdir -p "$corpus"
	seeds=""
	[ -d "tests/fuzz/seeds/$name" ] && seeds="tests/fuzz/seeds/$name"
	echo "fuzz: running $name for ${SECS}s"
	if "$OUT/$name" -max_total_time="$SECS" -max_len=4096 -timeout=10 \
		-artifact_prefix="$OUT/$name-" "$corpus" $seeds >"$OUT/$name.log" 2>&1; then
		echo "fuzz: $name ok: $(grep -E '^#[0-9]+.*DONE' "$OUT/$name.log" | tail -n 1)"
	else
		echo "fuzz: $name FAILED, see $OUT/$name.log and $OUT/$name-*"
		tail -n 40 "$OUT/$name.log"
		fail=1
	fi
done
[ "$n" -gt 0 ] || echo "fuzz: no harnesses in tests/fuzz"
exit $fail
