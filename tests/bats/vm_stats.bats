#!/usr/bin/env bats
# admin.vm.Stats (calls-core.md 9): connection-established, then vm-stats
# records at once and every stats_interval seconds, from libvirt (here the
# test:///default driver, whose own domain "test" always runs).

load helpers

setup() {
	setup_fixture_broker
}

teardown() {
	local p
	for p in "${BG[@]:-}"; do
		[[ -n $p ]] && kill "$p" 2>/dev/null
	done
	teardown_broker
}

BG=()

# stats NAME DEST [ARG]: a Stats stream into $T/st.NAME
stats() {
	"$QQ" -e -c "$RUN/qubesd.sock" -- dom0 admin.vm.Stats "$2" ${3:+"$3"} \
	    >"$T/st.$1" 2>/dev/null 3>&- &
	BG+=($!)
}

# records NAME EVENT: how many records of that event the stream holds
records() {
	tr '\0' '\n' <"$T/st.$1" | grep -cxF -- "$2" || true
}

wait_records() {
	local i
	for ((i = 0; i < WAIT_TICKS * 2; i++)); do
		(($(records "$1" "$2") >= $3)) && return 0
		sleep "$WAIT_TICK"
	done
	echo "$1: fewer than $3 '$2' records:" >&2
	escape_file "$T/st.$1" >&2
	return 1
}

REC='1\\0([a-z0-9-]+)\\0vm-stats\\0memory_kb\\0[0-9]+\\0cpu_time\\0[0-9]+\\0cpu_usage\\0[0-9]+\\0cpu_usage_raw\\0[0-9]+\\0\\0'

@test "Stats: connection-established, then a record per running domain at once" {
	stats all dom0
	wait_records all vm-stats 1
	got=$(escape_file "$T/st.all")
	[[ $got =~ ^'1\0\0connection-established\0\0'($REC)+$ ]]
	# the test driver's own running domain; halted qubes have none
	[[ $got == *'1\0test\0vm-stats\0memory_kb\0'* ]]
	[[ $got != *'\0work\0vm-stats'* ]]
	# the first sample has no usage yet
	[[ $got == *'cpu_usage\00\0cpu_usage_raw\00\0\0'* ]]
}

@test "Stats: every stats_interval seconds; a started qube appears" {
	callp '1' dom0 admin.property.Set dom0 stats_interval
	expect_ok
	callp '' dom0 admin.vm.property.Set standalone netvm
	expect_ok
	call -e dom0 admin.vm.Start standalone
	expect_ok
	stats all dom0
	wait_records all vm-stats 4	# two samples of two domains
	got=$(escape_file "$T/st.all")
	[[ $got =~ ^'1\0\0connection-established\0\0'($REC)+$ ]]
	[[ $got == *'1\0standalone\0vm-stats\0'* ]]
}

@test "Stats: one qube's stream; a halted qube ends it with an exception" {
	callp '1' dom0 admin.property.Set dom0 stats_interval
	expect_ok
	callp '' dom0 admin.vm.property.Set standalone netvm
	expect_ok
	call -e dom0 admin.vm.Start standalone
	expect_ok
	stats one standalone
	wait_records one vm-stats 2
	got=$(escape_file "$T/st.one")
	[[ $got =~ ^'1\0\0connection-established\0\0'($REC)+$ ]]
	[[ $got != *'\0test\0vm-stats'* ]]
	# the qube stops: the next sample is the exception, then the end
	call -e dom0 admin.vm.Kill standalone
	expect_ok
	wait "${BG[-1]}" || true
	got=$(escape_file "$T/st.one")
	[[ $got == *"2\\0QubesVMNotRunningError\\0\\0Domain not running (either powered off or paused): 'standalone'\\0" ]]
	# a halted qube: the exception right after connection-established
	stats halted work
	wait "${BG[-1]}" || true
	[[ $(escape_file "$T/st.halted") == "1\\0\\0connection-established\\0\\02\\0QubesVMNotRunningError\\0\\0Domain not running (either powered off or paused): 'work'\\0" ]]
}

@test "Stats: argument or payload: silent close; Events streams get no vm-stats" {
	call -e dom0 admin.vm.Stats dom0 x
	expect_silent
	callp 'x' dom0 admin.vm.Stats dom0
	expect_silent
	"$QQ" -e -c "$RUN/qubesd.sock" -- dom0 admin.Events dom0 \
	    >"$T/ev" 2>/dev/null 3>&- &
	BG+=($!)
	stats all dom0
	wait_records all vm-stats 1
	callp 'v' dom0 admin.vm.feature.Set work f
	expect_ok
	sleep 0.3
	! grep -qaF vm-stats "$T/ev"
	grep -qaF domain-feature-set:f "$T/ev"
	# subscribers that leave are dropped; the broker goes on
	kill "${BG[@]}"
	BG=()
	call -e dom0 admin.vm.List dom0
	expect_ok "$FIXTURE_VM_LIST"
}
