#!/usr/bin/env bats
# The Admin API introduction, end to end (policy.md 10): a monitoring qube
# with read-only global access and a management qube that may create
# AppVMs and fully manage only what it created.  Every call goes through
# the qrexec simulator: policy evaluation with the installed default
# policy plus the scenario's rules, then the installed /etc/qubes-rpc link
# (the family executable), then the broker.

load helpers

SIM=$BATS_TEST_DIRNAME/../tools/qrexec-sim.sh
INSTALL_LINKS=$BATS_TEST_DIRNAME/../../scripts/install-links.sh
INCLUDES=$BATS_TEST_DIRNAME/../../policy-includes

setup() {
	[[ -x ${SERVICES_DIR:-}/qubes-policy ]] ||
	    skip "qubes-policy not built in SERVICES_DIR"
	[[ -x ${TOOLS_DIR:-}/api-table ]] ||
	    skip "TOOLS_DIR/api-table not built (run through make bats)"
	init_tmp
	make_base
	POL=$T/policy
	mkdir -p "$POL/include"
	"$TOOLS_DIR/api-table" --policy >"$POL/90-admin-default.policy"
	cp "$INCLUDES"/admin-* "$POL/include/"
	cp "$INCLUDES"/85-admin-backup-restore.policy "$POL/"
	# policy.md 10.1
	cat >>"$POL/include/admin-global-ro" <<-'EOF'
	test-mon   @adminvm                  allow target=dom0
	test-mon   @anyvm                    allow target=dom0
	test-mgmt  @adminvm                  allow target=dom0
	test-mgmt  @tag:created-by-test-mgmt allow target=dom0
	EOF
	cat >>"$POL/include/admin-local-ro" <<-'EOF'
	test-mon   @adminvm                  allow target=dom0
	test-mon   @anyvm                    allow target=dom0
	EOF
	cat >>"$POL/include/admin-local-rwx" <<-'EOF'
	test-mgmt  @tag:created-by-test-mgmt allow target=dom0
	EOF
	cat >"$POL/30-test-mgmt.policy" <<-'EOF'
	admin.vm.Create.AppVM  *  test-mgmt  @adminvm  allow target=dom0
	EOF
	"$SERVICES_DIR/qubes-policy" lint --policy-dir "$POL"
	start_broker --policy-dir "$POL"
	callp 'name=test-mon label=orange' dom0 admin.vm.Create.AppVM dom0
	expect_ok ''
	callp 'name=test-mgmt label=purple' dom0 admin.vm.Create.AppVM dom0
	expect_ok ''
	ROOT=$T/root
	sh "$INSTALL_LINKS" "$ROOT" "$SERVICES_DIR" /usr/lib/qubes-admin \
	    >/dev/null
	refresh_sysinfo
}

teardown() {
	teardown_broker
}

# The system information the policy daemon would get from the broker.
refresh_sysinfo() {
	call_on internal -e dom0 internal.GetSystemInfo dom0
	tail -c +3 "$REPLY_FILE" >"$T/sysinfo.json"
}

# q SRC TARGET SERVICE+ARG [PAYLOAD]: one qrexec call; $out is the reply
# file, $rc the exit status (126 = refused by policy).
q() {
	local src=$1 tgt=$2 svc=$3
	shift 3
	printf '%s' "${1:-}" >"$T/qin"
	set +e
	QREXEC_SIM_ROOT=$ROOT POLICY_DIR=$POL SYSINFO=$T/sysinfo.json \
	    QUBESD_SOCKET=$RUN/qubesd.sock bash "$SIM" "$src" "$tgt" "$svc" \
	    <"$T/qin" >"$REPLY_FILE" 2>"$T/qerr"
	rc=$?
	set -e
}

refused() {
	if [[ $rc -ne 126 ]]; then
		echo "expected a policy refusal (126), got $rc" >&2
		cat "$T/qerr" >&2
		return 1
	fi
	grep -q 'Request refused' "$T/qerr"
	[[ ! -s $REPLY_FILE ]]
}

allowed_ok() {
	if [[ $rc -ne 0 ]]; then
		echo "expected an allowed call answered OK, got $rc" >&2
		cat "$T/qerr" >&2
		escape_file "$REPLY_FILE" >&2
		return 1
	fi
	expect_reply "0\\0$1"
}

@test "test-mon: admin.vm.List of dom0 lists every qube" {
	call -e dom0 admin.vm.List dom0
	cp "$REPLY_FILE" "$T/full"
	q test-mon dom0 admin.vm.List
	[[ $rc -eq 0 ]]
	cmp "$REPLY_FILE" "$T/full"
	grep -aq '^test-mgmt class=AppVM' "$REPLY_FILE"
	q test-mon work admin.vm.List
	allowed_ok 'work class=AppVM state=Halted\n'
}

@test "test-mon: reads global and per-qube properties" {
	q test-mon dom0 admin.property.Get+default_netvm
	allowed_ok 'default=False type=vm sys-firewall'
	q test-mon work admin.vm.property.Get+netvm
	allowed_ok 'default=True type=vm sys-firewall'
	q test-mon dom0 admin.vm.property.Get+label
	allowed_ok 'default=False type=label black'
	q test-mon dom0 admin.label.List
	[[ $rc -eq 0 ]]
}

