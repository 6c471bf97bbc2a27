#!/bin/sh
# tests/fuzz/run.sh - build and run the libFuzzer targets tests/fuzz/fuzz_*.c
#
#   sh tests/fuzz/run.sh smoke [TARGET...]  build, then a short bounded run of
#                                           each target on a copy of its seeds
#   sh tests/fuzz/run.sh build [TARGET...]  build only
#   sh tests/fuzz/run.sh run TARGET [ARG...] build, then fuzz until stopped,
#                                           with extra libFuzzer arguments
#
# TARGET is a name like fuzz_frame (or its path); default: every target.
#
# A target tests/fuzz/fuzz_NAME.c is built with clang
# (-fsanitize=fuzzer,address,undefined) together with every lib/*.c, so a
# new target needs no change here.  If it needs more sources (broker/...),
# it names them on lines of its own, in either comment style:
#	/* FUZZ_SOURCES: broker/persist.c broker/model.c */
#	// FUZZ_SOURCES: broker/model.c
# The pkg-config flags of libxml-2.0, libvirt and jansson are always passed.
#
# Seeds: tests/fuzz/corpus/fuzz_NAME/ (missing = empty corpus).  Options:
# tests/fuzz/fuzz_NAME.options, oss-fuzz style ("[libfuzzer]" then lines
# like "max_len = 65536"), passed as -max_len=65536.
#
# Everything produced goes to build-fuzz/: the binaries, NAME.build.log,
# NAME.log, corpus-run/NAME/ (seeds plus what the run added; the seed
# directory is never written) and artifacts/ (crashing inputs: fix the bug,
# then add the input to the seeds as a regression).
#
# Environment: CLANG (clang), FUZZ_TIME (seconds per target, 20),
# FUZZ_RUNS (runs per target, 200000; the run stops at whichever comes
# first).  Exit status 0 only if every target built and ran without a
# crash, leak or sanitizer report; the last line is
# "fuzz: N passed, M failed".
set -u

cd "$(dirname "$0")/../.." || exit 1

CLANG=${CLANG:-clang}
FUZZ_TIME=${FUZZ_TIME:-20}
FUZZ_RUNS=${FUZZ_RUNS:-200000}
OUT=build-fuzz
PKGS="libxml-2.0 libvirt jansson"

PKG_CFLAGS=$(pkg-config --cflags $PKGS 2>/dev/null)
PKG_LIBS=$(pkg-config --libs $PKGS 2>/dev/null)
CFLAGS="-std=c11 -D_GNU_SOURCE -g -O1 -fno-omit-frame-pointer
    -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
    -Wall -Wextra -Wvla -Wshadow -Wstrict-prototypes -Wmissing-prototypes
    -Ilib -Ibroker -Itests/fuzz $PKG_CFLAGS"
LIBS="$PKG_LIBS -lpthread -lm"

usage() {
	echo "usage: sh tests/fuzz/run.sh smoke|build [TARGET...]" >&2
	echo "       sh tests/fuzz/run.sh run TARGET [libFuzzer args...]" >&2
	exit 2
}

# target name from a name or a path: tests/fuzz/fuzz_x.c -> fuzz_x
target_name() {
	t=${1##*/}
	echo "${t%.c}"
}

# extra sources named by FUZZ_SOURCES lines, minus what lib/*.c has already
extra_sources() {
	for f in $(sed -n 's/.*FUZZ_SOURCES:\(.*\)$/\1/p' "$1" |
	    sed 's#\*/##g'); do
		case " $(echo lib/*.c) " in
		*" $f "*) ;;
		*) echo "$f" ;;
		esac
	done
}

# libFuzzer flags from the [libfuzzer] section of an .options file
options() {
	[ -f "$1" ] || return 0
	sed -n '/^\[libfuzzer\]/,/^\[/{
	    s/^[[:space:]]*\([a-z_]*\)[[:space:]]*=[[:space:]]*\(.*[^[:space:]]\)[[:space:]]*$/-\1=\2/p
	}' "$1"
}

