#!/usr/bin/env bats
# Request framing (protocol.md 2-4): raw request bytes sent with socat or
# python3 (skipped loudly when neither exists), plus what qubesd-query can
# express.

load helpers

setup() {
	setup_fixture_broker
}

teardown() {
	teardown_broker
}

# big_request HEADER TOTAL FILE: HEADER, NUL, then "x" up to TOTAL bytes.
big_request() {
	local n=$(($2 - ${#1} - 1))
	{
		printf '%s\0' "$1"
		head -c "$n" /dev/zero | tr '\0' x
	} >"$3"
	[[ $(stat -c %s "$3") -eq $2 ]]
}

@test "framing: request without '+' has an empty argument" {
	need_raw "no plus"
	raw admin 'admin.vm.List dom0 name dom0\0'
	expect_ok "$FIXTURE_VM_LIST"
}

@test "framing: keyword adminvm for a dom0-only call" {
	need_raw "keyword adminvm"
	raw admin 'admin.property.Get+clockvm dom0 keyword adminvm\0'
	expect_ok 'default=False type=vm sys-net'
	raw admin 'admin.label.Index+black dom0 keyword adminvm\0'
	expect_ok '8'
}

@test "framing: the argument is everything after the first '+'" {
	callp 'v' dom0 admin.vm.feature.Set work a+b+c
	expect_ok
	call -e dom0 admin.vm.feature.List work
	expect_ok 'a+b+c\n'
	call -e dom0 admin.vm.feature.Get work a+b+c
	expect_ok 'v'
}

@test "framing: fail-old-nul-separated-framing (silent)" {
	need_raw "NUL framing"
	raw admin 'dom0\0admin.vm.List\0dom0\0\0'
	expect_silent
}

@test "framing: fail-no-nul, fail-empty-request (silent)" {
	need_raw "no NUL"
	raw admin 'admin.vm.List dom0 name dom0'
	expect_silent
	raw admin ''
	expect_silent
}

@test "framing: fail-three-fields (silent)" {
	need_raw "3 fields"
	raw admin 'admin.vm.List dom0 name\0'
	expect_silent
	raw admin 'admin.vm.List dom0\0'
	expect_silent
	raw admin 'admin.vm.List\0'
	expect_silent
}

@test "framing: fail-field-separators (double space, TAB)" {
	need_raw "separators"
	raw admin 'admin.vm.List  dom0 name dom0\0'
	expect_silent
	raw admin 'admin.vm.List\tdom0\tname\tdom0\0'
	expect_silent
}

@test "framing: fail-dest-type (keyword default, Name, keyword dom0)" {
	need_raw "dest type"
	raw admin 'admin.vm.List dom0 keyword default\0'
	expect_silent
	raw admin 'admin.vm.List dom0 Name dom0\0'
	expect_silent
	raw admin 'admin.vm.List dom0 keyword dom0\0'
	expect_silent
	raw admin 'admin.vm.List dom0 uuid dom0\0'
	expect_silent
}

@test "framing: the 4th field keeps its spaces; empty names fail lookup" {
	need_raw "spaces in dest"
	raw admin 'admin.vm.List dom0 name dom0 extra\0'
	expect_exc QubesVMNotFoundError "No such domain: 'dom0 extra'"
	raw admin 'admin.vm.List dom0 name \0'
	expect_exc QubesVMNotFoundError "No such domain: ''"
}

@test "framing: fail-unknown-source (QubesVMNotFoundError)" {
	call -e nosuch admin.vm.List dom0
	expect_exc QubesVMNotFoundError "No such domain: 'nosuch'"
	call -e Dom0 admin.vm.List dom0
	expect_exc QubesVMNotFoundError "No such domain: 'Dom0'"
	call -e '' admin.vm.List dom0
	expect_exc QubesVMNotFoundError "No such domain: ''"
}

@test "framing: unknown method (silent); dest is looked up first" {
	call -e dom0 admin.vm.NoSuchMethod dom0
	expect_silent
	call -e dom0 admin.vm.list dom0
	expect_silent
	call -e dom0 admin.vm.NoSuchMethod nosuch
	expect_exc QubesVMNotFoundError "No such domain: 'nosuch'"
	call -e nosuch admin.vm.NoSuchMethod dom0
	expect_exc QubesVMNotFoundError "No such domain: 'nosuch'"
	call -e dom0 admin.vm.property.HelpRst work label
	expect_silent
	call -e dom0 admin.vm.Suspend work
	expect_silent
	call -e dom0 admin.vm.Create.FooVM dom0
	expect_silent
}

@test "framing: fail-payload-on-no-payload-call (a single NUL)" {
	need_raw "NUL payload"
	raw admin 'admin.vm.List dom0 name dom0\0\0'
	expect_silent
}

@test "framing: fail-non-ascii in method, source, destination, argument" {
	need_raw "non-ASCII header"
	raw admin 'admin.vm.L\xc3\xafst dom0 name dom0\0'
	expect_silent
	raw admin 'admin.vm.List d\xc3\xb6m0 name dom0\0'
	expect_silent
	raw admin 'admin.vm.List dom0 name w\xc3\xb6rk\0'
	expect_silent
	raw admin 'admin.vm.feature.Get+\xc3\xa9 dom0 name work\0'
	expect_silent
	raw admin 'admin.vm.List dom0 na\xffme dom0\0'
	expect_silent
}

@test "framing: a request of exactly 65536 bytes is accepted" {
	need_raw "64 KiB request"
	big_request 'admin.vm.feature.Set+big dom0 name work' 65536 "$T/big"
	raw_file admin "$T/big"
	expect_ok
	call -e dom0 admin.vm.feature.Get work big
	{
		printf '0\0'
		tail -c +41 "$T/big"
	} >"$T/want"
	[[ $(stat -c %s "$T/want") -eq $((65536 - 40 + 2)) ]]
	expect_same "$T/want" "$REPLY_FILE" "feature value"
}

@test "framing: fail-request-too-long (65537 bytes, silent, no effect)" {
	need_raw "64 KiB + 1 request"
	big_request 'admin.vm.feature.Set+big dom0 name work' 65537 "$T/big"
	raw_file admin "$T/big"
	expect_silent
	call -e dom0 admin.vm.feature.Get work big
	expect_exc QubesFeatureNotFoundError 'Feature not set for domain work: big'
}

@test "framing: fail-request-too-long through qubesd-query (65536-byte payload)" {
	head -c 65536 /dev/zero | tr '\0' x >"$T/p"
	call dom0 admin.vm.feature.Set work big <"$T/p"
	expect_silent
	call -e dom0 admin.vm.feature.Get work big
	expect_exc QubesFeatureNotFoundError 'Feature not set for domain work: big'
}

@test "framing: the server answers only after EOF" {
	if ! have_python; then
		skip "python3 not installed: cannot hold a connection half-open"
	fi
	"$PYTHON" - "$RUN/qubesd.sock" <<'EOF'
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(5)
s.connect(sys.argv[1])
s.sendall(b"admin.vm.List+ dom0 name work\0")
s.settimeout(0.3)
try:
    early = s.recv(100)
    sys.exit("answered before EOF: %r" % early)
except socket.timeout:
    pass
s.settimeout(5)
s.shutdown(socket.SHUT_WR)
data = b""
while True:
    b = s.recv(4096)
    if not b:
        break
    data += b
want = b"0\0work class=AppVM state=Halted\n"
if data != want:
    sys.exit("got %r, want %r" % (data, want))
EOF
}

@test "framing: a stalled client does not block other clients" {
	if ! have_python; then
		skip "python3 not installed: cannot hold a connection open"
	fi
	# a client that sends half a header and then waits
	"$PYTHON" - "$RUN/qubesd.sock" >"$T/stall.out" 2>&1 3>&- <<'EOF' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
s.sendall(b"admin.vm.List+ dom0 na")
print("connected", flush=True)
time.sleep(10)
EOF
	local stall=$! i
	for ((i = 0; i < 100; i++)); do
		[[ -s $T/stall.out ]] && break
		sleep 0.02
	done
	grep -q connected "$T/stall.out"
	local t0=$EPOCHREALTIME
	call -e dom0 admin.vm.List work
	local t1=$EPOCHREALTIME
	kill "$stall"
	wait "$stall" || true
	expect_ok 'work class=AppVM state=Halted\n'
	# well below the stalled client's 10 s
	(( ${t1%.*} - ${t0%.*} < 2 ))
}

@test "framing: many connections in a row are all served" {
	local i
	for ((i = 0; i < 50; i++)); do
		call -e dom0 admin.vm.tag.Get work project-x
		expect_ok '1'
	done
}
