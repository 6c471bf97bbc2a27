#!/usr/bin/env bats
# The qrexec service of the misc socket: services/qubes-misc behind the
# /etc/qubes-rpc links qubes.FeaturesRequest, qubes.NotifyTools and
# qubes.NotifyUpdates (lib/service.h "The misc family"; protocol.md 8.3
# and 10).  It replaces the 4.2 scripts ("qubesd-query -c
# /var/run/qubesd.misc.sock [-e] --fail $QREXEC_REMOTE_DOMAIN <call> dom0
# '' >/dev/null 2>&1"): stdout stays empty, the exit status follows the
# reply (0 OK, 2 exception, 3 silent close; lib/exitcodes.h), and what no
# legitimate caller sends (an argument, a target other than dom0, a
# payload that is no update count) is refused (status 1, one line on
# stderr) before anything reaches the broker or a QubesDB.
#
# The executable is run as qubes-rpc-multiplexer runs it (argv[0] = the
# link, argv[1] only for a non-empty argument, only the qrexec variables
# plus QUBESD_MISC_SOCKET), against a broker on the fixture; a qube's
# QubesDB is tests/tools/qdb-server on $RUN/qubes/qubesdb.<qube>.sock, as
# in misc.bats.

load helpers

LINKS=$REPO_ROOT/qubes-rpc/links.txt
MISC_CALLS=(qubes.FeaturesRequest qubes.NotifyTools qubes.NotifyUpdates)

setup() {
	setup_fixture_broker
	mkdir -p "$RUN/qubes"
	SVC_SOCK_ENV=QUBESD_MISC_SOCKET=$RUN/qubesd.misc.sock
	svc_setup
}

teardown() {
	local rc=0
	stop_qdbs
	qdb_reports || rc=1
	teardown_broker || rc=1
	return $rc
}

# ---------------------------------------------------------------------------
# helpers

# expect_rc N: status N, and stdout empty (the reply is never relayed).
expect_rc() {
	if [[ $SVC_RC -ne $1 ]]; then
		echo "exit status $SVC_RC, expected $1; stderr:" >&2
		cat "$T/svc.err" >&2
		return 1
	fi
	if [[ -s $REPLY_FILE ]]; then
		echo "stdout not empty: $(escape_file "$REPLY_FILE")" >&2
		return 1
	fi
}

# expect_done: status 0, nothing on stdout or stderr
expect_done() {
	expect_rc 0 || return 1
	if [[ -s $T/svc.err ]]; then
		echo "unexpected stderr:" >&2
		cat "$T/svc.err" >&2
		return 1
	fi
}

# the QubesDB requests of QUBE so far
qdb_requests() {
	if [[ -f $T/qdb.$1.log ]]; then
		wc -l <"$T/qdb.$1.log"
	else
		echo 0
	fi
}

# refused WHY SRC TARGET CALL[+ARG]: status 1, empty stdout, one stderr
# line with "refused" and WHY; the broker saw nothing, standalone's
# QubesDB was not asked.
refused() {
	local why=$1 before qbefore
	shift
	before=$(broker_requests)
	qbefore=$(qdb_requests standalone)
	svc "$@"
	expect_refusal "$why" "$before" "$qbefore"
}

# refusedp WHY PAYLOAD SRC TARGET CALL[+ARG]
refusedp() {
	local why=$1 payload=$2 before qbefore
	shift 2
	before=$(broker_requests)
	qbefore=$(qdb_requests standalone)
	svcp "$payload" "$@"
	expect_refusal "$why" "$before" "$qbefore"
}

# expect_refusal WHY BROKER_BEFORE QDB_BEFORE: expect_svc_refusal, the
# line comes from qubes-misc, and standalone's QubesDB was not asked.
expect_refusal() {
	expect_svc_refusal "$1" "$2" || return 1
	if ! grep -qE "^qubes-misc\[[0-9]+\]: " "$T/svc.err"; then
		echo "the refusal is not qubes-misc's:" >&2
		cat "$T/svc.err" >&2
		return 1
	fi
	if [[ $(qdb_requests standalone) -ne $3 ]]; then
		echo "the QubesDB was asked:" >&2
		cat "$T/qdb.standalone.log" >&2
		return 1
	fi
}

