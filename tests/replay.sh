#!/bin/sh
# replay.sh BROKER_BIN REPLAY_BIN [SCENARIO...] - conformance replay.
#
# For every scenario under tests/conformance/ (or only the named ones, by
# name or path): instantiate its fixture in a fresh temporary dir T
# (T/base), start BROKER_BIN --base-dir T/base --run-dir T/sock
# --libvirt-uri test:///default (output to T/broker.log), wait up to 10 s
# for its three sockets, replay calls.txt with REPLAY_BIN, then stop the
# broker with SIGTERM; it must exit with status 0 within 10 s.
#
# Scenarios listed in tests/conformance/PENDING ("name  reason" per line)
# are skipped, even when named, unless REPLAY_PENDING=1.  The last line is
# "replay: N passed, M failed, K skipped" (exchanges; scenarios skipped);
# exit status 0 only if M == 0 and every broker behaved.  T is removed
# when its scenario passed, kept (and named) otherwise.
set -u

prog=replay.sh
usage() {
	echo "usage: sh tests/replay.sh BROKER_BIN REPLAY_BIN [SCENARIO...]" >&2
	exit 2
}

[ $# -ge 2 ] || usage
broker=$1
replay=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd) || exit 2
conf=$here/conformance

for bin in "$broker" "$replay"; do
	if [ ! -f "$bin" ] || [ ! -x "$bin" ]; then
		echo "$prog: $bin: not found or not executable" >&2
		exit 2
	fi
done

total_pass=0
total_fail=0
skipped=0
bad=0		# a broker or the harness misbehaved
bpid=
T=

on_signal() {
	if [ -n "$bpid" ]; then
		kill -TERM "$bpid" 2>/dev/null
	fi
	echo "$prog: interrupted${T:+ (kept $T)}" >&2
	exit 130
}
trap on_signal INT TERM HUP

# pending_reason NAME: set $reason and succeed when NAME is in PENDING.
pending_reason() {
	[ -f "$conf/PENDING" ] || return 1
	while read -r pname preason; do
		case $pname in
		''|'#'*) continue ;;
		esac
		if [ "$pname" = "$1" ]; then
			reason=${preason:-pending}
			return 0
		fi
	done <"$conf/PENDING"
	return 1
}

# problem NAME MESSAGE...: a broker or harness failure.
problem() {
	pname=$1
	shift
	echo "FAIL $pname: $*"
	bad=1
	scen_bad=1
}

show_log() {
	echo "  broker log ($T/broker.log, last 20 lines):"
	tail -n 20 "$T/broker.log" | sed 's/^/  | /'
}

# wait_ready: until the three sockets exist (10 s), or the broker is gone.
wait_ready() {
	i=0
	while :; do
		missing=
		for s in qubesd.sock qubesd.internal.sock qubesd.misc.sock; do
			[ -S "$T/sock/$s" ] || missing="${missing:+$missing }$s"
		done
		[ -z "$missing" ] && return 0
		if ! kill -0 "$bpid" 2>/dev/null; then
			wait "$bpid"
			st=$?
			bpid=
			problem "$name" "broker exited (status $st) before" \
			    "its sockets were ready"
			return 1
		fi
		if [ $i -ge 100 ]; then
			problem "$name" "broker not ready after 10 s," \
			    "missing: $missing"
			return 1
		fi
		sleep 0.1
		i=$((i + 1))
	done
}

# stop_broker: SIGTERM, then it must exit 0 within 10 s.
stop_broker() {
	[ -n "$bpid" ] || return 0
	if ! kill -0 "$bpid" 2>/dev/null; then
		wait "$bpid"
		st=$?
		bpid=
		problem "$name" "broker exited by itself (status $st) before" \
		    "SIGTERM"
		return
	fi
	kill -TERM "$bpid" 2>/dev/null
	i=0
	while kill -0 "$bpid" 2>/dev/null && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	if kill -0 "$bpid" 2>/dev/null; then
		kill -KILL "$bpid" 2>/dev/null
		{ wait "$bpid"; } 2>/dev/null	# no "Killed" from the shell
		bpid=
		problem "$name" "broker did not exit within 10 s of SIGTERM" \
		    "(SIGKILLed)"
		return
	fi
	wait "$bpid"
	st=$?
	bpid=
	if [ $st -gt 128 ]; then
		problem "$name" "broker killed by signal $((st - 128)) after" \
		    "SIGTERM"
	elif [ $st -ne 0 ]; then
		problem "$name" "broker exited with status $st after SIGTERM"
	fi
}

run_scenario() {
	dir=$1
	name=$(basename "$dir")
	scen_bad=0
	nex=$(grep -c '^>' "$dir/calls.txt")
	T=$(mktemp -d "${TMPDIR:-/tmp}/replay.XXXXXX") || exit 2
	if ! sh "$conf/mkbase.sh" "$dir" "$T/base" || ! mkdir "$T/sock"; then
		problem "$name" "cannot instantiate the fixture"
		total_fail=$((total_fail + nex))
		echo "  (kept $T)"
		return
	fi
	"$broker" --base-dir "$T/base" --run-dir "$T/sock" \
	    --libvirt-uri test:///default </dev/null >"$T/broker.log" 2>&1 &
	bpid=$!
	if ! wait_ready; then
		stop_broker
		total_fail=$((total_fail + nex))
		show_log
		echo "  (kept $T)"
		return
	fi

	{
		"$replay" --socket-dir "$T/sock" --base "$T/base" "$dir"
		echo $? >"$T/replay.rc"
	} | tee "$T/replay.out"
	rc=$(cat "$T/replay.rc")
	stop_broker

	last=$(tail -n 1 "$T/replay.out")
	p=$(printf '%s\n' "$last" |
	    sed -n 's/^.*: \([0-9][0-9]*\) passed, [0-9][0-9]* failed$/\1/p')
	f=$(printf '%s\n' "$last" |
	    sed -n 's/^.*: [0-9][0-9]* passed, \([0-9][0-9]*\) failed$/\1/p')
	case $rc in
	0|1)	;;
	*)	p= ;;
	esac
	if [ -z "$p" ] || [ -z "$f" ]; then
		problem "$name" "replayer failed (exit status $rc)"
		p=0
		f=$nex
	fi
	total_pass=$((total_pass + p))
	total_fail=$((total_fail + f))
	if [ "$f" -ne 0 ] || [ $scen_bad -ne 0 ]; then
		show_log
		echo "  (kept $T)"
	else
		rm -rf "$T"
	fi
	T=
}

if [ $# -eq 0 ]; then
	for d in "$conf"/*/; do
		[ -f "$d/calls.txt" ] && set -- "$@" "${d%/}"
	done
	[ $# -gt 0 ] || { echo "$prog: no scenarios in $conf" >&2; exit 2; }
fi

for arg in "$@"; do
	if [ -f "$arg/calls.txt" ]; then
		dir=$arg
	elif [ -f "$conf/$arg/calls.txt" ]; then
		dir=$conf/$arg
	else
		echo "$prog: $arg: no such scenario" >&2
		bad=1
		continue
	fi
	name=$(basename "$dir")
	if [ "${REPLAY_PENDING:-0}" != 1 ] && pending_reason "$name"; then
		echo "SKIP $name: $reason"
		skipped=$((skipped + 1))
		continue
	fi
	run_scenario "$dir"
done

echo "replay: $total_pass passed, $total_fail failed, $skipped skipped"
[ $total_fail -eq 0 ] && [ $bad -eq 0 ]
