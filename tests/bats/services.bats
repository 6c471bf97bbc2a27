#!/usr/bin/env bats
# The qrexec service executables (services/qubes-admin-<family>,
# lib/service.h): run directly with the environment qrexec gives them
# (protocol.md 8.3) against a broker on the fixture.  Valid calls give the
# broker's reply bytes and the exit status of lib/exitcodes.h; bad
# invocations are refused (status 1, one line on stderr, empty stdout)
# before anything reaches the broker, which is checked in its log and
# with a read call after.  Then the install layout (scripts/
# install-links.sh, qubes-rpc/links.txt) and the qrexec simulator
# (tests/tools/qrexec-sim.sh; skipped while no qubes-policy exists).

load helpers

LINKS=$REPO_ROOT/qubes-rpc/links.txt
SIM=$REPO_ROOT/tests/tools/qrexec-sim.sh

setup() {
	setup_fixture_broker
	svc_setup
	mkdir -p "$T/odd"
}

teardown() {
	teardown_broker
}

# ---------------------------------------------------------------------------
# helpers

expect_rc() {
	if [[ $SVC_RC -ne $1 ]]; then
		echo "exit status $SVC_RC, expected $1; stderr:" >&2
		cat "$T/svc.err" >&2
		echo "stdout: $(escape_file "$REPLY_FILE")" >&2
		return 1
	fi
}

# refused WHY SRC TARGET CALL[+ARG]: svc must refuse with status 1, empty
# stdout and one stderr line naming WHY (fixed string), and the broker
# must not have seen a request.
refused() {
	local why=$1 before
	shift
	before=$(broker_requests)
	svc "$@"
	expect_svc_refusal "$why" "$before"
}

# refusedp WHY PAYLOAD SRC TARGET CALL[+ARG]: the same with a payload.
refusedp() {
	local why=$1 payload=$2 before
	shift 2
	before=$(broker_requests)
	svcp "$payload" "$@"
	expect_svc_refusal "$why" "$before"
}

# same_as_socket SRC TARGET CALL[+ARG]: the service's reply equals the
# reply of the same request sent on the socket (qubesd-query, which sends
# TARGET @adminvm as dom0), payload from $SVC_IN.
same_as_socket() {
	local dest=$2 descr=$3
	[[ $dest == @adminvm ]] && dest=dom0
	svc "$@"
	cp "$REPLY_FILE" "$T/svc.reply"
	call "$1" "${descr%%+*}" "$dest" "${descr#*+}" <"$SVC_IN"
	expect_same "$REPLY_FILE" "$T/svc.reply" "socket and service replies"
}

# ---------------------------------------------------------------------------
# valid calls