# feature QUBE NAME: the feature's value into $REPLY_FILE (admin socket)
feature() {
	call -e dom0 admin.vm.feature.Get "$1" "$2"
}

# ---------------------------------------------------------------------------
# installation

@test "misc service: links.txt links the three misc calls to qubes-misc" {
	local call exe n=0
	for call in "${MISC_CALLS[@]}"; do
		grep -qx "$call qubes-misc" "$LINKS"
	done
	while read -r call exe; do
		[[ $exe == qubes-misc ]] || continue
		n=$((n + 1))
	done <"$LINKS"
	((n == 3))
	[[ -x $SERVICES_DIR/qubes-misc ]]
}

@test "misc service: install-links.sh installs qubes-misc and its links" {
	local call
	sh "$REPO_ROOT/scripts/install-links.sh" "$T/root" "$SERVICES_DIR" \
	    /usr/lib/qubes-admin 2>"$T/install.err"
	[[ -x $T/root/usr/lib/qubes-admin/qubes-misc ]]
	for call in "${MISC_CALLS[@]}"; do
		[[ $(readlink "$T/root/etc/qubes-rpc/$call") == \
		    /usr/lib/qubes-admin/qubes-misc ]]
	done
	# the 4.2 scripts in the way are replaced
	grep -E '^qubes\.' "$LINKS" >"$T/links.misc"
	mkdir -p "$T/root3/etc/qubes-rpc"
	printf '#!/bin/sh\nexit 0\n' >"$T/root3/etc/qubes-rpc/qubes.NotifyTools"
	sh "$REPO_ROOT/scripts/install-links.sh" "$T/root3" "$SERVICES_DIR" \
	    /usr/lib/qubes-admin "$T/links.misc" 2>/dev/null
	[[ $(readlink "$T/root3/etc/qubes-rpc/qubes.NotifyTools") == \
	    /usr/lib/qubes-admin/qubes-misc ]]
	# the installed executable behind the installed link's name
	qdb standalone /features-request/qrexec=1
	SVC_RC=0
	env -i QUBESD_MISC_SOCKET="$RUN/qubesd.misc.sock" \
	    QREXEC_REMOTE_DOMAIN=standalone \
	    QREXEC_SERVICE_FULL_NAME=qubes.FeaturesRequest+ \
	    QREXEC_SERVICE_ARGUMENT= QREXEC_REQUESTED_TARGET_TYPE=keyword \
	    QREXEC_REQUESTED_TARGET_KEYWORD=adminvm \
	    "$BASH" -c 'exec -a "$0" "$1"' \
	    "$T/root/etc/qubes-rpc/qubes.FeaturesRequest" \
	    "$T/root/usr/lib/qubes-admin/qubes-misc" </dev/null \
	    >"$REPLY_FILE" 2>"$T/svc.err" || SVC_RC=$?
	expect_done
	feature standalone qrexec
	expect_ok 1
}

# ---------------------------------------------------------------------------
# qubes.FeaturesRequest

@test "misc service: FeaturesRequest applies the request, stdout empty, status 0" {
	qdb standalone /features-request/qrexec=1 /features-request/gui=1 \
	    /features-request/os-distribution=debian \
	    /features-request/os-version=12 \
	    /features-request/supported-service.foo=1
	svc standalone @adminvm qubes.FeaturesRequest+
	expect_done
	[[ $(<"$T/qdb.standalone.log") == "MULTIREAD /features-request/" ]]
	call -e dom0 admin.vm.feature.List standalone
	expect_ok 'supported-service.foo\nos-distribution\nos-version\nqrexec\ngui\n'
	domain_xml standalone >"$T/dom"
	grep -qF '<feature name="os-distribution">debian</feature>' "$T/dom"
	grep -qF "call: src=standalone meth=qubes.FeaturesRequest dest=dom0 arg= len(payload)=0" "$BROKER_LOG"
}

