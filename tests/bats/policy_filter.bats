#!/usr/bin/env bats
# admin.vm.List filtering by the qrexec policy (protocol.md 4.3,
# policy.md 10.2): for a non-dom0 caller a qube is listed only when the
# policy for admin.vm.List, argument "+", source = caller, target = the
# qube evaluates to allow non-interactively; ask and deny drop it.  dom0
# is never filtered.  The broker reads --policy-dir and re-reads it when a
# file in it changes.

load helpers

L_DOM0='dom0 class=AdminVM state=Running\n'
L_DVM='default-dvm class=AppVM state=Halted\n'
L_FEDORA='fedora-39 class=TemplateVM state=Halted\n'
L_PERSONAL='personal class=AppVM state=Halted\n'
L_NET='sys-net class=AppVM state=Halted\n'
L_WORK='work class=AppVM state=Halted\n'

setup() {
	init_tmp
	make_base
	POL=$T/policy
	mkdir -p "$POL/include"
	cat >"$POL/30-list.policy" <<-'EOF'
	# full form, one service
	admin.vm.List * personal @adminvm             allow target=dom0
	admin.vm.List * personal work                 allow target=dom0
	admin.vm.List * personal sys-net              ask target=dom0
	admin.vm.List * personal sys-firewall         deny notify=no
	admin.vm.List * personal @type:TemplateVM     allow target=dom0
	admin.vm.List * personal @anyvm               deny
	# the 4.2 default scheme: service form include files
	!include-service admin.vm.List * include/admin-global-ro
	EOF
	cat >"$POL/include/admin-global-ro" <<-'EOF'
	!include include/admin-global-rwx
	sys-net  @adminvm        allow target=dom0
	sys-net  @tag:project-x  allow,target=dom0
	EOF
	cat >"$POL/include/admin-global-rwx" <<-'EOF'
	standalone $anyvm allow,target=dom0
	EOF
	# ignored: no .policy suffix, or hidden
	echo 'admin.vm.List * @anyvm @anyvm allow target=dom0' >"$POL/README"
	echo 'admin.vm.List * @anyvm @anyvm allow target=dom0' \
	    >"$POL/.hidden.policy"
	start_broker --policy-dir "$POL"
}

teardown() {
	teardown_broker
}

@test "policy filter: dom0 sees every qube" {
	call -e dom0 admin.vm.List dom0
	expect_ok "$FIXTURE_VM_LIST"
}

@test "policy filter: full list keeps exactly the allowed qubes" {
	# sys-net is ask, sys-firewall deny, the rest hit the @anyvm deny
	call -e personal admin.vm.List dom0
	expect_ok "$L_DOM0$L_FEDORA$L_WORK"
}

@test "policy filter: single-qube form, allow" {
	call -e personal admin.vm.List work
	expect_ok "$L_WORK"
	call -e personal admin.vm.List fedora-39
	expect_ok "$L_FEDORA"
}

@test "policy filter: single-qube form, ask and deny drop the qube" {
	call -e personal admin.vm.List sys-net
	expect_ok
	call -e personal admin.vm.List sys-firewall
	expect_ok
	call -e personal admin.vm.List default-dvm
	expect_ok
}

@test "policy filter: rules from service-form include files (tags, \$, commas)" {
	call -e sys-net admin.vm.List dom0
	expect_ok "$L_DOM0$L_WORK"
	call -e sys-net admin.vm.List personal
	expect_ok
}

@test "policy filter: nested !include keeps the service context" {
	# @anyvm never matches dom0; the caller itself is listed (the
	# loopback refusal belongs to executing a call, not to qubesd)
	call -e standalone admin.vm.List dom0
	expect_ok "${FIXTURE_VM_LIST#"$L_DOM0"}"
}

@test "policy filter: a caller without rules sees nothing" {
	call -e work admin.vm.List dom0
	expect_ok
	call -e work admin.vm.List work
	expect_ok
}

@test "policy filter: a changed policy is re-read without a restart" {
	call -e work admin.vm.List dom0
	expect_ok
	echo 'admin.vm.List + work @tag:project-x allow target=dom0' \
	    >"$POL/20-work.policy"
	call -e work admin.vm.List dom0
	expect_ok "$L_WORK"
	# replace an include file in place: sys-net loses the tag rule
	printf 'sys-net @adminvm allow target=dom0\n' \
	    >"$POL/include/admin-global-ro.new"
	mv "$POL/include/admin-global-ro.new" "$POL/include/admin-global-ro"
	call -e sys-net admin.vm.List dom0
	expect_ok "$L_DOM0"
	rm "$POL/20-work.policy"
	call -e work admin.vm.List dom0
	expect_ok
}

@test "policy filter: an invalid policy denies every non-dom0 listing" {
	echo 'admin.vm.List * work @anyvm allow,target=dom0' \
	    >"$POL/40-bad.policy"
	call -e personal admin.vm.List dom0
	expect_ok
	call -e personal admin.vm.List work
	expect_ok
	call -e dom0 admin.vm.List dom0
	expect_ok "$FIXTURE_VM_LIST"
	grep -q "error loading policy: $POL/40-bad.policy:1: invalid action: allow,target=dom0" \
	    "$BROKER_LOG"
	# fixed: filtering works again
	rm "$POL/40-bad.policy"
	call -e personal admin.vm.List dom0
	expect_ok "$L_DOM0$L_FEDORA$L_WORK"
}

