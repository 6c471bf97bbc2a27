# helpers.bash - shared setup and assertions for the black-box bats tests.
#
# Run from the repository root (make bats does):
#   BROKER=/abs/broker/qubes-broker SERVICES_DIR=/abs/services \
#   TOOLS_DIR=/abs/build/tests/tools bats tests/bats
# BROKER and SERVICES_DIR default to the in-tree binaries.
#
# Every test gets its own directory $T (BATS_TEST_TMPDIR, or a mktemp -d
# when the socket paths below it would be too long), a fresh copy of the
# core-listing conformance fixture in $BASE and a broker listening in $RUN
# on libvirt's test:///default driver.  teardown stops the broker with
# SIGTERM and fails the test if it had already died, exited non-zero,
# reported a sanitizer error or left a socket behind.
#
# Expected bytes are written in the escape language of the conformance
# transcripts (tests/tools/replay.c): printable ASCII stands for itself,
# "\0" is always exactly one NUL (so "0\00xcc0000" is "0", NUL, "0xcc0000"),
# "\n", "\t", "\r", "\\" and "\xNN".  Replies are compared as files with
# cmp, never through shell variables, because they contain NUL bytes.

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
: "${BROKER:=$REPO_ROOT/broker/qubes-broker}"
: "${SERVICES_DIR:=$REPO_ROOT/services}"
QQ=$SERVICES_DIR/qubesd-query
# test tools built from tests/tools (make bats passes TOOLS_DIR)
TOOLS_DIR=${TOOLS_DIR:-$REPO_ROOT/build/tests/tools}
SPARSESUM=$TOOLS_DIR/sparsesum
FIXTURE=$REPO_ROOT/tests/conformance/core-listing
MKBASE=$REPO_ROOT/tests/conformance/mkbase.sh
LIBVIRT_URI=test:///default
# How long to wait for the sockets and for the broker to exit (ticks).
WAIT_TICK=0.01
WAIT_TICKS=500

# The full admin.vm.List of the fixture (reply content after "0\0").
FIXTURE_VM_LIST='dom0 class=AdminVM state=Running\ndefault-dvm class=AppVM state=Halted\ndisp-test class=DispVM state=Halted\nfedora-39 class=TemplateVM state=Halted\npersonal class=AppVM state=Halted\nstandalone class=StandaloneVM state=Halted\nsys-firewall class=AppVM state=Halted\nsys-net class=AppVM state=Halted\nwork class=AppVM state=Halted\n'

# ---------------------------------------------------------------------------
# byte strings

# unescape STR: write the bytes STR stands for (escapes above) to stdout.
unescape() {
	local s=$1 lit hex
	while [[ -n $s ]]; do
		lit=${s%%\\*}
		printf '%s' "$lit"
		s=${s:${#lit}}
		[[ -n $s ]] || break
		case ${s:1:1} in
		0) printf '\0'; s=${s:2} ;;
		n) printf '\n'; s=${s:2} ;;
		t) printf '\t'; s=${s:2} ;;
		r) printf '\r'; s=${s:2} ;;
		\\) printf '\\'; s=${s:2} ;;
		x)
			hex=${s:2:2}
			if [[ ! $hex =~ ^[0-9a-fA-F]{2}$ ]]; then
				echo "unescape: bad \\x escape in '$1'" >&2
				return 2
			fi
			printf "\\x$hex"
			s=${s:4}
			;;
		*)
			echo "unescape: bad escape '\\${s:1:1}' in '$1'" >&2
			return 2
			;;
		esac
	done
}

# escape_file FILE [MAX]: print the first MAX (default 4000) bytes of FILE
# in the same escape language (for diagnostics and expect_reply_re).
escape_file() {
	local max=${2:-4000} size
	od -An -v -tx1 -N "$max" "$1" | awk '
	BEGIN {
		for (i = 32; i < 127; i++)
			map[sprintf("%02x", i)] = sprintf("%c", i)
		map["00"] = "\\0"; map["0a"] = "\\n"; map["09"] = "\\t"
		map["0d"] = "\\r"; map["5c"] = "\\\\"
	}
	{
		for (i = 1; i <= NF; i++)
			printf "%s", (($i in map) ? map[$i] : "\\x" $i)
	}'
	size=$(stat -c %s "$1")
	if ((size > max)); then
		printf '...(%d bytes in all)' "$size"
	fi
}