@test "misc service: FeaturesRequest to target name dom0, no argument variable" {
	qdb fedora-39 /features-request/qubes-firewall=1
	SVC_UNSET=(QREXEC_SERVICE_ARGUMENT)
	svc fedora-39 dom0 qubes.FeaturesRequest+
	expect_done
	feature fedora-39 qubes-firewall
	expect_ok 1
}

@test "misc service: FeaturesRequest never reads stdin (an open stdin does not hang it)" {
	local start end
	qdb standalone /features-request/vmexec=1
	mkfifo "$T/fifo"
	# fd 5 keeps a writer open: stdin never reaches EOF
	exec 5<>"$T/fifo"
	printf 'junk on stdin' >&5
	start=$(date +%s%N)
	SVC_TIMEOUT=5 SVC_IN=/dev/fd/5 svc standalone @adminvm \
	    qubes.FeaturesRequest+
	end=$(date +%s%N)
	exec 5>&-
	expect_done
	(( (end - start) / 1000000 < 5000 ))
	feature standalone vmexec
	expect_ok 1
	# the bytes went nowhere: the broker got an empty payload
	grep -qF "meth=qubes.FeaturesRequest dest=dom0 arg= len(payload)=0" "$BROKER_LOG"
}

@test "misc service: FeaturesRequest the broker refuses: status 3, nothing applied" {
	cp "$BASE/qubes.xml" "$T/before.xml"
	# a value outside [A-Za-z0-9-.,_= ]: the broker closes silently
	qdb standalone /features-request/qrexec=1 '/features-request/os=a;b'
	svc standalone @adminvm qubes.FeaturesRequest+
	expect_rc 3
	[[ ! -s $T/svc.err ]]
	# no QubesDB for personal
	svc personal @adminvm qubes.FeaturesRequest+
	expect_rc 3
	cmp "$BASE/qubes.xml" "$T/before.xml"
}

@test "misc service: an exception reply gives status 2, stdout empty" {
	# a qube name that is no qube: qubesd's QubesVMNotFoundError
	svc nosuch @adminvm qubes.FeaturesRequest+
	expect_rc 2
	svcp 1 nosuch @adminvm qubes.NotifyUpdates+
	expect_rc 2
	[[ ! -s $T/svc.err ]]
}

# ---------------------------------------------------------------------------
# qubes.NotifyTools

@test "misc service: NotifyTools sets the tools' features" {
	qdb standalone /qubes-tools/os=Linux /qubes-tools/qrexec=1
	svc standalone @adminvm qubes.NotifyTools+
	expect_done
	call -e dom0 admin.vm.feature.List standalone
	expect_ok 'os\nqrexec\n'
	printf 'READ %s\n' /qubes-tools/qrexec /qubes-tools/gui \
	    /qubes-tools/gui-emulated /qubes-tools/default-user \
	    /qubes-tools/os >"$T/want.log"
	cmp "$T/qdb.standalone.log" "$T/want.log"
	# a value outside [A-Za-z0-9]: the broker closes silently
	stop_qdbs
	qdb standalone '/qubes-tools/os=Win-dows'
	svc standalone @adminvm qubes.NotifyTools+
	expect_rc 3
}

# ---------------------------------------------------------------------------
# qubes.NotifyUpdates

@test "misc service: NotifyUpdates passes the count through" {
	svcp '3\n' standalone @adminvm qubes.NotifyUpdates+
	expect_done
	feature standalone updates-available; expect_ok 1
	grep -qF "meth=qubes.NotifyUpdates dest=dom0 arg= len(payload)=2" "$BROKER_LOG"
	svcp ' 0 \t' standalone dom0 qubes.NotifyUpdates+
	expect_done
	feature standalone updates-available; expect_ok ''
	feature standalone last-update
	expect_reply_re '^0\\0[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{8}$'
	# a template-based qube hints its halted template
	svcp 007 work @adminvm qubes.NotifyUpdates+
	expect_done
	feature fedora-39 updates-available; expect_ok 1
	call -e dom0 admin.vm.feature.List work
	expect_ok ''
	# 4300 digits are a count (Python's int() limit)
	printf '%04300d\n' 0 >"$T/count"
	SVC_IN=$T/count svc standalone @adminvm qubes.NotifyUpdates+
	expect_done
}