@test "services: one executable per family, links name existing ones" {
	local call exe n=0
	while read -r call exe; do
		[[ -z $call || $call == \#* ]] && continue
		[[ -x $SERVICES_DIR/$exe ]]
		# admin.* calls: qubes-admin-<family>; the misc socket's
		# qubes.* calls: qubes-misc (misc_service.bats)
		if [[ $call == admin.* ]]; then
			[[ $exe == qubes-admin-* ]]
		else
			[[ $call == qubes.* && $exe == qubes-misc ]]
		fi
		n=$((n + 1))
	done <"$LINKS"
	((n > 0))
}

@test "services: admin.vm.List to @adminvm, OK reply, status 0" {
	svc dom0 @adminvm admin.vm.List+
	expect_rc 0
	expect_ok "$FIXTURE_VM_LIST"
	[[ ! -s $T/svc.err ]]
	# a full name without '+' (not what qrexec sends) is the same call
	svc dom0 @adminvm admin.vm.List
	expect_rc 0
	expect_ok "$FIXTURE_VM_LIST"
}

@test "services: replies equal the socket's for several families" {
	same_as_socket dom0 @adminvm admin.vm.List+
	same_as_socket work @adminvm admin.vm.List+
	same_as_socket work personal admin.vm.property.Get+label
	same_as_socket work work admin.vm.property.GetAll+
	same_as_socket dom0 dom0 admin.property.Get+default_netvm
	same_as_socket work @adminvm admin.property.List+
	same_as_socket work work admin.vm.feature.List+
	same_as_socket work work admin.vm.tag.List+
	same_as_socket work work admin.vm.tag.Get+project-x
	same_as_socket work @adminvm admin.label.List+
	same_as_socket work @adminvm admin.label.Get+red
	same_as_socket work @adminvm admin.vmclass.List+
	same_as_socket work personal admin.vm.CurrentState+
}

@test "services: exception reply is delivered with status 2" {
	svc work personal admin.vm.property.Get+nosuch
	expect_rc 2
	expect_exc QubesNoSuchPropertyError "Invalid property 'nosuch' of personal"
	svc work nosuchvm admin.vm.tag.List+
	expect_rc 2
	expect_exc QubesVMNotFoundError "No such domain: 'nosuchvm'"
}

@test "services: broker closing without a reply gives status 3" {
	# removing a default label is refused by the broker itself
	svc dom0 @adminvm admin.label.Remove+red
	expect_rc 3
	expect_silent
	call -e dom0 admin.label.Index dom0 red
	expect_ok '1'
}

@test "services: writes of several families, then read back" {
	svc dom0 work admin.vm.tag.Set+new_tag-1
	expect_rc 0
	expect_ok
	call -e dom0 admin.vm.tag.Get work new_tag-1
	expect_ok '1'

	svcp 'some value' work work admin.vm.feature.Set+my.feature
	expect_rc 0
	expect_ok
	call -e dom0 admin.vm.feature.Get work my.feature
	expect_ok 'some value'

	svcp 'blue' dom0 personal admin.vm.property.Set+label
	expect_rc 0
	expect_ok
	call -e dom0 admin.vm.property.Get personal label
	expect_ok 'default=False type=label blue'

	svcp '0xff00ff\n' dom0 @adminvm admin.label.Create+magenta
	expect_rc 0
	expect_ok
	call -e dom0 admin.label.Index dom0 magenta
	expect_ok '10'

	svcp 'name=new-1 label=red' dom0 @adminvm admin.vm.Create.AppVM+fedora-39
	expect_rc 0
	expect_ok
	call -e dom0 admin.vm.property.Get new-1 template
	expect_ok 'default=False type=vm fedora-39'

	svc dom0 work admin.vm.tag.Remove+new_tag-1
	expect_rc 0
	call -e dom0 admin.vm.tag.Get work new_tag-1
	expect_ok '0'
}

@test "services: the argument travels in argv[1] and the full name" {
	# qrexec gives argv[1] only for a non-empty argument; without it the
	# full name alone carries it
	SVC_ARGV=()
	svc work personal admin.vm.property.Get+label
	expect_rc 0
	expect_ok 'default=False type=label yellow'
	# QREXEC_SERVICE_ARGUMENT may be absent
	SVC_UNSET=(QREXEC_SERVICE_ARGUMENT)
	svc work personal admin.vm.property.Get+label
	expect_rc 0
	expect_ok 'default=False type=label yellow'
}

@test "services: broker socket from QUBESD_SOCKET; unreachable is 125" {
	SVC_UNSET=(QUBESD_SOCKET)
	SVC_ENV=("QUBESD_SOCKET=$T/nonexistent.sock")
	svc dom0 @adminvm admin.vm.List+
	expect_rc 125
	[[ ! -s $REPLY_FILE ]]
	grep -qF "$T/nonexistent.sock" "$T/svc.err"
	if [[ ! -e /var/run/qubesd.sock ]]; then
		# unset: the compiled-in /var/run/qubesd.sock
		SVC_ENV=()
		svc dom0 @adminvm admin.vm.List+
		expect_rc 125
		grep -qF /var/run/qubesd.sock "$T/svc.err"
	fi
}

@test "services: a payload at the row bound is forwarded" {
	# admin.vm.feature.Set+x work->work: header "admin.vm.feature.Set+x
	# work name work\0" is 38 bytes, so 65498 bytes of payload fit
	head -c 65498 /dev/zero | tr '\0' v >"$T/big"
	SVC_IN=$T/big svc work work admin.vm.feature.Set+x
	expect_rc 0
	expect_ok
	call -e dom0 admin.vm.feature.Get work x
	[[ $(stat -c %s "$REPLY_FILE") -eq $((65498 + 2)) ]]
	# one more byte would make the request longer than 64 KiB
	head -c 65499 /dev/zero | tr '\0' w >"$T/big"
	before=$(broker_requests)
	SVC_IN=$T/big svc work work admin.vm.feature.Set+x
	expect_svc_refusal "payload longer than 65498 bytes" "$before"
}

# ---------------------------------------------------------------------------
# refusals: nothing reaches the broker, nothing changes

@test "services: refuse a call of another family (argv[0])" {
	ln -s "$SERVICES_DIR/qubes-admin-vm" "$T/odd/admin.vm.tag.Set"
	SVC_ARGV0=$T/odd/admin.vm.tag.Set
	refused "call of another family" dom0 work admin.vm.tag.Set+x
	call -e dom0 admin.vm.tag.Get work x
	expect_ok '0'
}

@test "services: refuse a name not in the table" {
	ln -s "$SERVICES_DIR/qubes-admin-vm" "$T/odd/admin.vm.Frobnicate"
	SVC_ARGV0=$T/odd/admin.vm.Frobnicate
	refused "no such call" dom0 @adminvm admin.vm.Frobnicate+
	ln -s "$SERVICES_DIR/qubes-admin-vm" "$T/odd/admin.vm.list"
	SVC_ARGV0=$T/odd/admin.vm.list
	refused "no such call" dom0 @adminvm admin.vm.list+
}

@test "services: refuse unimplemented and dom0-only calls" {
	ln -s "$SERVICES_DIR/qubes-admin-vm-power" "$T/odd/admin.vm.Console"
	SVC_ARGV0=$T/odd/admin.vm.Console
	refused "not served" dom0 work admin.vm.Console+
	ln -s "$SERVICES_DIR/qubes-admin-vm" "$T/odd/admin.vm.Create.AdminVM"
	SVC_ARGV0=$T/odd/admin.vm.Create.AdminVM
	SVC_IN=/dev/null
	refused "not served" dom0 @adminvm admin.vm.Create.AdminVM+
	# run under its own name, the executable is no call at all
	SVC_ARGV0=$SERVICES_DIR/qubes-admin-vm
	refused "differs from the executable name" dom0 @adminvm admin.vm.List+
}

@test "services: refuse QREXEC_SERVICE_FULL_NAME not matching argv[0]" {
	SVC_ARGV0=$RPC/admin.vm.tag.Get
	refused "differs from the executable name" \
	    dom0 work admin.vm.tag.Remove+project-x
	call -e dom0 admin.vm.tag.Get work project-x
	expect_ok '1'
	# argv[0] named after the full name, argument included
	ln -s "$SERVICES_DIR/qubes-admin-vm-tag" \
	    "$T/odd/admin.vm.tag.Remove+project-x"
	SVC_ARGV0=$T/odd/admin.vm.tag.Remove+project-x
	refused "differs from the executable name" \
	    dom0 work admin.vm.tag.Remove+project-x
	call -e dom0 admin.vm.tag.Get work project-x
	expect_ok '1'
}

@test "services: refuse an argument with a forbidden byte" {
	refused "outside [A-Za-z0-9_.+-]" dom0 work admin.vm.tag.Set+a/b
	refused "outside [A-Za-z0-9_.+-]" dom0 work 'admin.vm.tag.Set+a b'
	refused "outside [A-Za-z0-9_.+-]" dom0 work $'admin.vm.tag.Set+a\x01'
	refused "outside [A-Za-z0-9_.+-]" dom0 work $'admin.vm.tag.Set+\xc3\xa9'
	refused "outside [A-Za-z0-9_.+-]" dom0 work $'admin.vm.tag.Set+a\n'
	refused "outside [A-Za-z0-9_.+-]" dom0 work 'admin.vm.feature.Remove+a:b'
	# in the set but not in the call's syntax
	refused "tag must match" dom0 work admin.vm.tag.Set+a.b
	refused "tag must match" dom0 work admin.vm.tag.Set+a+b
	refused "tag must match" dom0 work admin.vm.tag.Set+
	refused "property name must match" dom0 work admin.vm.property.Reset+a-b
	refused "label must match" dom0 @adminvm admin.label.Remove+
	refused "not be all digits" dom0 @adminvm admin.label.Create+12
	refused "argument must be empty" dom0 @adminvm admin.vm.List+x
	refused "template must be empty or a qube name" \
	    dom0 @adminvm admin.vm.Create.AppVM+fedora.39
	call -e dom0 admin.vm.tag.List work
	expect_ok 'audiovm-dom0\ncreated-by-dom0\nguivm-dom0\nproject-x\n'
}

@test "services: refuse an argument cut at a NUL (argv[1] differs)" {
	# exec cannot pass a NUL: a NUL-cut copy of the argument shows up as
	# argv[1] differing from the full name (the NUL byte itself is
	# refused in tests/unit/test_service.c)
	SVC_ARGV=(a)
	refused "differs from argv[1]" dom0 work admin.vm.tag.Set+a_b
	SVC_ARGV=($'a\x01')
	refused "differs from argv[1]" dom0 work admin.vm.tag.Set+a
	unset SVC_ARGV
	SVC_UNSET=(QREXEC_SERVICE_ARGUMENT)
	SVC_ENV=(QREXEC_SERVICE_ARGUMENT=b)
	refused "differs from QREXEC_SERVICE_ARGUMENT" \
	    dom0 work admin.vm.tag.Set+a
	SVC_ENV=()
	SVC_ARGV=(a a)
	refused "more than one command-line argument" \
	    dom0 work admin.vm.tag.Set+a
	call -e dom0 admin.vm.tag.Get work a
	expect_ok '0'
}

@test "services: refuse a target name too long or malformed" {
	refused "target name is longer than 31 bytes" dom0 \
	    abcdefghijklmnopqrstuvwxyz012345 admin.vm.tag.Set+x
	refused "target name is longer than 31 bytes" dom0 \
	    "$(printf 'a%.0s' {1..300})" admin.vm.tag.Set+x
	refused "target is not a qube name" dom0 'wo rk' admin.vm.tag.Set+x
	refused "target is not a qube name" dom0 wo.rk admin.vm.tag.Set+x
	refused "target is not a qube name" dom0 1work admin.vm.tag.Set+x
	refused "target is not a qube name" dom0 '' admin.vm.tag.Set+x
	refused "target is not a qube name" dom0 $'w\xc3\xb6rk' \
	    admin.vm.tag.Set+x
	refused "target keyword is not adminvm" dom0 @default \
	    admin.vm.tag.Set+x
	refused "target keyword is not adminvm" dom0 @dispvm:default-dvm \
	    admin.vm.tag.Set+x
	SVC_UNSET=(QREXEC_REQUESTED_TARGET_TYPE)
	SVC_ENV=(QREXEC_REQUESTED_TARGET_TYPE=uuid)
	refused "neither name nor keyword" dom0 work admin.vm.tag.Set+x
	call -e dom0 admin.vm.tag.Get work x
	expect_ok '0'
}

@test "services: refuse a source name too long or malformed" {
	refused "source name is longer than 31 bytes" \
	    abcdefghijklmnopqrstuvwxyz012345 work admin.vm.tag.Set+x
	refused "source is not a qube name" 'a;b' work admin.vm.tag.Set+x
	refused "source is not a qube name" '' work admin.vm.tag.Set+x
	refused "source is not a qube name" none work admin.vm.tag.Set+x
	call -e dom0 admin.vm.tag.Get work x
	expect_ok '0'
}

@test "services: refuse a dom0-only call addressed to a qube" {
	refused "must be addressed to dom0" work work admin.label.List+
	refused "must be addressed to dom0" dom0 work admin.property.Get+clockvm
	refusedp "must be addressed to dom0" 'name=x label=red' \
	    dom0 work admin.vm.Create.AppVM+
	call -e dom0 admin.vm.List dom0
	expect_ok "$FIXTURE_VM_LIST"
}

@test "services: refuse a payload on a no-payload call" {
	refusedp "payload on a call that takes none" 'x' \
	    dom0 work admin.vm.tag.Set+x
	refusedp "payload on a call that takes none" '\0' \
	    dom0 @adminvm admin.vm.List+
	refusedp "payload on a call that takes none" '\n' \
	    dom0 work admin.vm.property.Reset+label
	call -e dom0 admin.vm.tag.Get work x
	expect_ok '0'
}

@test "services: refuse an oversize payload at once" {
	head -c 70000 /dev/zero | tr '\0' a >"$T/big"
	before=$(broker_requests)
	SVC_IN=$T/big svc dom0 personal admin.vm.property.Set+kernelopts
	expect_svc_refusal "payload longer than" "$before"
	# refused after the bound + 1 bytes, without waiting for EOF
	mkfifo "$T/fifo"
	{ cat "$T/big"; exec sleep 20; } >"$T/fifo" 3>&- &
	writer=$!
	SVC_IN=$T/fifo
	SECONDS=0
	svc dom0 personal admin.vm.property.Set+kernelopts
	elapsed=$SECONDS
	kill "$writer" 2>/dev/null
	wait "$writer" 2>/dev/null || true
	expect_svc_refusal "payload longer than" "$before"
	((elapsed < 10))
	call -e dom0 admin.vm.property.Get personal kernelopts
	expect_reply_re '^0\\0default=True '
}

@test "services: refuse payloads of the wrong shape" {
	refusedp "value is not ASCII" 'r\xc3\xa9d' \
	    dom0 personal admin.vm.property.Set+label
	refusedp "value is not ASCII" '\xff' dom0 work admin.vm.feature.Set+f
	refusedp "colour must be" '0x00ffffff' \
	    dom0 @adminvm admin.label.Create+magenta
	refusedp "colour must be" '' dom0 @adminvm admin.label.Create+magenta
	refusedp "unknown Create parameter" 'name=x label=red foo=bar' \
	    dom0 @adminvm admin.vm.Create.AppVM+
	refusedp "without '='" 'name=x  label=red' \
	    dom0 @adminvm admin.vm.Create.AppVM+
	refusedp "lack name= or label=" 'name=x' \
	    dom0 @adminvm admin.vm.Create.AppVM+
	refusedp "duplicated Create parameter" 'name=x label=red name=y' \
	    dom0 @adminvm admin.vm.Create.AppVM+
	refusedp "both pool= and pool:<volume>=" \
	    'name=x label=red pool=default pool:private=default' \
	    dom0 @adminvm admin.vm.CreateInPool.AppVM+
	call -e dom0 admin.vm.List dom0
	expect_ok "$FIXTURE_VM_LIST"
	call -e dom0 admin.vm.property.Get personal label
	expect_ok 'default=False type=label yellow'
	call -e dom0 admin.label.List dom0
	expect_ok 'red\norange\nyellow\ngreen\ngray\nblue\npurple\nblack\ncyan\n'
}

@test "services: refuse missing environment variables" {
	local v
	for v in QREXEC_SERVICE_FULL_NAME QREXEC_REMOTE_DOMAIN \
	    QREXEC_REQUESTED_TARGET_TYPE QREXEC_REQUESTED_TARGET; do
		SVC_UNSET=("$v")
		refused "$v is not set" dom0 work admin.vm.tag.Set+x
	done
	SVC_UNSET=(QREXEC_REQUESTED_TARGET_KEYWORD)
	refused "QREXEC_REQUESTED_TARGET_KEYWORD is not set" \
	    dom0 @adminvm admin.vm.List+
	# both target variables: ambiguous
	SVC_UNSET=()
	SVC_ENV=(QREXEC_REQUESTED_TARGET_KEYWORD=adminvm)
	refused "set with target type name" dom0 work admin.vm.tag.Set+x
	# no environment at all (run by hand)
	before=$(broker_requests)
	SVC_RC=0
	env -i "$RPC/admin.vm.List" </dev/null >"$REPLY_FILE" \
	    2>"$T/svc.err" || SVC_RC=$?
	expect_svc_refusal "is not set" "$before"
	call -e dom0 admin.vm.tag.Get work x
	expect_ok '0'
}

# ---------------------------------------------------------------------------
# install layout

@test "services: links.txt is up to date with the call table" {
	[[ -n ${TOOLS_DIR:-} && -x $TOOLS_DIR/api-table ]] ||
	    skip "TOOLS_DIR/api-table not built"
	(cd "$REPO_ROOT" && sh scripts/links-list.sh "$TOOLS_DIR/api-table" \
	    --check)
}

@test "services: install-links.sh layout, and a call through it" {
	local call exe n=0
	sh "$REPO_ROOT/scripts/install-links.sh" "$T/root" "$SERVICES_DIR" \
	    /usr/lib/qubes-admin 2>"$T/install.err"
	while read -r call exe; do
		[[ -z $call || $call == \#* ]] && continue
		[[ $(readlink "$T/root/etc/qubes-rpc/$call") == \
		    "/usr/lib/qubes-admin/$exe" ]]
		[[ -x $T/root/usr/lib/qubes-admin/$exe ]]
		n=$((n + 1))
	done <"$LINKS"
	[[ $(ls "$T/root/etc/qubes-rpc" | wc -l) -eq $n ]]
	# the link's target is absolute on the installed system: run the
	# installed executable with the link's path as argv[0]
	SVC_RC=0
	env -i QUBESD_SOCKET="$RUN/qubesd.sock" QREXEC_REMOTE_DOMAIN=work \
	    QREXEC_SERVICE_FULL_NAME=admin.vm.tag.List+ \
	    QREXEC_REQUESTED_TARGET_TYPE=name QREXEC_REQUESTED_TARGET=work \
	    "$BASH" -c 'exec -a "$0" "$1"' \
	    "$T/root/etc/qubes-rpc/admin.vm.tag.List" \
	    "$T/root/usr/lib/qubes-admin/qubes-admin-vm-tag" </dev/null \
	    >"$REPLY_FILE" 2>"$T/svc.err" || SVC_RC=$?
	expect_rc 0
	expect_ok 'audiovm-dom0\ncreated-by-dom0\nguivm-dom0\nproject-x\n'
	# a missing executable fails the install
	printf 'admin.vm.List qubes-admin-nonexistent\n' >"$T/links.bad"
	refute sh "$REPO_ROOT/scripts/install-links.sh" "$T/root2" \
	    "$SERVICES_DIR" /usr/lib/qubes-admin "$T/links.bad" 2>/dev/null
}

# ---------------------------------------------------------------------------
# through the qrexec simulator (policy + multiplexer environment)

# sim_setup: install into $T/root, a policy directory allowing a few calls
# from "work", system information from the broker.
sim_setup() {
	[[ -n ${TOOLS_DIR:-} && -x $TOOLS_DIR/api-table ]] ||
	    skip "TOOLS_DIR/api-table not built"
	sh "$REPO_ROOT/scripts/install-links.sh" "$T/root" "$SERVICES_DIR" \
	    /usr/lib/qubes-admin 2>/dev/null
	mkdir -p "$T/policy/include"
	cp "$REPO_ROOT"/policy-includes/admin-* "$T/policy/include/"
	"$TOOLS_DIR/api-table" --policy >"$T/policy/90-admin-default.policy"
	cat >"$T/policy/30-test.policy" <<-'EOF'
	admin.vm.List          *        work  @adminvm  allow target=dom0
	admin.vm.property.Get  +label   work  personal  allow target=dom0
	admin.vm.tag.Set       *        work  personal  allow target=dom0
	admin.vm.tag.Get       *        work  @anyvm    allow target=dom0
	admin.label.List       *        work  @adminvm  allow
	admin.vm.feature.List  *        work  @anyvm    allow
	test.Env               *        work  @adminvm  allow target=dom0
	test.Env               *        work  personal  allow target=dom0
	test.Nope              *        work  @adminvm  allow target=dom0
	EOF
	call_on internal -e dom0 internal.GetSystemInfo dom0
	tail -c +3 "$REPLY_FILE" >"$T/sysinfo.json"
	export QREXEC_SIM_ROOT=$T/root POLICY_DIR=$T/policy \
	    SYSINFO=$T/sysinfo.json QUBESD_SOCKET=$RUN/qubesd.sock
}

# sim SRC TARGET DESCR: run the simulator, payload from $SVC_IN; reply ->
# $REPLY_FILE, status -> SVC_RC; skip when there is no qubes-policy.
sim() {
	SVC_RC=0
	bash "$SIM" "$@" <"$SVC_IN" >"$REPLY_FILE" 2>"$T/svc.err" ||
	    SVC_RC=$?
	if [[ $SVC_RC -eq 77 ]]; then
		skip "$(head -n 1 "$T/svc.err")"
	fi
}

@test "services: qrexec-sim allows by policy and runs the link" {
	sim_setup
	sim work dom0 admin.vm.List
	expect_rc 0
	# work sees what the broker's filter gives a non-dom0 caller
	call -e work admin.vm.List dom0
	save_reply "$T/socket.reply"
	sim work dom0 admin.vm.List
	expect_same "$T/socket.reply" "$REPLY_FILE"
	sim work personal admin.vm.property.Get+label
	expect_rc 0
	expect_ok 'default=False type=label yellow'
	sim work personal admin.vm.tag.Set+from-sim
	expect_rc 0
	call -e dom0 admin.vm.tag.Get personal from-sim
	expect_ok '1'
	sim work work admin.vm.tag.Get+project-x
	expect_rc 0
	expect_ok '1'
}

@test "services: qrexec-sim refuses what the policy denies (126)" {
	sim_setup
	sim work personal admin.vm.property.Get+netvm
	expect_rc 126
	grep -qx 'Request refused' "$T/svc.err"
	sim work work admin.vm.tag.Set+x
	expect_rc 126
	sim personal @adminvm admin.vm.List
	expect_rc 126
	call -e dom0 admin.vm.tag.Get work x
	expect_ok '0'
}

@test "services: qrexec-sim: sanitised bytes reach the service, refused" {
	sim_setup
	# qrexec turns '/' into '_': tag "a_b" is valid, and allowed
	sim work personal admin.vm.tag.Set+a/b
	expect_rc 0
	call -e dom0 admin.vm.tag.Get personal a_b
	expect_ok '1'
	# '.' survives qrexec and the service refuses the tag
	sim work personal admin.vm.tag.Set+a.b
	expect_rc 1
	grep -qF "tag must match" "$T/svc.err"
}

@test "services: qrexec-sim: where an allow without target=dom0 runs" {
	sim_setup
	# the caller asked for @adminvm: the call runs in dom0 anyway
	sim work @adminvm admin.label.List
	expect_rc 0
	expect_ok 'red\norange\nyellow\ngreen\ngray\nblue\npurple\nblack\ncyan\n'
	# a qube target: qrexec would run it in that qube (not simulated)
	sim work personal admin.vm.feature.List
	expect_rc 127
	grep -qF "not in dom0" "$T/svc.err"
	# ... and never in the caller itself (loopback)
	sim work work admin.vm.feature.List
	expect_rc 126
}

@test "services: qrexec-sim gives the multiplexer's argv and environment" {
	sim_setup
	cat >"$T/root/etc/qubes-rpc/test.Env" <<-'EOF'
	#!/bin/sh
	printf 'argv0=%s argc=%s' "$0" "$#"
	[ $# -eq 0 ] || printf ' argv1=%s' "$1"
	echo
	env | grep -E '^(QREXEC|QUBESD)_' | LC_ALL=C sort
	EOF
	chmod +x "$T/root/etc/qubes-rpc/test.Env"
	sim work @adminvm test.Env
	expect_rc 0
	cat >"$T/expected" <<-EOF
	argv0=$T/root/etc/qubes-rpc/test.Env argc=0
	QREXEC_REMOTE_DOMAIN=work
	QREXEC_REQUESTED_TARGET_KEYWORD=adminvm
	QREXEC_REQUESTED_TARGET_TYPE=keyword
	QREXEC_SERVICE_ARGUMENT=
	QREXEC_SERVICE_FULL_NAME=test.Env+
	QUBESD_SOCKET=$RUN/qubesd.sock
	EOF
	expect_same "$T/expected" "$REPLY_FILE"
	sim work personal test.Env+a/b
	expect_rc 0
	cat >"$T/expected" <<-EOF
	argv0=$T/root/etc/qubes-rpc/test.Env argc=1 argv1=a_b
	QREXEC_REMOTE_DOMAIN=work
	QREXEC_REQUESTED_TARGET=personal
	QREXEC_REQUESTED_TARGET_TYPE=name
	QREXEC_SERVICE_ARGUMENT=a_b
	QREXEC_SERVICE_FULL_NAME=test.Env+a_b
	QUBESD_SOCKET=$RUN/qubesd.sock
	EOF
	expect_same "$T/expected" "$REPLY_FILE"
	# no such service
	sim work @adminvm test.Nope
	expect_rc 127
}