@test "test-mon: every write or execute call is refused, nothing changes" {
	q test-mon work admin.vm.property.Set+netvm sys-net
	refused
	q test-mon work admin.vm.tag.Set+x
	refused
	q test-mon dom0 admin.vm.Create.AppVM+fedora-39 'name=x label=red'
	refused
	q test-mon dom0 admin.property.Set+default_netvm ''
	refused
	call -e dom0 admin.vm.property.Get work netvm
	expect_ok 'default=True type=vm sys-firewall'
	call -e dom0 admin.vm.List x
	expect_exc QubesVMNotFoundError "No such domain: 'x'"
}

create_managed() {
	local n
	for n in managed-work managed-research managed-vpn; do
		q test-mgmt dom0 admin.vm.Create.AppVM+fedora-39 \
		    "name=$n label=blue"
		allowed_ok ''
	done
	refresh_sysinfo
}

@test "test-mgmt: creates qubes, tagged created-by-test-mgmt" {
	create_managed
	call -e dom0 admin.vm.tag.List managed-work
	expect_ok 'audiovm-dom0\ncreated-by-test-mgmt\nguivm-dom0\n'
	call -e dom0 admin.vm.property.Get managed-vpn template
	expect_ok 'default=False type=vm fedora-39'
}

@test "test-mgmt: admin.vm.List shows dom0 and its own qubes only" {
	create_managed
	q test-mgmt dom0 admin.vm.List
	allowed_ok 'dom0 class=AdminVM state=Running\nmanaged-research class=AppVM state=Halted\nmanaged-vpn class=AppVM state=Halted\nmanaged-work class=AppVM state=Halted\n'
	q test-mgmt work admin.vm.List
	refused
}

@test "test-mgmt: sets netvm between its own qubes" {
	create_managed
	q test-mgmt managed-vpn admin.vm.property.Set+provides_network True
	allowed_ok ''
	q test-mgmt managed-work admin.vm.property.Set+netvm managed-vpn
	allowed_ok ''
	q test-mgmt managed-research admin.vm.property.Set+netvm managed-vpn
	allowed_ok ''
	q test-mgmt managed-work admin.vm.property.Get+netvm
	allowed_ok 'default=False type=vm managed-vpn'
	call -e dom0 admin.vm.property.Get managed-research netvm
	expect_ok 'default=False type=vm managed-vpn'
	# the broker's own checks still apply through the front
	q test-mgmt managed-vpn admin.vm.property.Set+netvm managed-work
	[[ $rc -eq 2 ]]
	expect_exc QubesValueError 'The managed-work qube does not provide network'
}

@test "test-mgmt: denied every call on qubes it did not create" {
	create_managed
	q test-mgmt work admin.vm.property.Get+netvm
	refused
	q test-mgmt work admin.vm.property.Set+netvm managed-vpn
	refused
	q test-mgmt work admin.vm.feature.Set+x 1
	refused
	q test-mgmt work admin.vm.tag.Set+created-by-test-mgmt
	refused
	q test-mgmt test-mgmt admin.vm.property.Get+label
	refused
	q test-mgmt dom0 admin.vm.property.Set+default_dispvm managed-work
	refused
	q test-mgmt dom0 admin.vm.Create.TemplateVM 'name=t label=red'
	refused
	q test-mgmt dom0 admin.property.Set+default_netvm managed-vpn
	refused
	q test-mgmt managed-work admin.vm.Remove
	refused
	call -e dom0 admin.vm.tag.List work
	expect_ok 'audiovm-dom0\ncreated-by-dom0\nguivm-dom0\nproject-x\n'
	call -e dom0 admin.vm.List managed-work
	expect_ok 'managed-work class=AppVM state=Halted\n'
}

@test "test-mgmt: cannot remove or forge the created-by tag" {
	create_managed
	# the policy allows (local-rwx), the broker refuses without a reply
	q test-mgmt managed-work admin.vm.tag.Remove+created-by-test-mgmt
	[[ $rc -eq 3 ]]
	expect_silent
	q test-mgmt managed-work admin.vm.tag.Set+created-by-test-mon
	[[ $rc -eq 3 ]]
	expect_silent
	q test-mgmt managed-work admin.vm.tag.Set+created-by-dom0
	[[ $rc -eq 3 ]]
	call -e dom0 admin.vm.tag.List managed-work
	expect_ok 'audiovm-dom0\ncreated-by-test-mgmt\nguivm-dom0\n'
	# other tags are fine
	q test-mgmt managed-work admin.vm.tag.Set+project-y
	allowed_ok ''
}

@test "a qube with no rule gets nothing" {
	q personal dom0 admin.vm.List
	refused
	q personal work admin.vm.property.Get+netvm
	refused
	q personal dom0 admin.label.List
	refused
	q personal dom0 admin.vm.Create.AppVM+fedora-39 'name=x label=red'
	refused
	call -e dom0 admin.vm.List x
	expect_exc QubesVMNotFoundError "No such domain: 'x'"
}