# ---------------------------------------------------------------------------
# refusals: nothing reaches the broker or the QubesDB, nothing changes

@test "misc service: an argument is refused (the 4.2 scripts drop it)" {
	local c
	qdb standalone /features-request/qrexec=1 /qubes-tools/os=Linux
	cp "$BASE/qubes.xml" "$T/before.xml"
	for c in "${MISC_CALLS[@]}"; do
		refusedp 'argument must be empty' 1 standalone @adminvm "$c+x"
		refusedp 'argument must be empty' 1 standalone @adminvm "$c+dom0"
		refusedp 'argument must be empty' 1 standalone dom0 "$c++"
	done
	# argv[1] that the full name does not carry
	SVC_ARGV=(x)
	refused 'argument differs from argv[1]' standalone @adminvm \
	    qubes.FeaturesRequest+
	unset SVC_ARGV
	# an argument variable that differs
	SVC_ENV=(QREXEC_SERVICE_ARGUMENT=x)
	SVC_UNSET=(QREXEC_SERVICE_ARGUMENT)
	refused 'argument differs from QREXEC_SERVICE_ARGUMENT' standalone \
	    @adminvm qubes.NotifyTools+
	cmp "$BASE/qubes.xml" "$T/before.xml"
}

@test "misc service: a target other than dom0 is refused (the 4.2 scripts send dom0)" {
	local c
	qdb standalone /features-request/qrexec=1 /qubes-tools/os=Linux
	cp "$BASE/qubes.xml" "$T/before.xml"
	for c in "${MISC_CALLS[@]}"; do
		refusedp 'call must be addressed to dom0 (@adminvm)' 1 \
		    standalone work "$c+"
		refusedp 'call must be addressed to dom0 (@adminvm)' 1 \
		    standalone standalone "$c+"
		refusedp 'target keyword is not adminvm' 1 standalone @default \
		    "$c+"
		refusedp 'target keyword is not adminvm' 1 standalone \
		    @dispvm:default-dvm "$c+"
		refusedp 'target is not a qube name' 1 standalone a.b "$c+"
		refusedp 'target is not a qube name' 1 standalone Domain-0 "$c+"
	done
	# (the broker itself takes NotifyUpdates to any qube, as qubesd)
	cmp "$BASE/qubes.xml" "$T/before.xml"
	call -e dom0 admin.vm.feature.List standalone
	expect_ok ''
}

@test "misc service: a source that is no qube name, a missing variable" {
	local c
	qdb standalone /features-request/qrexec=1
	for c in "${MISC_CALLS[@]}"; do
		refusedp 'source is not a qube name' 1 '' @adminvm "$c+"
		refusedp 'source is not a qube name' 1 'a.b' @adminvm "$c+"
		refusedp 'source is not a qube name' 1 Domain-0 @adminvm "$c+"
		refusedp 'source name is longer than 31 bytes' 1 \
		    abcdefghijklmnopqrstuvwxyz012345 @adminvm "$c+"
	done
	SVC_UNSET=(QREXEC_REMOTE_DOMAIN)
	refused 'QREXEC_REMOTE_DOMAIN is not set' standalone @adminvm \
	    qubes.FeaturesRequest+
	SVC_UNSET=(QREXEC_REQUESTED_TARGET_TYPE)
	refused 'QREXEC_REQUESTED_TARGET_TYPE is not set' standalone @adminvm \
	    qubes.FeaturesRequest+
	SVC_UNSET=(QREXEC_SERVICE_FULL_NAME)
	refused 'QREXEC_SERVICE_FULL_NAME is not set' standalone @adminvm \
	    qubes.FeaturesRequest+
	SVC_UNSET=()
	call -e dom0 admin.vm.feature.List standalone
	expect_ok ''
}

