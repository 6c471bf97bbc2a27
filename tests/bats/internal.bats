#!/usr/bin/env bats
# Internal API socket (protocol.md 9) and separation of the three sockets
# (protocol.md 1).

load helpers

setup() {
	setup_fixture_broker
}

teardown() {
	teardown_broker
}

# check_sysinfo PYTHON-ASSERTIONS: parse the last reply (after "0\0") as
# JSON with python3 and run the assertions with it bound to "d" and the
# raw text to "raw".
check_sysinfo() {
	"$PYTHON" - "$REPLY_FILE" "$1" <<'EOF'
import json, sys
data = open(sys.argv[1], "rb").read()
assert data[:2] == b"0\0", data[:40]
raw = data[2:].decode("ascii")
d = json.loads(raw)
exec(sys.argv[2])
EOF
}

@test "GetSystemInfo: dom0 entry bytes and key layout" {
	call_on internal -e dom0 internal.GetSystemInfo dom0
	unescape '0\0{"domains": {"dom0": {"tags": [], "type": "AdminVM", "template_for_dispvms": false, "default_dispvm": "default-dvm", "icon": "appvm-black", "guivm": null, "power_state": "Running"}, "default-dvm": {"tags": [' >"$T/want"
	head -c "$(stat -c %s "$T/want")" "$REPLY_FILE" >"$T/head"
	expect_same "$T/want" "$T/head" "GetSystemInfo prefix"
	expect_reply_re '"work": \{"tags": \[[^]]*\], "type": "AppVM", "template_for_dispvms": false, "default_dispvm": "default-dvm", "icon": "appvm-blue", "guivm": "dom0", "power_state": "Halted"\}\}\}$'
	expect_reply_re '"default-dvm": \{"tags": \[[^]]*\], "type": "AppVM", "template_for_dispvms": true, "default_dispvm": "default-dvm", "icon": "appvm-red", "guivm": "dom0", "power_state": "Halted"\}'
	# icon is the label icon, also for templates and disposables
	expect_reply_re '"fedora-39": \{"tags": \[[^]]*\], "type": "TemplateVM", "template_for_dispvms": false, "default_dispvm": "default-dvm", "icon": "appvm-black",'
	expect_reply_re '"disp-test": \{"tags": \[[^]]*\], "type": "DispVM", "template_for_dispvms": false, "default_dispvm": "default-dvm", "icon": "appvm-orange",'
}

@test "GetSystemInfo: output is JSON with the documented structure" {
	call_on internal -e dom0 internal.GetSystemInfo dom0
	if ! have_python; then
		skip "python3 not installed: JSON parsing not checked"
	fi
	check_sysinfo '
names = list(d["domains"])
assert names == ["dom0", "default-dvm", "disp-test", "fedora-39", "personal",
    "standalone", "sys-firewall", "sys-net", "work"], names
keys = ["tags", "type", "template_for_dispvms", "default_dispvm", "icon",
    "guivm", "power_state"]
for n, v in d["domains"].items():
    assert list(v) == keys, (n, list(v))
w = d["domains"]["work"]
assert sorted(w["tags"]) == ["audiovm-dom0", "created-by-dom0",
    "guivm-dom0", "project-x"], w["tags"]
assert w["type"] == "AppVM" and w["guivm"] == "dom0"
assert d["domains"]["dom0"]["guivm"] is None
assert d["domains"]["default-dvm"]["template_for_dispvms"] is True
# json.dumps defaults: ", " and ": " separators
assert json.dumps(d) == raw
'
}

@test "GetSystemInfo: reflects label, guivm and removal changes" {
	callp 'green' dom0 admin.vm.property.Set work label
	expect_ok
	call -e dom0 admin.vm.property.Set personal guivm
	expect_ok
	call -e dom0 admin.vm.Remove disp-test
	expect_ok
	call_on internal -e dom0 internal.GetSystemInfo dom0
	expect_reply_re '"work": \{"tags": \[[^]]*\], "type": "AppVM", "template_for_dispvms": false, "default_dispvm": "default-dvm", "icon": "appvm-green", "guivm": "dom0", "power_state": "Halted"\}'
	expect_reply_re '"personal": \{"tags": \["[^]"]*", "[^]"]*"\], "type": "AppVM", "template_for_dispvms": false, "default_dispvm": "default-dvm", "icon": "appvm-yellow", "guivm": null, "power_state": "Halted"\}'
	refute grep -qF '"disp-test"' "$REPLY_FILE"
	if have_python; then
		check_sysinfo '
p = d["domains"]["personal"]
assert sorted(p["tags"]) == ["audiovm-dom0", "created-by-dom0"], p["tags"]
assert "disp-test" not in d["domains"]
'
	fi
}

