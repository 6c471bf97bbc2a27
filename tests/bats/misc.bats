#!/usr/bin/env bats
# The misc socket (protocol.md 10): qubes.FeaturesRequest,
# qubes.NotifyTools, qubes.NotifyUpdates, and what the 4.2 extensions do
# with a features request (properties.md 7, calls-core.md 9).
#
# A qube's QubesDB is played by tests/tools/qdb-server (the real
# qubesdb-daemon cannot run here) on $RUN/qubes/qubesdb.<qube>.sock, the
# socket the broker reads.  Requests go to $RUN/qubesd.misc.sock as the
# qrexec service scripts send them (qubesd-query -c <misc socket>).

load helpers

SUBS=()

setup() {
	setup_fixture_broker
	mkdir -p "$RUN/qubes"
}

teardown() {
	local p rc=0
	for p in "${SUBS[@]:-}"; do
		[[ -n $p ]] && kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
	done
	stop_qdbs
	qdb_reports || rc=1
	teardown_broker || rc=1
	return $rc
}

# misc [-e] SRC METHOD DEST [ARG] / miscp PAYLOAD SRC METHOD DEST [ARG]
misc() {
	CALL_SOCK=$RUN/qubesd.misc.sock call "$@"
}
miscp() {
	CALL_SOCK=$RUN/qubesd.misc.sock callp "$@"
}

# feature QUBE NAME: the feature's value into $REPLY_FILE
feature() {
	call -e dom0 admin.vm.feature.Get "$1" "$2"
}

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

# fset QUBE FEATURE: records of one feature set without an old value
fset() {
	printf '1\\0%s\\0domain-feature-pre-set:%s\\0feature\\0%s\\0value\\0%s\\0\\0' \
	    "$1" "$2" "$2" "$3"
	printf '1\\0%s\\0domain-feature-set:%s\\0feature\\0%s\\0value\\0%s\\0\\0' \
	    "$1" "$2" "$2" "$3"
}

TS='[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}'

# ---------------------------------------------------------------------------
# qubes.FeaturesRequest

@test "FeaturesRequest: core features of a StandaloneVM, saved" {
	qdb standalone /features-request/qrexec=1 /features-request/gui=1 \
	    /features-request/gui-emulated=0 /features-request/vmexec=1 \
	    /features-request/qubes-firewall=0 \
	    /features-request/os-distribution=debian \
	    /features-request/os-distribution-like=ubuntu \
	    /features-request/os-version=12 \
	    /features-request/os-eol=2026-06-10 \
	    /features-request/qubes-agent-version=4.2 \
	    /features-request/default-user=user \
	    /qubes-tools/os=Windows
	misc -e standalone qubes.FeaturesRequest dom0
	expect_ok
	[[ $(<"$T/qdb.standalone.log") == "MULTIREAD /features-request/" ]]
	call -e dom0 admin.vm.feature.List standalone
	expect_ok 'os-distribution\nos-distribution-like\nos-version\nos-eol\nqubes-agent-version\nqrexec\ngui\ngui-emulated\nqubes-firewall\nvmexec\n'
	feature standalone qrexec; expect_ok 1
	feature standalone gui-emulated; expect_ok ''
	feature standalone qubes-firewall; expect_ok ''
	feature standalone vmexec; expect_ok 1
	feature standalone os-eol; expect_ok 2026-06-10
	domain_xml standalone >"$T/dom"
	grep -qF '<feature name="qrexec">1</feature>' "$T/dom"
	grep -qF '<feature name="os-distribution">debian</feature>' "$T/dom"
	grep -qF '<feature name="qubes-agent-version">4.2</feature>' "$T/dom"
	# survives a restart
	stop_broker
	start_broker
	call -e dom0 admin.vm.feature.Get standalone os-version
	expect_ok 12
}