build() {
	name=$1
	src=tests/fuzz/$name.c
	if [ ! -f "$src" ]; then
		echo "$name: no $src" >&2
		return 1
	fi
	# shellcheck disable=SC2046,SC2086
	if ! $CLANG $CFLAGS -o "$OUT/$name" "$src" lib/*.c \
	    $(extra_sources "$src") $LIBS >"$OUT/$name.build.log" 2>&1; then
		echo "$name: BUILD FAILED ($OUT/$name.build.log):"
		tail -n 30 "$OUT/$name.build.log"
		return 1
	fi
	if [ -s "$OUT/$name.build.log" ]; then
		echo "$name: built with warnings ($OUT/$name.build.log)"
	fi
	return 0
}

# a fresh work corpus: a copy of the seeds, so runs never touch them
work_corpus() {
	name=$1
	rm -rf "$OUT/corpus-run/$name"
	mkdir -p "$OUT/corpus-run/$name" "$OUT/artifacts"
	if [ -d "tests/fuzz/corpus/$name" ]; then
		cp -R "tests/fuzz/corpus/$name/." "$OUT/corpus-run/$name/"
	fi
}

smoke() {
	name=$1
	work_corpus "$name"
	# shellcheck disable=SC2046
	"./$OUT/$name" $(options "tests/fuzz/$name.options") \
	    -max_total_time="$FUZZ_TIME" -runs="$FUZZ_RUNS" \
	    -artifact_prefix="$OUT/artifacts/$name-" -print_final_stats=1 \
	    "$OUT/corpus-run/$name" >"$OUT/$name.log" 2>&1
	rc=$?
	if [ $rc -ne 0 ]; then
		echo "$name: FAILED (exit $rc, $OUT/$name.log):"
		tail -n 40 "$OUT/$name.log"
		return 1
	fi
	done_line=$(grep '^Done ' "$OUT/$name.log" | tail -n 1)
	cov=$(grep -o 'cov: [0-9]*' "$OUT/$name.log" | tail -n 1)
	echo "$name: ok (${done_line:-done}, $cov, corpus" \
	    "$(ls "$OUT/corpus-run/$name" | wc -l | tr -d ' ') files)"
	return 0
}

[ $# -ge 1 ] || usage
mode=$1
shift
case $mode in
smoke|build|run) ;;
*) usage ;;
esac

if ! command -v "$CLANG" >/dev/null 2>&1; then
	echo "fuzz: $CLANG not found (apt-get install clang libclang-rt-dev)"
	echo "fuzz: 0 passed, 1 failed"
	exit 1
fi
mkdir -p "$OUT"

if [ "$mode" = run ]; then
	[ $# -ge 1 ] || usage
	name=$(target_name "$1")
	shift
	build "$name" || exit 1
	mkdir -p "$OUT/corpus-run/$name" "$OUT/artifacts"
	if [ -d "tests/fuzz/corpus/$name" ]; then
		cp -R "tests/fuzz/corpus/$name/." "$OUT/corpus-run/$name/"
	fi
	# shellcheck disable=SC2046
	exec "./$OUT/$name" $(options "tests/fuzz/$name.options") \
	    -artifact_prefix="$OUT/artifacts/$name-" "$@" \
	    "$OUT/corpus-run/$name"
fi

if [ $# -eq 0 ]; then
	set -- tests/fuzz/fuzz_*.c
	[ -f "$1" ] || { echo "fuzz: no targets"; exit 1; }
fi
pass=0
fail=0
for t in "$@"; do
	name=$(target_name "$t")
	if ! build "$name"; then
		fail=$((fail + 1))
		continue
	fi
	if [ "$mode" = build ]; then
		echo "$name: built"
		pass=$((pass + 1))
		continue
	fi
	if smoke "$name"; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
	fi
done
echo "fuzz: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