@test "misc service: a NotifyUpdates payload that is no count is refused" {
	local p before why='update count must be 1-4300 decimal digits'
	cp "$BASE/qubes.xml" "$T/before.xml"
	for p in '' ' ' '\n' 'x' '-1' '+1' '1 2' '1.0' '1_0' '0x1' \
	    '\xd9\xa3' '1\0' '\x1c1' '\xa01'; do
		refusedp "$why" "$p" standalone @adminvm qubes.NotifyUpdates+
	done
	# 4301 digits: Python's int() refuses them
	printf '%04301d' 1 >"$T/count"
	before=$(broker_requests)
	SVC_IN=$T/count svc standalone @adminvm qubes.NotifyUpdates+
	expect_refusal "$why" "$before" 0
	# longer than a request can be: refused before reading the rest
	head -c 70000 /dev/zero | tr '\0' 1 >"$T/count"
	SVC_IN=$T/count svc standalone @adminvm qubes.NotifyUpdates+
	expect_refusal 'payload longer than' "$before" 0
	cmp "$BASE/qubes.xml" "$T/before.xml"
}

@test "misc service: the executable serves misc calls only, named by argv[0]" {
	local before
	qdb standalone /features-request/qrexec=1
	# an admin call through qubes-misc
	ln -sf "$SERVICES_DIR/qubes-misc" "$T/admin.vm.List"
	SVC_ARGV0=$T/admin.vm.List
	refused 'call of another family' dom0 @adminvm admin.vm.List+
	# a misc call through another family's executable
	ln -sf "$SERVICES_DIR/qubes-admin-vm" "$T/qubes.FeaturesRequest"
	SVC_ARGV0=$T/qubes.FeaturesRequest
	before=$(broker_requests)
	svc standalone @adminvm qubes.FeaturesRequest+
	[[ $SVC_RC -eq 1 ]]
	grep -qF 'call of another family' "$T/svc.err"
	[[ $(broker_requests) -eq $before ]]
	# the executable's own name, and a name that is no call
	SVC_ARGV0=$SERVICES_DIR/qubes-misc
	refused 'call name differs from the executable name' standalone \
	    @adminvm qubes.FeaturesRequest+
	ln -sf "$SERVICES_DIR/qubes-misc" "$T/qubes.GetDate"
	SVC_ARGV0=$T/qubes.GetDate
	refused 'no such call' standalone @adminvm qubes.GetDate+
	# one misc call's link with another's name
	SVC_ARGV0=$RPC/qubes.NotifyTools
	refused 'call name differs from the executable name' standalone \
	    @adminvm qubes.FeaturesRequest+
	[[ ! -s $T/qdb.standalone.log ]]
}

# ---------------------------------------------------------------------------
# the socket

@test "misc service: broker socket from QUBESD_MISC_SOCKET; unreachable is 125" {
	SVC_UNSET=(QUBESD_MISC_SOCKET)
	SVC_ENV=("QUBESD_MISC_SOCKET=$T/nonexistent.sock"
	    "QUBESD_SOCKET=$RUN/qubesd.misc.sock")
	svcp 1 standalone @adminvm qubes.NotifyUpdates+
	expect_rc 125
	grep -qF "$T/nonexistent.sock" "$T/svc.err"
	feature standalone updates-available
	expect_exc QubesFeatureNotFoundError 'Feature not set for domain standalone: updates-available'
	if [[ ! -e /var/run/qubesd.misc.sock ]]; then
		# unset (or empty): the compiled-in /var/run/qubesd.misc.sock,
		# never the admin socket
		SVC_ENV=("QUBESD_SOCKET=$RUN/qubesd.misc.sock")
		svc standalone @adminvm qubes.FeaturesRequest+
		expect_rc 125
		grep -qF /var/run/qubesd.misc.sock "$T/svc.err"
		SVC_ENV=(QUBESD_MISC_SOCKET=)
		svc standalone @adminvm qubes.FeaturesRequest+
		expect_rc 125
		grep -qF /var/run/qubesd.misc.sock "$T/svc.err"
	fi
}