@test "FeaturesRequest: event order, the dict text, template-postinstall once" {
	qdb standalone /features-request/qrexec=1 \
	    /features-request/supported-rpc.my.Rpc=1 \
	    /features-request/os-version=x1 /features-request/gui=yes
	subscribe sa dom0 standalone
	misc -e standalone qubes.FeaturesRequest dom0
	expect_ok
	expect_stream sa "$CE$(fset standalone supported-rpc.my.Rpc 1)1\\0standalone\\0features-request\\0untrusted_features\\0{'gui': 'yes', 'os-version': 'x1', 'qrexec': '1', 'supported-rpc.my.Rpc': '1'}\\0\\0$(fset standalone qrexec 1)1\\0standalone\\0template-postinstall\\0\\0"
	# invalid os-version and a gui value other than 0/1: ignored
	call -e dom0 admin.vm.feature.List standalone
	expect_ok 'supported-rpc.my.Rpc\nqrexec\n'
	# qrexec already advertised: no second template-postinstall
	misc -e standalone qubes.FeaturesRequest dom0
	expect_ok
	expect_stream sa "$CE$(fset standalone supported-rpc.my.Rpc 1)1\\0standalone\\0features-request\\0untrusted_features\\0{'gui': 'yes', 'os-version': 'x1', 'qrexec': '1', 'supported-rpc.my.Rpc': '1'}\\0\\0$(fset standalone qrexec 1)1\\0standalone\\0template-postinstall\\0\\01\\0standalone\\0features-request\\0untrusted_features\\0{'gui': 'yes', 'os-version': 'x1', 'qrexec': '1', 'supported-rpc.my.Rpc': '1'}\\0\\0"
}

@test "FeaturesRequest: an empty request fires {} and saves" {
	local ino
	qdb standalone /other/x=1
	subscribe sa dom0 standalone
	ino=$(stat -c %i "$BASE/qubes.xml")
	misc -e standalone qubes.FeaturesRequest dom0
	expect_ok
	expect_stream sa "$CE"'1\0standalone\0features-request\0untrusted_features\0{}\0\0'
	# app.save(): a new file was renamed into place
	[[ $(stat -c %i "$BASE/qubes.xml") != "$ino" ]]
	call -e dom0 admin.vm.feature.List standalone
	expect_ok ''
}

@test "FeaturesRequest: qrexec/gui/gui-emulated kept once set, firewall and vmexec free" {
	qdb fedora-39 /features-request/qrexec=0 /features-request/gui=0 \
	    /features-request/gui-emulated=1 /features-request/vmexec=0 \
	    /features-request/qubes-firewall=1
	subscribe f dom0 fedora-39
	misc -e fedora-39 qubes.FeaturesRequest dom0
	expect_ok
	feature fedora-39 qrexec; expect_ok 1
	feature fedora-39 gui; expect_ok 1
	feature fedora-39 gui-emulated; expect_ok 1
	feature fedora-39 vmexec; expect_ok ''
	feature fedora-39 qubes-firewall; expect_ok 1
	# no template-postinstall: qrexec was there before
	expect_stream f "$CE"'1\0fedora-39\0features-request\0untrusted_features\0'"{'gui': '0', 'gui-emulated': '1', 'qrexec': '0', 'qubes-firewall': '1', 'vmexec': '0'}"'\0\0'"$(fset fedora-39 gui-emulated 1)$(fset fedora-39 qubes-firewall 1)$(fset fedora-39 vmexec '')"
}

@test "FeaturesRequest: os-version, os-eol, qubes-agent-version checks" {
	qdb standalone /features-request/os-version=1.2-3 \
	    /features-request/os-eol=2024-02-29 \
	    /features-request/qubes-agent-version=4.2.1
	misc -e standalone qubes.FeaturesRequest dom0
	expect_ok
	feature standalone os-version; expect_ok 1.2-3
	feature standalone os-eol; expect_ok 2024-02-29
	feature standalone qubes-agent-version
	expect_exc QubesFeatureNotFoundError 'Feature not set for domain standalone: qubes-agent-version'
	stop_qdbs
	qdb standalone /features-request/os-version=-1 \
	    /features-request/os-eol=2023-02-29 \
	    /features-request/qubes-agent-version=42
	misc -e standalone qubes.FeaturesRequest dom0
	expect_ok
	feature standalone os-version; expect_ok 1.2-3
	feature standalone os-eol; expect_ok 2024-02-29
	stop_qdbs
	qdb standalone /features-request/os-eol=0000-01-01 \
	    /features-request/os-version=7 \
	    /features-request/qubes-agent-version=123.456
	misc -e standalone qubes.FeaturesRequest dom0
	expect_ok
	feature standalone os-eol; expect_ok 2024-02-29
	feature standalone os-version; expect_ok 7
	feature standalone qubes-agent-version; expect_ok 123.456
}

@test "FeaturesRequest: a template-based qube only gets supported-rpc.*" {
	qdb work /features-request/qrexec=1 /features-request/os=Windows \
	    /features-request/supported-service.foo=1 \
	    /features-request/supported-feature.bar=1 \
	    /features-request/supported-rpc.baz=1 \
	    /features-request/os-distribution=fedora
	misc -e work qubes.FeaturesRequest dom0
	expect_ok
	call -e dom0 admin.vm.feature.List work
	expect_ok 'supported-rpc.baz\n'
}

