#!/usr/bin/env bats
# admin.Events (calls-core.md 9): a stream held open while other clients
# make changes; exact event records; per-qube streams; slow readers.

load helpers

setup() {
	setup_fixture_broker
}

teardown() {
	local p
	for p in "${SUBS[@]:-}"; do
		[[ -n $p ]] && kill "$p" 2>/dev/null
	done
	teardown_broker
}

SUBS=()

# subscribe NAME SRC DEST: start a stream into $T/ev.NAME
subscribe() {
	"$QQ" -e -c "$RUN/qubesd.sock" -- "$2" admin.Events "$3" \
	    >"$T/ev.$1" 2>/dev/null 3>&- &
	SUBS+=($!)
	wait_bytes "$T/ev.$1" 27	# connection-established
}

wait_bytes() {
	local i
	for ((i = 0; i < WAIT_TICKS; i++)); do
		[[ $(stat -c %s "$1") -ge $2 ]] && return 0
		sleep "$WAIT_TICK"
	done
	echo "$1: fewer than $2 bytes" >&2
	return 1
}

# expect_stream NAME ESCAPED: the stream so far equals the bytes
expect_stream() {
	unescape "$2" >"$T/want"
	wait_bytes "$T/ev.$1" "$(stat -c %s "$T/want")" || true
	if ! cmp -s "$T/ev.$1" "$T/want"; then
		echo "stream $1 differs" >&2
		echo "expected: $(escape_file "$T/want")" >&2
		echo "actual:   $(escape_file "$T/ev.$1")" >&2
		return 1
	fi
}

CE='1\0\0connection-established\0\0'

@test "events: connection-established first, then exact records" {
	subscribe all dom0 dom0
	expect_stream all "$CE"
	callp 'blue' dom0 admin.vm.property.Set work label
	expect_ok
	expect_stream all "$CE"'1\0work\0property-pre-set:label\0name\0label\0newvalue\0blue\0oldvalue\0blue\0\01\0work\0property-reset:icon\0name\0icon\0\01\0work\0property-set:label\0name\0label\0newvalue\0blue\0oldvalue\0blue\0\0'
}

@test "events: features, tags, global properties" {
	subscribe all dom0 dom0
	callp 'bar' dom0 admin.vm.feature.Set work foo
	callp 'baz' dom0 admin.vm.feature.Set work foo
	call -e dom0 admin.vm.feature.Remove work foo
	call -e dom0 admin.vm.tag.Set work t1
	call -e dom0 admin.vm.tag.Set work t1
	call -e dom0 admin.vm.tag.Remove work t1
	callp '5' dom0 admin.property.Set dom0 stats_interval
	expect_stream all "$CE"'1\0work\0domain-feature-pre-set:foo\0feature\0foo\0value\0bar\0\01\0work\0domain-feature-set:foo\0feature\0foo\0value\0bar\0\01\0work\0domain-feature-pre-set:foo\0feature\0foo\0value\0baz\0oldvalue\0bar\0\01\0work\0domain-feature-set:foo\0feature\0foo\0value\0baz\0oldvalue\0bar\0\01\0work\0domain-feature-pre-delete:foo\0feature\0foo\0\01\0work\0domain-feature-delete:foo\0feature\0foo\0\01\0work\0domain-tag-add:t1\0tag\0t1\0\01\0work\0domain-tag-delete:t1\0tag\0t1\0\01\0\0property-pre-set:stats_interval\0name\0stats_interval\0newvalue\05\0oldvalue\03\0\01\0\0property-set:stats_interval\0name\0stats_interval\0newvalue\05\0oldvalue\03\0\0'
}

@test "events: a qube's stream carries only its own events" {
	subscribe work dom0 work
	callp '1' dom0 admin.vm.feature.Set personal x
	callp '2' dom0 admin.vm.feature.Set work y
	expect_stream work "$CE"'1\0work\0domain-feature-pre-set:y\0feature\0y\0value\02\0\01\0work\0domain-feature-set:y\0feature\0y\0value\02\0\0'
}

@test "events: Create and Remove" {
	subscribe all dom0 dom0
	callp 'name=new-1 label=red' dom0 admin.vm.Create.AppVM dom0
	expect_ok
	call -e dom0 admin.vm.Remove new-1
	expect_ok
	expect_stream all "$CE"'1\0\0domain-add\0vm\0new-1\0\01\0new-1\0domain-tag-add:guivm-dom0\0tag\0guivm-dom0\0\01\0new-1\0domain-tag-add:audiovm-dom0\0tag\0audiovm-dom0\0\01\0new-1\0domain-tag-add:created-by-dom0\0tag\0created-by-dom0\0\01\0new-1\0domain-create-on-disk\0\01\0\0domain-pre-delete\0vm\0new-1\0\01\0\0domain-delete\0vm\0new-1\0\0'
}

@test "events: a refused or failed call sends nothing" {
	subscribe all dom0 dom0
	callp 'x' dom0 admin.vm.property.Set work memory
	expect_exc QubesValueError 'Failed to parse property value as int'
	call -e dom0 admin.vm.tag.Remove work nosuch
	callp '1' dom0 admin.vm.feature.Set work after
	expect_stream all "$CE"'1\0work\0domain-feature-pre-set:after\0feature\0after\0value\01\0\01\0work\0domain-feature-set:after\0feature\0after\0value\01\0\0'
}

@test "events: a non-dom0 caller without a policy sees no event" {
	subscribe mgmt personal dom0
	callp '1' dom0 admin.vm.feature.Set work x
	call -e dom0 admin.vm.List dom0
	sleep 0.2
	expect_stream mgmt "$CE"
}

@test "events: a subscriber that does not read is dropped; others go on" {
	local i pid
	subscribe slow dom0 dom0
	pid=${SUBS[-1]}
	kill -STOP "$pid"
	subscribe live dom0 dom0
	head -c 60000 /dev/zero | tr '\0' a >"$T/big"
	for ((i = 0; i < 40; i++)); do
		call dom0 admin.vm.feature.Set work "big$i" <"$T/big"
		expect_ok
	done
	grep -q 'too slow: disconnected' "$BROKER_LOG"
	kill -CONT "$pid"
	# the live one got every record (two per call)
	[[ $(grep -ao 'domain-feature-set:big' "$T/ev.live" | wc -l) -eq 40 ]]
	call -e dom0 admin.vm.List work
	expect_ok 'work class=AppVM state=Halted\n'
}

@test "events: a subscriber that disconnects is cleaned up at once" {
	subscribe gone dom0 dom0
	kill "${SUBS[-1]}"
	sleep 0.2
	callp '1' dom0 admin.vm.feature.Set work x
	expect_ok
	call -e dom0 admin.vm.List work
	expect_ok 'work class=AppVM state=Halted\n'
}

@test "events: argument must be empty; payload refused" {
	call -e dom0 admin.Events dom0 x
	expect_silent
	callp 'x' dom0 admin.Events dom0
	expect_silent
}