@test "policy filter: a bad file name refuses the whole policy" {
	echo 'admin.vm.List * personal @anyvm allow target=dom0' \
	    >"$POL/10-Upper.policy"
	call -e personal admin.vm.List dom0
	expect_ok
	grep -q "invalid filename: $POL/10-Upper.policy" "$BROKER_LOG"
}

@test "policy filter: an include loop is an error, not a hang" {
	printf '!include include/loop\n' >"$POL/include/loop"
	echo '!include-service admin.vm.List * include/loop' \
	    >"$POL/50-loop.policy"
	call -e personal admin.vm.List dom0
	expect_ok
	grep -q "include loop: $POL/include/loop" "$BROKER_LOG"
	call -e dom0 admin.vm.List dom0
	expect_ok "$FIXTURE_VM_LIST"
}

@test "policy filter: a missing policy directory fails closed" {
	# one call first: control_listen() creates the sockets before it
	# installs its SIGTERM handler, so an immediate stop may kill it
	call -e dom0 admin.vm.List dom0
	stop_broker
	start_broker --policy-dir "$T/nonexistent"
	call -e personal admin.vm.List dom0
	expect_ok
	call -e dom0 admin.vm.List dom0
	expect_ok "$FIXTURE_VM_LIST"
	# created later: picked up at the next call
	mkdir "$T/nonexistent"
	echo 'admin.vm.List * personal @anyvm allow target=dom0' \
	    >"$T/nonexistent/30-x.policy"
	call -e personal admin.vm.List dom0
	expect_ok "${FIXTURE_VM_LIST#"$L_DOM0"}"
}

# qubes-policy: the CLI on the same policy, system information from the
# broker's internal socket (no --system-info)
QP() {
	QUBESD_INTERNAL_SOCKET=$RUN/qubesd.internal.sock \
	    "$SERVICES_DIR/qubes-policy" "$@"
}

@test "qubes-policy lint: clean policy, then every error with file:line" {
	run QP lint --policy-dir "$POL"
	[[ $status -eq 0 && -z $output ]]
	printf 'a * x y allow,target=x\nb\n' >"$POL/40-bad.policy"
	printf 'x\n' >"$POL/include/admin-global-rwx"
	run QP lint --policy-dir "$POL"
	[[ $status -eq 2 ]]
	expected="$POL/include/admin-global-rwx:1: wrong number of fields
$POL/40-bad.policy:1: invalid action: allow,target=x
$POL/40-bad.policy:2: wrong number of fields"
	[[ $output == "$expected" ]] || {
		echo "got: $output" >&2
		return 1
	}
}

@test "qubes-policy explain: allow, with the reply lines first" {
	run QP explain --policy-dir "$POL" personal work admin.vm.List
	[[ $status -eq 0 ]]
	[[ ${lines[0]} == "user=DEFAULT" && ${lines[1]} == "result=allow" &&
	    ${lines[2]} == "target=dom0" && ${lines[3]} == "autostart=True" &&
	    ${lines[4]} == "requested_target=work" ]]
	[[ $output == *$'\n\ndecision: allow\n'* ]]
	[[ $output == *"deciding rule: $POL/30-list.policy:3: admin.vm.List"* ]]
	[[ $output == *"resolved target: dom0"* ]]
	# the @adminvm rule before it was passed over
	[[ $output == *"$POL/30-list.policy:2: "*"target does not match"* ]]
}

@test "qubes-policy explain: deny and ask" {
	run QP explain --policy-dir "$POL" personal sys-firewall admin.vm.List+
	[[ $status -eq 1 && ${lines[0]} == "result=deny" ]]
	[[ $output == *"reason: denied by policy $POL/30-list.policy:5"* ]]
	run QP explain --policy-dir "$POL" personal sys-net admin.vm.List
	[[ $status -eq 0 && ${lines[1]} == "result=ask" &&
	    ${lines[2]} == "targets=@adminvm" ]]
	run QP explain --policy-dir "$POL" work dom0 admin.vm.List
	[[ $status -eq 1 && ${lines[0]} == "result=deny" ]]
	[[ $output == *"reason: no matching rule found"* ]]
}

@test "qubes-policy explain: --system-info file, errors, usage" {
	call_on internal -e dom0 internal.GetSystemInfo dom0
	tail -c +3 "$REPLY_FILE" >"$T/si.json"
	run "$SERVICES_DIR/qubes-policy" explain --policy-dir "$POL" \
	    --system-info "$T/si.json" sys-net work admin.vm.List
	[[ $status -eq 0 && ${lines[1]} == "result=allow" ]]
	echo '{' >"$T/bad.json"
	run "$SERVICES_DIR/qubes-policy" explain --policy-dir "$POL" \
	    --system-info "$T/bad.json" sys-net work admin.vm.List
	[[ $status -eq 3 ]]
	run env QUBESD_INTERNAL_SOCKET=$T/nosock \
	    "$SERVICES_DIR/qubes-policy" explain --policy-dir "$POL" \
	    sys-net work admin.vm.List
	[[ $status -eq 3 ]]
	printf 'a * x y allow,target=x\n' >"$POL/40-bad.policy"
	run QP explain --policy-dir "$POL" sys-net work admin.vm.List
	[[ $status -eq 2 && ${lines[0]} == "result=deny" ]]
	[[ $output == *"reason: error loading policy: $POL/40-bad.policy:1"* ]]
	run "$SERVICES_DIR/qubes-policy" explain a b
	[[ $status -eq 100 ]]
	run "$SERVICES_DIR/qubes-policy" frobnicate
	[[ $status -eq 100 ]]
}