@test "FeaturesRequest: supported-service.* added, stale removed, apparmor" {
	callp 1 dom0 admin.vm.feature.Set standalone supported-service.old
	expect_ok
	callp 1 dom0 admin.vm.feature.Set standalone supported-service.apparmor
	expect_ok
	callp 1 dom0 admin.vm.feature.Set standalone apparmor
	expect_ok
	call -e dom0 admin.vm.feature.Set standalone supported-service.falsy
	expect_ok
	callp 1 dom0 admin.vm.feature.Set standalone supported-feature.keep
	expect_ok
	qdb standalone /features-request/supported-service.new=1 \
	    /features-request/supported-service.falsy=1 \
	    /features-request/supported-service.zero=0
	misc -e standalone qubes.FeaturesRequest dom0
	expect_ok
	call -e dom0 admin.vm.feature.List standalone
	expect_ok 'supported-service.falsy\nsupported-feature.keep\nsupported-service.new\n'
	feature standalone supported-service.falsy; expect_ok 1
	# advertising apparmor turns the feature on, unless set otherwise
	stop_qdbs
	qdb standalone /features-request/supported-service.apparmor=1
	misc -e standalone qubes.FeaturesRequest dom0
	expect_ok
	call -e dom0 admin.vm.feature.List standalone
	expect_ok 'supported-feature.keep\nsupported-service.apparmor\napparmor\n'
	callp 0 dom0 admin.vm.feature.Set standalone apparmor
	expect_ok
	stop_qdbs
	qdb standalone /features-request/supported-service.x=1
	misc -e standalone qubes.FeaturesRequest dom0
	expect_ok
	# apparmor is not '1' any more: kept when the service goes
	call -e dom0 admin.vm.feature.List standalone
	expect_ok 'supported-feature.keep\napparmor\nsupported-service.x\n'
}

@test "FeaturesRequest: refusals close silently and change nothing" {
	qdb standalone /features-request/qrexec=1
	cp "$BASE/qubes.xml" "$T/before.xml"
	misc -e standalone qubes.FeaturesRequest work
	expect_silent
	misc -e standalone qubes.FeaturesRequest dom0 x
	expect_silent
	miscp 'x' standalone qubes.FeaturesRequest dom0
	expect_silent
	# no QubesDB socket for personal
	misc -e personal qubes.FeaturesRequest dom0
	expect_silent
	# the checks come before QubesDB is asked
	[[ ! -s $T/qdb.standalone.log ]]
	misc -e nosuch qubes.FeaturesRequest dom0
	expect_exc QubesVMNotFoundError "No such domain: 'nosuch'"
	cmp "$BASE/qubes.xml" "$T/before.xml"
	call -e dom0 admin.vm.feature.List standalone
	expect_ok ''
	grep -q 'qubes.FeaturesRequest from personal: QubesDB: no QubesDB socket' "$BROKER_LOG"
}

@test "FeaturesRequest: values outside [A-Za-z0-9-.,_= ] close silently" {
	local v
	cp "$BASE/qubes.xml" "$T/before.xml"
	for v in 'a;b' "it's" 'a/b' 'x\ty' '\xc3\xa9' 'a+b' 'a\nb'; do
		qdb standalone /features-request/qrexec=1 "/features-request/os=$v"
		misc -e standalone qubes.FeaturesRequest dom0
		expect_silent
		stop_qdbs
	done
	cmp "$BASE/qubes.xml" "$T/before.xml"
	# the whole allowed set passes
	qdb standalone '/features-request/x=Az09-.,_= '
	misc -e standalone qubes.FeaturesRequest dom0
	expect_ok
}

@test "FeaturesRequest: a misbehaving QubesDB closes the call, the broker goes on" {
	local m
	for m in close garbage outside nul flood; do
		qdb standalone -m "$m" /features-request/qrexec=1
		misc -e standalone qubes.FeaturesRequest dom0
		expect_silent
		stop_qdbs
	done
	call -e dom0 admin.vm.feature.List standalone
	expect_ok ''
	grep -q 'QubesDB: entry outside the prefix' "$BROKER_LOG"
	grep -q 'QubesDB: too many entries' "$BROKER_LOG"
	grep -q 'QubesDB: NUL byte in a value' "$BROKER_LOG"
	grep -q 'QubesDB: not a response type' "$BROKER_LOG"
}