@test "GetSystemInfo: fail-dest-not-dom0, fail-arg-not-empty, fail-payload" {
	call_on internal -e dom0 internal.GetSystemInfo work
	expect_silent
	call_on internal -e dom0 internal.GetSystemInfo dom0 x
	expect_silent
	printf x >"$T/p"
	call_on internal dom0 internal.GetSystemInfo dom0 <"$T/p"
	expect_silent
}

@test "GetSystemInfo: fail-unknown-source" {
	call_on internal -e nosuch internal.GetSystemInfo dom0
	expect_exc QubesVMNotFoundError "No such domain: 'nosuch'"
}

@test "socket separation: admin methods do not exist on the internal socket" {
	call_on internal -e dom0 admin.vm.List dom0
	expect_silent
	call_on internal -e dom0 admin.vmclass.List dom0
	expect_silent
	call_on internal -e dom0 admin.label.List dom0
	expect_silent
}

@test "socket separation: internal methods do not exist on the admin socket" {
	call -e dom0 internal.GetSystemInfo dom0
	expect_silent
	# not present in 4.2 at all
	call_on internal -e dom0 internal.vm.Start work
	expect_silent
	call_on internal -e dom0 internal.vm.Create.DispVM default-dvm
	expect_silent
}

@test "socket separation: misc socket serves neither admin nor internal" {
	call_on misc -e dom0 admin.vm.List dom0
	expect_silent
	call_on misc -e dom0 internal.GetSystemInfo dom0
	expect_silent
	# sockets are created group-accessible only (umask 007)
	[[ $(stat -c %a "$RUN/qubesd.sock") == 770 ]]
	[[ $(stat -c %a "$RUN/qubesd.internal.sock") == 770 ]]
	[[ $(stat -c %a "$RUN/qubesd.misc.sock") == 770 ]]
}

@test "sockets: leftover files at the socket paths are replaced at start" {
	stop_broker
	: >"$RUN/qubesd.sock"
	: >"$RUN/qubesd.internal.sock"
	if have_python; then
		# a stale socket nobody listens on
		"$PYTHON" -c 'import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1])
s.close()' "$RUN/qubesd.misc.sock"
		[[ -S $RUN/qubesd.misc.sock ]]
	else
		: >"$RUN/qubesd.misc.sock"
	fi
	start_broker
	call -e dom0 admin.vm.List work
	expect_ok 'work class=AppVM state=Halted\n'
	call_on internal -e dom0 internal.GetSystemInfo dom0
	expect_reply_re '^0\\0\{"domains": \{"dom0": '
}

@test "sockets: a second broker on a live run dir refuses to start" {
	local rc=0
	mkdir "$T/base2"
	cp -a "$BASE/." "$T/base2/"
	timeout 5 "$BROKER" --base-dir "$T/base2" --run-dir "$RUN" \
	    --libvirt-uri "$LIBVIRT_URI" >"$T/second.log" 2>&1 3>&- || rc=$?
	if [[ $rc -eq 0 || $rc -eq 124 ]]; then
		echo "second broker did not refuse (status $rc)" >&2
		cat "$T/second.log" >&2
		false
	fi
	# the first broker's sockets are intact and served
	[[ -S $RUN/qubesd.sock && -S $RUN/qubesd.internal.sock &&
	    -S $RUN/qubesd.misc.sock ]]
	call -e dom0 admin.vm.List work
	expect_ok 'work class=AppVM state=Halted\n'
	call_on internal -e dom0 internal.GetSystemInfo dom0
	expect_reply_re '^0\\0\{"domains": \{"dom0": '
}