# ---------------------------------------------------------------------------
# temporary directory, fixture, broker

# init_tmp: set T (per-test directory), BASE, RUN, REPLY_FILE.
init_tmp() {
	T=${BATS_TEST_TMPDIR:-}
	# sun_path holds 108 bytes; keep room for "/run/qubesd.internal.sock"
	if [[ -z $T || ${#T} -gt 70 ]]; then
		T=$(mktemp -d "${TMPDIR:-/tmp}/bats-qb.XXXXXX")
		OWN_TMP=$T
	fi
	BASE=$T/base
	RUN=$T/run
	REPLY_FILE=$T/reply
	BROKER_LOG=$T/broker.log
	BROKER_PID=
	: >"$REPLY_FILE"
}

# make_base [SCENARIO_DIR]: instantiate a conformance fixture into $BASE
# with mkbase.sh.  mkbase.sh takes ~0.1 s, so within one bats run each
# scenario is instantiated once into BATS_RUN_TMPDIR and copied from there
# (sparse files stay sparse), with the base path in qubes.xml rewritten.
make_base() {
	local scen=${1:-$FIXTURE} cache
	if [[ -z ${BATS_RUN_TMPDIR:-} ]]; then
		sh "$MKBASE" "$scen" "$BASE"
		return
	fi
	cache=$BATS_RUN_TMPDIR/fixture-$(basename "$scen")
	if [[ ! -f $cache/qubes.xml ]]; then
		# build aside and rename, in case tests run in parallel
		rm -rf "$cache.$$"
		sh "$MKBASE" "$scen" "$cache.$$" || return 1
		FROM=$cache.$$ TO=$cache awk "$SUBST_AWK" "$cache.$$/qubes.xml" \
		    >"$T/qubes.xml.new" &&
		    cat "$T/qubes.xml.new" >"$cache.$$/qubes.xml" || return 1
		rm -f "$T/qubes.xml.new"
		mv -T "$cache.$$" "$cache" 2>/dev/null || rm -rf "$cache.$$"
	fi
	cp -a "$cache" "$BASE" || return 1
	FROM=$cache TO=$BASE awk "$SUBST_AWK" "$cache/qubes.xml" \
	    >"$BASE/qubes.xml"
}

# awk program: replace every ENVIRON["FROM"] by ENVIRON["TO"] (as
# mkbase.sh does for "@BASE@").
SUBST_AWK='
{
	out = ""
	line = $0
	while ((i = index(line, ENVIRON["FROM"])) > 0) {
		out = out substr(line, 1, i - 1) ENVIRON["TO"]
		line = substr(line, i + length(ENVIRON["FROM"]))
	}
	print out line
}'

# proc_alive PID: is PID running (a zombie is not)?
proc_alive() {
	local st
	if [[ -d /proc/self ]]; then
		# bash reaps exited children at once, so the file may vanish
		{ read -r st <"/proc/$1/stat"; } 2>/dev/null || return 1
		st=${st##*) }
		[[ ${st:0:1} != Z ]]
	else
		kill -0 "$1" 2>/dev/null
	fi
}

dump_log() {
	if grep -Eq 'ERROR: (Address|Leak)Sanitizer|runtime error:' \
	    "$BROKER_LOG" 2>/dev/null; then
		echo "--- sanitizer report in $BROKER_LOG ---" >&2
		grep -Ea -m1 -A30 'ERROR: (Address|Leak)Sanitizer|runtime error:' \
		    "$BROKER_LOG" >&2
	fi
	echo "--- broker log ($BROKER_LOG, last lines) ---" >&2
	tail -n 25 "$BROKER_LOG" >&2 2>/dev/null || true
	echo "---" >&2
}

# sockets_present: are any of the three sockets in $RUN?
sockets_present() {
	[[ -e $RUN/qubesd.sock || -e $RUN/qubesd.internal.sock ||
	    -e $RUN/qubesd.misc.sock ]]
}

# start_broker [BROKER ARGS...]: start a broker on $BASE/$RUN in the
# background (environment variables given on the call are inherited) and
# wait until its three sockets exist.
start_broker() {
	local i
	mkdir -p "$RUN"
	# 3>&-: bats waits for every process holding its fd 3
	"$BROKER" --base-dir "$BASE" --run-dir "$RUN" \
	    --libvirt-uri "$LIBVIRT_URI" "$@" >>"$BROKER_LOG" 2>&1 3>&- &
	BROKER_PID=$!
	for ((i = 0; i < WAIT_TICKS; i++)); do
		if [[ -S $RUN/qubesd.sock && -S $RUN/qubesd.internal.sock &&
		    -S $RUN/qubesd.misc.sock ]]; then
			return 0
		fi
		if ! proc_alive "$BROKER_PID"; then
			wait "$BROKER_PID"
			echo "broker exited during start-up, status $?" >&2
			BROKER_PID=
			dump_log
			return 1
		fi
		sleep "$WAIT_TICK"
	done
	echo "broker sockets did not appear within 5 s" >&2
	dump_log
	return 1
}

# start_broker_init DIR: start a broker with --init on DIR (usually an
# empty directory) as its base dir.
start_broker_init() {
	BASE=$1
	start_broker --init
}

# stop_broker: SIGTERM the broker and check that it shut down cleanly:
# it must still have been running, exit with status 0 within 5 s, remove
# its sockets and not have logged a sanitizer report.
stop_broker() {
	local pid=$BROKER_PID rc i bad=0
	[[ -n $pid ]] || return 0
	BROKER_PID=
	if ! proc_alive "$pid"; then
		wait "$pid"
		rc=$?
		echo "broker (pid $pid) died before it was stopped," \
		    "status $rc" >&2
		dump_log
		return 1
	fi
	kill -TERM "$pid"
	for ((i = 0; i < WAIT_TICKS; i++)); do
		proc_alive "$pid" || break
		sleep "$WAIT_TICK"
	done
	if proc_alive "$pid"; then
		kill -KILL "$pid" 2>/dev/null
		wait "$pid"
		echo "broker did not exit within 5 s of SIGTERM" >&2
		dump_log
		return 1
	fi
	wait "$pid"
	rc=$?
	if [[ $rc -ne 0 ]]; then
		echo "broker exited with status $rc after SIGTERM" >&2
		bad=1
	fi
	if sockets_present; then
		echo "broker left sockets behind in $RUN:" >&2
		ls -l "$RUN" >&2
		bad=1
	fi
	if grep -Eq 'AddressSanitizer|LeakSanitizer|runtime error:' \
	    "$BROKER_LOG"; then
		echo "sanitizer report in the broker log" >&2
		bad=1
	fi
	if ((bad)); then
		dump_log
		return 1
	fi
}

# expect_broker_refuses [BROKER ARGS...]: the broker must exit non-zero
# within 5 s without leaving sockets (for stores it must not load).
expect_broker_refuses() {
	local rc=0
	mkdir -p "$RUN"
	timeout 5 "$BROKER" --base-dir "$BASE" --run-dir "$RUN" \
	    --libvirt-uri "$LIBVIRT_URI" "$@" >>"$BROKER_LOG" 2>&1 3>&- ||
	    rc=$?
	if [[ $rc -eq 0 || $rc -eq 124 ]]; then
		echo "broker did not refuse to start (status $rc)" >&2
		dump_log
		return 1
	fi
	if sockets_present; then
		echo "refused start left sockets in $RUN" >&2
		return 1
	fi
}

# Standard per-test setup / teardown of the *.bats files.
setup_fixture_broker() {
	init_tmp
	make_base
	start_broker
}

teardown_broker() {
	local rc=0
	stop_broker || rc=1
	if [[ -n ${OWN_TMP:-} ]]; then
		rm -rf "$OWN_TMP"
		OWN_TMP=
	fi
	return $rc
}

# ---------------------------------------------------------------------------
# calls

# call [-e] SRC METHOD DEST [ARG]: run qubesd-query against the admin
# socket (CALL_SOCK overrides it), payload from stdin or empty with -e;
# the raw reply lands in $REPLY_FILE.  Fails if qubesd-query fails (e.g.
# the broker is gone).
call() {
	local opt=() rc=0
	if [[ $1 == -e ]]; then
		opt=(-e)
		shift
	fi
	"$QQ" "${opt[@]}" -c "${CALL_SOCK:-$RUN/qubesd.sock}" -- "$@" \
	    >"$REPLY_FILE" 2>"$T/qq.err" || rc=$?
	if [[ $rc -ne 0 ]]; then
		echo "qubesd-query $* failed with status $rc:" >&2
		cat "$T/qq.err" >&2
		return 1
	fi
}

# callp PAYLOAD SRC METHOD DEST [ARG]: call with PAYLOAD (escaped) on stdin.
callp() {
	local payload=$1
	shift
	unescape "$payload" >"$T/payload" || return 2
	call "$@" <"$T/payload"
}

# call_on SOCK [-e] SRC METHOD DEST [ARG]: call on socket SOCK (admin,
# internal or misc).
call_on() {
	local CALL_SOCK
	CALL_SOCK=$(sock_path "$1") || return 2
	shift
	call "$@"
}

sock_path() {
	case $1 in
	admin) echo "$RUN/qubesd.sock" ;;
	internal) echo "$RUN/qubesd.internal.sock" ;;
	misc) echo "$RUN/qubesd.misc.sock" ;;
	*) echo "unknown socket '$1'" >&2; return 2 ;;
	esac
}