@test "FeaturesRequest: a QubesDB that never answers times out; others are served meanwhile" {
	local start end pid
	qdb standalone -m hang /features-request/qrexec=1
	start=$(date +%s%N)
	"$QQ" -e -c "$RUN/qubesd.misc.sock" -- standalone \
	    qubes.FeaturesRequest dom0 >"$T/hung" 2>/dev/null 3>&- &
	pid=$!
	sleep 0.3
	call -e dom0 admin.vm.feature.Get fedora-39 os
	expect_ok Linux
	end=$(date +%s%N)
	(( (end - start) / 1000000 < 2500 ))
	wait "$pid" || true
	end=$(date +%s%N)
	[[ ! -s $T/hung ]]
	(( (end - start) / 1000000 >= 2900 ))
	(( (end - start) / 1000000 < 8000 ))
	grep -q 'QubesDB: no answer in time' "$BROKER_LOG"
}

# ---------------------------------------------------------------------------
# qubes.NotifyTools

@test "NotifyTools: Windows tools set os, qrexec, gui and the Windows defaults" {
	qdb standalone /qubes-tools/qrexec=1 /qubes-tools/gui=1 \
	    /qubes-tools/gui-emulated= /qubes-tools/default-user=user \
	    /qubes-tools/os=Windows /features-request/qrexec=0
	callp localtime dom0 admin.vm.feature.Set standalone timezone
	expect_ok
	subscribe sa dom0 standalone
	misc -e standalone qubes.NotifyTools dom0
	expect_ok
	printf 'READ %s\n' /qubes-tools/qrexec /qubes-tools/gui \
	    /qubes-tools/gui-emulated /qubes-tools/default-user \
	    /qubes-tools/os >"$T/want.log"
	cmp "$T/qdb.standalone.log" "$T/want.log"
	call -e dom0 admin.vm.feature.List standalone
	expect_ok 'timezone\nos\nrpc-clipboard\nstubdom-qrexec\naudio-model\nno-monitor-layout\nqrexec\ngui\n'
	feature standalone audio-model; expect_ok ich6
	feature standalone timezone; expect_ok localtime
	call -e dom0 admin.vm.property.Get standalone maxmem
	expect_ok 'default=False type=int 0'
	call -e dom0 admin.vm.property.Get standalone qrexec_timeout
	expect_ok 'default=False type=int 6000'
	escape_file "$T/ev.sa" 100000 >"$T/ev.txt"
	grep -qF "1\\0standalone\\0features-request\\0untrusted_features\\0{'qrexec': '1', 'gui': '1', 'default-user': 'user', 'os': 'Windows'}\\0\\0" "$T/ev.txt"
	grep -qF 'property-set:maxmem\0name\0maxmem\0newvalue\00\0' "$T/ev.txt"
	grep -qF '1\0standalone\0template-postinstall\0\0' "$T/ev.txt"
	domain_xml standalone >"$T/dom"
	grep -qF '<property name="maxmem">0</property>' "$T/dom"
	grep -qF '<feature name="rpc-clipboard">1</feature>' "$T/dom"
}

@test "NotifyTools: Linux, no tools, template-based qube" {
	qdb standalone /qubes-tools/os=Linux /qubes-tools/qrexec=1
	misc -e standalone qubes.NotifyTools dom0
	expect_ok
	call -e dom0 admin.vm.feature.List standalone
	expect_ok 'os\nqrexec\n'
	call -e dom0 admin.vm.property.Get standalone maxmem
	expect_reply_re '^0\\0default=True '
	qdb work /qubes-tools/os=Windows /qubes-tools/qrexec=1
	misc -e work qubes.NotifyTools dom0
	expect_ok
	call -e dom0 admin.vm.feature.List work
	expect_ok ''
	qdb sys-net
	misc -e sys-net qubes.NotifyTools dom0
	expect_ok
}

@test "NotifyTools: refusals" {
	local v
	cp "$BASE/qubes.xml" "$T/before.xml"
	for v in 'Win-dows' 'Win dows' '\xc3\xa9'; do
		qdb standalone /qubes-tools/qrexec=1 "/qubes-tools/os=$v"
		misc -e standalone qubes.NotifyTools dom0
		expect_silent
		stop_qdbs
	done
	qdb standalone -m garbage /qubes-tools/qrexec=1
	misc -e standalone qubes.NotifyTools dom0
	expect_silent
	misc -e standalone qubes.NotifyTools sys-net
	expect_silent
	misc -e standalone qubes.NotifyTools dom0 arg
	expect_silent
	miscp x standalone qubes.NotifyTools dom0
	expect_silent
	misc -e personal qubes.NotifyTools dom0
	expect_silent
	cmp "$BASE/qubes.xml" "$T/before.xml"
}

