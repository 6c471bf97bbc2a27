#!/bin/sh
# make bench: request throughput of the broker on the core calls.
# Prints a table: call, requests, seconds, requests per second.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BROKER=$ROOT/broker/qubes-broker
Q=$ROOT/services/qubesd-query
N=${BENCH_N:-2000}
T=$(mktemp -d "${TMPDIR:-/tmp}/qubes-bench.XXXXXX")
sh "$ROOT/tests/conformance/mkbase.sh" "$ROOT/tests/conformance/core-listing" \
    "$T/base"
mkdir -p "$T/run"
"$BROKER" --base-dir "$T/base" --run-dir "$T/run" \
    --libvirt-uri test:///default 2> "$T/broker.log" &
PID=$!
trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null; rm -rf "$T"' EXIT
i=0
while [ ! -S "$T/run/qubesd.misc.sock" ] && [ $i -lt 50 ]; do
	sleep 0.1
	i=$((i + 1))
done
S=$T/run/qubesd.sock
now() { date +%s.%N; }
run() {
	label=$1
	shift
	t0=$(now)
	j=0
	while [ $j -lt "$N" ]; do
		"$Q" -e -c "$S" "$@" > /dev/null
		j=$((j + 1))
	done
	t1=$(now)
	awk -v l="$label" -v n="$N" -v a="$t0" -v b="$t1" \
	    'BEGIN { d = b - a; printf "| %-28s | %6d | %7.2f | %9.0f |\n", l, n, d, n / d }'
}
echo "| call (one connection each)   | reqs   | seconds | req/s     |"
echo "|------------------------------|--------|---------|-----------|"
run admin.vm.List dom0 admin.vm.List dom0
run admin.vm.property.Get dom0 admin.vm.property.Get work netvm
run admin.vm.property.GetAll dom0 admin.vm.property.GetAll work
run "admin.vm.feature.Set (save)" dom0 admin.vm.feature.Set work bench
# lifecycle on the test driver: Start + Kill of one qube (2 requests per
# cycle; each runs on a worker thread)
printf '' | "$Q" -c "$S" dom0 admin.vm.property.Set standalone netvm >/dev/null
C=$((N / 10))
t0=$(now)
j=0
while [ $j -lt "$C" ]; do
	"$Q" -e -c "$S" dom0 admin.vm.Start standalone > /dev/null
	"$Q" -e -c "$S" dom0 admin.vm.Kill standalone > /dev/null
	j=$((j + 1))
done
t1=$(now)
awk -v n="$C" -v a="$t0" -v b="$t1" 'BEGIN { d = b - a;
    printf "| %-28s | %6d | %7.2f | %9.0f |\n", "admin.vm.Start + Kill", 2 * n,
    d, 2 * n / d }'
echo "(client: qubesd-query, one process per request; the numbers include"
echo " process start-up, so they are a lower bound for the broker)"
echo
# volume import throughput (BENCH_IMPORT_GIB=0 skips it)
sh "$ROOT/bench/import.sh"