# Raw requests (bytes qubesd-query cannot produce) need socat or python3.
RAW_PY='
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(10)
s.connect(sys.argv[1])
data = open(sys.argv[2], "rb").read()
try:
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)
except (BrokenPipeError, ConnectionResetError):
    pass          # the server may close early (oversized requests)
out = sys.stdout.buffer
while True:
    try:
        b = s.recv(65536)
    except ConnectionResetError:
        break
    if not b:
        break
    out.write(b)
out.flush()
'

# have_python: is a usable python3 there?  Sets PYTHON to its real path
# (bypassing slow wrappers such as pyenv shims); cached for the whole run.
have_python() {
	local cache=${BATS_RUN_TMPDIR:-$T}/python3-path
	if [[ -z ${PYTHON:-} ]]; then
		if [[ -f $cache ]]; then
			PYTHON=$(<"$cache")
		else
			PYTHON=$(python3 -c 'import socket, json, sys
print(sys.executable)' 2>/dev/null) || PYTHON=
			[[ -x $PYTHON ]] || PYTHON=none
			echo "$PYTHON" >"$cache"
		fi
	fi
	[[ $PYTHON != none ]]
}

# need_raw WHAT: skip the test (loudly) when no raw-request tool exists.
need_raw() {
	if ! command -v socat >/dev/null 2>&1 && ! have_python; then
		skip "neither socat nor python3 installed: cannot send raw" \
		    "request bytes ($1)"
	fi
}

# raw_file SOCK FILE: send FILE's bytes as one request on socket SOCK,
# half-close, read the whole reply into $REPLY_FILE.
raw_file() {
	local path rc=0
	path=$(sock_path "$1") || return 2
	if command -v socat >/dev/null 2>&1; then
		socat -t 10 -T 10 - "UNIX-CONNECT:$path" <"$2" \
		    >"$REPLY_FILE" 2>"$T/raw.err" || rc=$?
	elif have_python; then
		"$PYTHON" -c "$RAW_PY" "$path" "$2" >"$REPLY_FILE" \
		    2>"$T/raw.err" || rc=$?
	else
		skip "neither socat nor python3 installed"
	fi
	if [[ $rc -ne 0 ]]; then
		echo "raw request on $1 failed (status $rc):" >&2
		cat "$T/raw.err" >&2
		return 1
	fi
}

# raw SOCK REQUEST: REQUEST is the escaped request (header, \0, payload).
raw() {
	unescape "$2" >"$T/request" || return 2
	raw_file "$1" "$T/request"
}

# ---------------------------------------------------------------------------
# assertions on the last reply

# expect_reply EXPECTED: the reply is exactly these (escaped) bytes.
expect_reply() {
	unescape "$1" >"$T/expected" || return 2
	if ! cmp -s "$T/expected" "$REPLY_FILE"; then
		echo "reply differs" >&2
		echo "expected: $(escape_file "$T/expected")" >&2
		echo "actual:   $(escape_file "$REPLY_FILE")" >&2
		return 1
	fi
}

# expect_ok [CONTENT]: "0\0" followed by CONTENT (escaped, default empty).
expect_ok() {
	expect_reply "0\\0${1:-}"
}

# expect_silent: the connection was closed without a byte.
expect_silent() {
	if [[ -s $REPLY_FILE ]]; then
		echo "expected a silent close, got:" >&2
		echo "  $(escape_file "$REPLY_FILE")" >&2
		return 1
	fi
}

# expect_exc TYPE MESSAGE: an EXCEPTION record (MESSAGE escaped as above).
expect_exc() {
	expect_reply "2\\0$1\\0\\0$2\\0"
}

# expect_reply_re REGEX: the escaped form of the reply (escape_file, whole
# reply) matches the bash extended REGEX (anchor it yourself).
expect_reply_re() {
	local got
	got=$(escape_file "$REPLY_FILE" 1000000)
	if [[ ! $got =~ $1 ]]; then
		echo "reply does not match /$1/" >&2
		echo "actual: $(escape_file "$REPLY_FILE")" >&2
		return 1
	fi
}

# refute CMD [ARGS...]: fail if CMD succeeds ("! CMD" does not fail a
# bats test).
refute() {
	if "$@"; then
		echo "unexpectedly succeeded: $*" >&2
		return 1
	fi
}

# save_reply FILE: keep a copy of the last reply.
save_reply() {
	cp "$REPLY_FILE" "$1"
}

# expect_same FILE1 FILE2 [WHAT]
expect_same() {
	if ! cmp -s "$1" "$2"; then
		echo "${3:-files} differ: $1 $2" >&2
		diff <(escape_file "$1" 100000 | sed 's/\\n/\n/g') \
		    <(escape_file "$2" 100000 | sed 's/\\n/\n/g') >&2 || true
		return 1
	fi
}

# ---------------------------------------------------------------------------
# qubes.xml helpers

have_xmllint() {
	command -v xmllint >/dev/null 2>&1
}

# xpath EXPR: evaluate an XPath expression on $BASE/qubes.xml (xmllint).
xpath() {
	xmllint --xpath "$1" "$BASE/qubes.xml" 2>/dev/null
}

# expect_xml_has STRING: qubes.xml contains STRING (fixed string).
expect_xml_has() {
	if ! grep -qF -- "$1" "$BASE/qubes.xml"; then
		echo "qubes.xml lacks: $1" >&2
		return 1
	fi
}

expect_xml_lacks() {
	if grep -qF -- "$1" "$BASE/qubes.xml"; then
		echo "qubes.xml unexpectedly contains: $1" >&2
		grep -nF -- "$1" "$BASE/qubes.xml" >&2
		return 1
	fi
}

# domain_xml NAME: print the <domain> element of qube NAME from
# qubes.xml (or FILE given as $2), text lines as written.
domain_xml() {
	awk -v want="<property name=\"name\">$1</property>" '
	/<domain[ >]/ { buf = ""; indom = 1; found = 0 }
	indom { buf = buf $0 "\n"; if (index($0, want)) found = 1 }
	/<\/domain>/ { if (indom && found) printf "%s", buf; indom = 0 }
	' "${2:-$BASE/qubes.xml}"
}

# ---------------------------------------------------------------------------
# power states and event streams (vm_power*.bats)

state_of() {
	call -e dom0 admin.vm.List "$1" || return 1
	escape_file "$REPLY_FILE" | sed -E 's/.*state=([A-Za-z]+).*/\1/'
}

# expect_state NAME STATE; "Up" = Running or Transient (a qube with the
# qrexec feature is Transient while no qrexec daemon serves it)
expect_state() {
	local got
	got=$(state_of "$1")
	if [[ $2 == Up && ($got == Running || $got == Transient) ]]; then
		return 0
	fi
	if [[ $got != "$2" ]]; then
		echo "$1: state $got, expected $2" >&2
		return 1
	fi
}

# subscribe NAME DEST: an admin.Events stream into $T/ev.NAME
subscribe() {
	"$QQ" -e -c "$RUN/qubesd.sock" -- dom0 admin.Events "$2" \
	    >"$T/ev.$1" 2>/dev/null 3>&- &
	BG+=($!)
	local i
	for ((i = 0; i < WAIT_TICKS; i++)); do
		[[ $(stat -c %s "$T/ev.$1") -ge 27 ]] && return 0
		sleep "$WAIT_TICK"
	done
	return 1
}

# event_names NAME: "subject event" per record of the stream so far
event_names() {
	tr '\0' '\n' <"$T/ev.$1" | awk '
	state == 0 { if ($0 == "1") state = 1; next }
	state == 1 { subj = $0; state = 2; next }
	state == 2 { if ($0 != "connection-established") print subj " " $0
		     state = 3; next }
	state == 3 { if ($0 == "") state = 0; else state = 4; next }
	state == 4 { state = 3; next }'
}

# wait_event NAME "subject event": until the stream holds that record
wait_event() {
	local i
	for ((i = 0; i < WAIT_TICKS; i++)); do
		event_names "$1" | grep -qxF -- "$2" && return 0
		sleep "$WAIT_TICK"
	done
	echo "no '$2' in stream $1:" >&2
	event_names "$1" >&2
	return 1
}


# ---------------------------------------------------------------------------
# stand-in QubesDB servers (misc*.bats): tests/tools/qdb-server

QDB_SERVER=$TOOLS_DIR/qdb-server
QDBS=()

# qdb QUBE [-m MODE] [PATH=VALUE...]: serve a QubesDB for QUBE; its
# request log is $T/qdb.QUBE.log
qdb() {
	local name=$1 i
	shift
	[[ -x $QDB_SERVER ]] || { echo "no $QDB_SERVER (make first)" >&2; return 1; }
	"$QDB_SERVER" -l "$T/qdb.$name.log" "$RUN/qubes/qubesdb.$name.sock" \
	    "$@" 2>>"$T/qdb.$name.err" 3>&- &
	QDBS+=($!)
	for ((i = 0; i < WAIT_TICKS; i++)); do
		[[ -S $RUN/qubes/qubesdb.$name.sock ]] && return 0
		sleep "$WAIT_TICK"
	done
	echo "qdb-server for $name did not start" >&2
	cat "$T/qdb.$name.err" >&2
	return 1
}

# stop_qdbs: stop every qdb-server started so far
stop_qdbs() {
	local p
	for p in "${QDBS[@]:-}"; do
		[[ -n $p ]] && kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
	done
	QDBS=()
}

# qdb_reports: fail (status 1) when a qdb-server logged a sanitizer report
qdb_reports() {
	if cat "$T"/qdb.*.err 2>/dev/null |
	    grep -Eq 'Sanitizer|runtime error:'; then
		echo "sanitizer report from qdb-server:" >&2
		cat "$T"/qdb.*.err >&2
		return 1
	fi
}


# ---------------------------------------------------------------------------
# service executables run as qrexec runs them (services*.bats,
# misc_service.bats); $RPC holds the /etc/qubes-rpc links

# svc SRC TARGET CALL[+ARG]: run the executable of CALL as qrexec would:
# argv[0] = $RPC/CALL (or $SVC_ARGV0), argv[1] = ARG only when non-empty
# (or the words of the array SVC_ARGV), and only the qrexec variables
# (TARGET @KW: type keyword, else type name) plus PATH and the broker
# socket variable $SVC_SOCK_ENV (default QUBESD_SOCKET=$RUN/qubesd.sock),
# minus the names in SVC_UNSET, plus the NAME=VALUE words in SVC_ENV.
# stdin from $SVC_IN; stdout -> $REPLY_FILE, stderr -> $T/svc.err,
# status -> SVC_RC (124 if it ran longer than SVC_TIMEOUT seconds,
# default 20).  Never fails by itself.
svc() {
	local src=$1 target=$2 descr=$3 call arg kv keep u
	local -a envv=() base argv=()
	call=${descr%%+*}
	arg=
	[[ $descr == *+* ]] && arg=${descr#*+}
	base=("PATH=/usr/bin:/bin"
	    "${SVC_SOCK_ENV:-QUBESD_SOCKET=$RUN/qubesd.sock}"
	    "QREXEC_REMOTE_DOMAIN=$src" "QREXEC_SERVICE_FULL_NAME=$descr"
	    "QREXEC_SERVICE_ARGUMENT=$arg")
	if [[ $target == @* ]]; then
		base+=(QREXEC_REQUESTED_TARGET_TYPE=keyword
		    "QREXEC_REQUESTED_TARGET_KEYWORD=${target#@}")
	else
		base+=(QREXEC_REQUESTED_TARGET_TYPE=name
		    "QREXEC_REQUESTED_TARGET=$target")
	fi
	for kv in "${base[@]}"; do
		keep=1
		for u in "${SVC_UNSET[@]}"; do
			[[ ${kv%%=*} == "$u" ]] && keep=0
		done
		((keep)) && envv+=("$kv")
	done
	envv+=("${SVC_ENV[@]}")
	if [[ -n ${SVC_ARGV+x} ]]; then
		argv=("${SVC_ARGV[@]}")
	elif [[ -n $arg ]]; then
		argv=("$arg")
	fi
	SVC_RC=0
	timeout "${SVC_TIMEOUT:-20}" env -i "${envv[@]}" \
	    "${SVC_ARGV0:-$RPC/$call}" "${argv[@]}" \
	    <"$SVC_IN" >"$REPLY_FILE" 2>"$T/svc.err" || SVC_RC=$?
}

# svc_setup: $RPC = $T/rpc, /etc/qubes-rpc as installed (one link per
# line of qubes-rpc/links.txt, named after its call), and svc's knobs
# at their defaults.
svc_setup() {
	local call exe
	RPC=$T/rpc
	mkdir -p "$RPC"
	while read -r call exe; do
		[[ -z $call || $call == \#* ]] && continue
		ln -s "$SERVICES_DIR/$exe" "$RPC/$call"
	done <"$REPO_ROOT/qubes-rpc/links.txt"
	SVC_ENV=()
	SVC_UNSET=()
	unset SVC_ARGV SVC_ARGV0
	SVC_IN=/dev/null
}

# svcp PAYLOAD SRC TARGET CALL[+ARG]: svc with PAYLOAD (escaped) on stdin.
svcp() {
	unescape "$1" >"$T/svc.in" || return 2
	shift
	SVC_IN=$T/svc.in svc "$@"
}

# expect_svc_refusal WHY BROKER_BEFORE: the last svc run was refused:
# status 1, empty stdout, one stderr line with "refused" and WHY (fixed
# string), and no request reached the broker since BROKER_BEFORE
# (a broker_requests count).
expect_svc_refusal() {
	if [[ $SVC_RC -ne 1 ]]; then
		echo "exit status $SVC_RC, expected 1; stderr:" >&2
		cat "$T/svc.err" >&2
		return 1
	fi
	if [[ -s $REPLY_FILE ]]; then
		echo "refusal printed on stdout: $(escape_file "$REPLY_FILE")" >&2
		return 1
	fi
	if [[ $(wc -l <"$T/svc.err") -ne 1 ]] ||
	    ! grep -qF "refused" "$T/svc.err" ||
	    ! grep -qF -- "$1" "$T/svc.err"; then
		echo "expected one stderr line with 'refused' and '$1':" >&2
		cat "$T/svc.err" >&2
		return 1
	fi
	if [[ $(broker_requests) -ne $2 ]]; then
		echo "the broker saw a request:" >&2
		tail -n 3 "$BROKER_LOG" >&2
		return 1
	fi
}

# requests the broker has seen so far (one or more log lines each)
broker_requests() {
	grep -cE 'log_call: |framing error|request too long' "$BROKER_LOG" ||
	    true
}