# ---------------------------------------------------------------------------
# qubes.NotifyUpdates

@test "NotifyUpdates: an updateable qube records on itself" {
	subscribe sa dom0 standalone
	miscp '3\n' standalone qubes.NotifyUpdates dom0
	expect_ok
	feature standalone updates-available; expect_ok 1
	feature standalone last-updates-check
	expect_reply_re "^0\\\\0$TS\$"
	save_reply "$T/check1"
	feature standalone last-update
	expect_exc QubesFeatureNotFoundError 'Feature not set for domain standalone: last-update'
	escape_file "$T/ev.sa" >"$T/ev.txt"
	grep -qF '1\0standalone\0domain-feature-set:updates-available\0feature\0updates-available\0value\01\0\0' "$T/ev.txt"
	domain_xml standalone >"$T/dom"
	grep -qF '<feature name="updates-available">1</feature>' "$T/dom"
	# true -> false: last-update = the same timestamp as the check
	sleep 1.1
	miscp ' 0 \t' standalone qubes.NotifyUpdates dom0
	expect_ok
	feature standalone updates-available; expect_ok ''
	feature standalone last-update
	save_reply "$T/upd"
	feature standalone last-updates-check
	cmp "$REPLY_FILE" "$T/upd"
	refute cmp -s "$REPLY_FILE" "$T/check1"
	# false -> false: last-update stays
	sleep 1.1
	miscp 0 standalone qubes.NotifyUpdates dom0
	expect_ok
	feature standalone last-update
	cmp "$REPLY_FILE" "$T/upd"
	feature standalone last-updates-check
	refute cmp -s "$REPLY_FILE" "$T/upd"
	call -e dom0 admin.vm.feature.List standalone
	expect_ok 'updates-available\nlast-updates-check\nlast-update\n'
}

@test "NotifyUpdates: template-based qubes hint their halted template" {
	cp "$BASE/qubes.xml" "$T/before.xml"
	# no updates: ignored, nothing saved
	miscp 0 work qubes.NotifyUpdates dom0
	expect_ok
	miscp 000 work qubes.NotifyUpdates dom0
	expect_ok
	cmp "$BASE/qubes.xml" "$T/before.xml"
	call -e dom0 admin.vm.feature.List fedora-39
	expect_ok 'os\nqrexec\ngui\n'
	miscp 5 work qubes.NotifyUpdates dom0
	expect_ok
	call -e dom0 admin.vm.feature.List work
	expect_ok ''
	feature fedora-39 updates-available; expect_ok 1
	feature fedora-39 last-updates-check
	expect_reply_re "^0\\\\0$TS\$"
	# a DispVM: through default-dvm (not updateable) to fedora-39
	call -e dom0 admin.vm.feature.Remove fedora-39 updates-available
	expect_ok
	miscp '007' disp-test qubes.NotifyUpdates dom0
	expect_ok
	feature fedora-39 updates-available; expect_ok 1
	call -e dom0 admin.vm.feature.List disp-test
	expect_ok ''
	call -e dom0 admin.vm.feature.List default-dvm
	expect_ok 'appmenus-dispvm\n'
}

@test "NotifyUpdates: dom0, any destination and argument" {
	miscp 1 dom0 qubes.NotifyUpdates dom0
	expect_ok
	feature dom0 updates-available; expect_ok 1
	miscp 0 standalone qubes.NotifyUpdates work
	expect_ok
	miscp 2 standalone qubes.NotifyUpdates sys-net anything
	expect_ok
	feature standalone updates-available; expect_ok 1
	miscp 1 standalone qubes.NotifyUpdates nosuch
	expect_exc QubesVMNotFoundError "No such domain: 'nosuch'"
}

@test "NotifyUpdates: a payload that is not a decimal count closes silently" {
	local p
	cp "$BASE/qubes.xml" "$T/before.xml"
	for p in '' ' ' 'x' '-1' '+1' '1 2' '1.0' '0x1' '\xd9\xa3' '1\0'; do
		miscp "$p" standalone qubes.NotifyUpdates dom0
		expect_silent
	done
	misc -e standalone qubes.NotifyUpdates dom0
	expect_silent
	# Python's int() takes at most 4300 digits
	printf '%04300d' 1 >"$T/payload"
	misc standalone qubes.NotifyUpdates dom0 <"$T/payload"
	expect_ok
	printf '%04301d' 1 >"$T/payload"
	misc standalone qubes.NotifyUpdates work <"$T/payload"
	expect_silent
	feature standalone updates-available; expect_ok 1
}
