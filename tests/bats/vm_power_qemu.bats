#!/usr/bin/env bats
# admin.vm.Start / Pause / Unpause / Kill / Shutdown / CurrentState with
# REAL virtual machines: the broker on libvirt's qemu:///system, guests
# built by tests/tinyvm/build.sh (a Debian cloud kernel and an initramfs
# whose /init says "tinyvm: up" on ttyS0 and powers off on the ACPI power
# button, unless the command line has tinyvm.ignore_power=1).
#
# Needs root, the packages of scripts/start-libvirtd (libvirt-daemon,
# libvirt-daemon-driver-qemu, libvirt-clients, qemu-system-x86) and, the
# first time, network access for the kernel download (cached in
# $TINYVM_DIR, default build/tinyvm).  setup_file starts libvirtd when it
# is not running (scripts/start-libvirtd).  Without a prerequisite every
# test is SKIPPED with the reason, never passed.
#
#   QEMU_TESTS=0   skip every test (e.g. a machine without the packages)
#   QEMU_TESTS=1   a missing prerequisite FAILS the tests instead (CI)
#   LIST_MAX_MS    bound of the latency test (default 50)
#
# Each test makes its own StandaloneVMs, named qemu-<pid>-<letter>, so
# runs cannot clash with each other or with stale domains; teardown
# destroys any libvirt domain of those names and always resumes a
# stopped libvirtd.  The guests run under TCG wherever the broker does not
# use KVM (domxml.c): boot takes a few seconds.

load helpers

LIBVIRT_URI=qemu:///system
: "${TINYVM_DIR:=$REPO_ROOT/build/tinyvm}"
: "${BATS_TEST_TIMEOUT:=150}"	# a hung call still gets its teardown
BOOT_SECS=60			# until "tinyvm: up" on the console

# ---------------------------------------------------------------------------
# prerequisites, once per file

# qemu_prepare: start libvirtd and build the tiny guest; on any missing
# prerequisite write the reason to $QEMU_DIR/skip.
qemu_prepare() {
	local d=$QEMU_DIR rc out
	mkdir -p "$d"
	if [[ ${QEMU_TESTS:-} == 0 ]]; then
		echo "QEMU_TESTS=0 in the environment" >"$d/skip"
		return
	fi
	if [[ $(id -u) -ne 0 ]]; then
		echo "not running as root (uid $(id -u)): qemu:///system and" \
		    "libvirtd need it" >"$d/skip"
		return
	fi
	rc=0
	out=$(sh "$REPO_ROOT/scripts/start-libvirtd" 2>&1 3>&-) || rc=$?
	if [[ $rc -ne 0 ]]; then
		if [[ $rc -eq 2 ]]; then
			echo "libvirt/QEMU packages missing:" \
			    "$(echo "$out" | head -c 400)" >"$d/skip"
		else
			echo "libvirtd cannot be started (scripts/start-libvirtd" \
			    "status $rc): $(echo "$out" | tail -c 400)" >"$d/skip"
		fi
		return
	fi
	rc=0
	out=$(sh "$REPO_ROOT/tests/tinyvm/build.sh" "$TINYVM_DIR" 2>&1) ||
	    rc=$?
	if [[ $rc -ne 0 || ! -s $TINYVM_DIR/vmlinuz ||
	    ! -s $TINYVM_DIR/initramfs.cpio.gz ]]; then
		echo "cannot build the tiny guest in $TINYVM_DIR" \
		    "(tests/tinyvm/build.sh status $rc; kernel download needs" \
		    "network): $(echo "$out" | tail -c 400)" >"$d/skip"
		return
	fi
}

setup_file() {
	export QEMU_DIR=$BATS_FILE_TMPDIR/qemu
	qemu_prepare || true
	if [[ -f $QEMU_DIR/skip ]]; then
		echo "# vm_power_qemu.bats: SKIPPING every test:" \
		    "$(<"$QEMU_DIR/skip")" >&3
	fi
}

# ---------------------------------------------------------------------------
# per test

QUBES=()	# qube names this test made (libvirt domain names)
BG=()		# background processes to kill
STOPPED_PID=	# a SIGSTOPped libvirtd to resume

setup() {
	if [[ -f $QEMU_DIR/skip ]]; then
		if [[ ${QEMU_TESTS:-} == 1 ]]; then
			echo "QEMU_TESTS=1 but: $(<"$QEMU_DIR/skip")" >&2
			return 1
		fi
		skip "REAL VMs NOT AVAILABLE: $(<"$QEMU_DIR/skip")"
	fi
	init_tmp
	make_base
	start_broker
	mkdir -p "$BASE/vm-kernels/tiny"
	cp "$TINYVM_DIR/vmlinuz" "$BASE/vm-kernels/tiny/vmlinuz"
	cp "$TINYVM_DIR/initramfs.cpio.gz" "$BASE/vm-kernels/tiny/initramfs"
}

teardown() {
	local p n
	if [[ -n $STOPPED_PID ]]; then
		kill -CONT "$STOPPED_PID" 2>/dev/null
		STOPPED_PID=
	fi
	for p in "${BG[@]:-}"; do
		[[ -n $p ]] && kill "$p" 2>/dev/null
	done
	# safety net: no guest outlives its test
	for n in "${QUBES[@]:-}"; do
		[[ -n $n ]] || continue
		if vsh domstate "$n" >/dev/null 2>&1; then
			vsh destroy "$n" >/dev/null 2>&1 ||
			    echo "# teardown: virsh destroy $n failed" >&3
		fi
	done
	[[ -z ${T:-} ]] || teardown_broker
}

vsh() {
	timeout 20 virsh -q -c "$LIBVIRT_URI" "$@"
}

now_ms() {
	echo $(($(date +%s%N) / 1000000))
}

# mkqube LETTER [KERNELOPTS]: a StandaloneVM qemu-<pid>-LETTER booting the
# tiny guest (128 MiB, one vcpu, no netvm); its name goes to $Q<LETTER>.
mkqube() {
	local n=qemu-$$-$1 opts=${2:-quiet}
	if vsh domstate "$n" >/dev/null 2>&1; then
		echo "a libvirt domain $n already exists in $LIBVIRT_URI" >&2
		return 1
	fi
	QUBES+=("$n")
	printf -v "Q$1" '%s' "$n"
	callp "name=$n label=red" dom0 admin.vm.Create.StandaloneVM dom0
	expect_ok || return 1
	set_prop "$n" netvm '' || return 1
	set_prop "$n" kernel tiny || return 1
	set_prop "$n" memory 128 || return 1
	set_prop "$n" vcpus 1 || return 1
	set_prop "$n" kernelopts "$opts" || return 1
}

set_prop() {
	callp "$3" dom0 admin.vm.property.Set "$1" "$2"
	expect_ok
}

# wait_state NAME STATE SECS
wait_state() {
	local i got
	for ((i = 0; i < $3 * 10; i++)); do
		got=$(state_of "$1")
		[[ $got == "$2" ]] && return 0
		sleep 0.1
	done
	echo "$1: still $got after $3 s, expected $2" >&2
	return 1
}

# wait_console NAME: until the guest said "tinyvm: up"; prints the time
wait_console() {
	local log=$RUN/qubes/guest-$1.log t0 i
	t0=$(now_ms)
	for ((i = 0; i < BOOT_SECS * 5; i++)); do
		if grep -q 'tinyvm: up' "$log" 2>/dev/null; then
			echo "# $1: console up $(($(now_ms) - t0)) ms after" \
			    "Start returned" >&3
			return 0
		fi
		sleep 0.2
	done
	echo "$1: no 'tinyvm: up' on its console within $BOOT_SECS s;" \
	    "$log ends:" >&2
	tail -n 20 "$log" >&2 2>/dev/null
	return 1
}

# console_has NAME LINE: the guest's console has that whole line
console_has() {
	if ! tr -d '\r' <"$RUN/qubes/guest-$1.log" | grep -qxF -- "$2"; then
		echo "no line '$2' on the console of $1; it ends:" >&2
		tail -n 20 "$RUN/qubes/guest-$1.log" >&2
		return 1
	fi
}

# start_up NAME: Start, Up, booted
start_up() {
	call -e dom0 admin.vm.Start "$1"
	expect_ok || return 1
	expect_state "$1" Up || return 1
	wait_console "$1"
}

# expect_virsh_state NAME STATE (virsh domstate's words)
expect_virsh_state() {
	local got
	got=$(vsh domstate "$1" 2>&1)
	if [[ $got != "$2" ]]; then
		echo "virsh domstate $1: '$got', expected '$2'" >&2
		return 1
	fi
}

# expect_no_domain NAME: libvirt has no domain NAME (transient: gone)
expect_no_domain() {
	if vsh list --all --name | grep -qxF -- "$1"; then
		echo "libvirt still lists $1:" >&2
		vsh list --all >&2
		return 1
	fi
}

# expect_stop_events STREAM NAME: the stream ends with the stop records
# in the reference's order
expect_stop_events() {
	wait_event "$1" "$2 domain-shutdown" || return 1
	event_names "$1" | grep -vE 'domain-(un)?paused$' | tail -5 \
	    >"$T/names"
	printf '%s\n' "$2 domain-stopped" "$2 property-reset:xid" \
	    "$2 property-reset:stubdom_xid" "$2 property-reset:start_time" \
	    "$2 domain-shutdown" >"$T/want"
	diff "$T/want" "$T/names"
}

# libvirtd_pid: the running libvirtd (its pid file, else pidof)
libvirtd_pid() {
	local p=
	[[ -r /run/libvirtd.pid ]] && p=$(</run/libvirtd.pid)
	if [[ -z $p || $(cat "/proc/$p/comm" 2>/dev/null) != libvirtd ]]; then
		p=$(pidof -s libvirtd 2>/dev/null) || p=
	fi
	[[ -n $p ]] && echo "$p"
}

# ---------------------------------------------------------------------------

@test "qemu: Start boots the guest; CurrentState; Pause / Unpause; Kill" {
	mkqube a
	subscribe a "$Qa"
	t0=$(now_ms)
	start_up "$Qa"
	echo "# $Qa: Start + boot $(($(now_ms) - t0)) ms" >&3
	wait_event a "$Qa domain-start"
	expect_virsh_state "$Qa" running
	call -e dom0 admin.vm.CurrentState "$Qa"
	expect_reply_re '^0\\0mem=[1-9][0-9]* mem_static_max=[1-9][0-9]* cputime=[1-9][0-9]* power_state=(Running|Transient)$'
	call -e dom0 admin.vm.property.Get "$Qa" xid
	expect_reply_re '^0\\0default=True type=str [1-9][0-9]*$'
	# the disks of its volumes reached the guest
	console_has "$Qa" 'tinyvm: disk vda'

	call -e dom0 admin.vm.Pause "$Qa"
	expect_ok
	expect_state "$Qa" Paused
	expect_virsh_state "$Qa" paused
	wait_event a "$Qa domain-paused"
	call -e dom0 admin.vm.CurrentState "$Qa"
	expect_reply_re '^0\\0mem=[1-9][0-9]* .* power_state=Paused$'
	call -e dom0 admin.vm.Unpause "$Qa"
	expect_ok
	expect_state "$Qa" Up
	expect_virsh_state "$Qa" running
	wait_event a "$Qa domain-unpaused"

	call -e dom0 admin.vm.Kill "$Qa"
	expect_ok
	expect_state "$Qa" Halted
	expect_no_domain "$Qa"
	expect_stop_events a "$Qa"
	call -e dom0 admin.vm.CurrentState "$Qa"
	expect_ok 'mem=0 mem_static_max=0 cputime=0 power_state=Halted'
	call -e dom0 admin.vm.Kill "$Qa"
	expect_exc QubesVMNotStartedError "Domain is powered off: '$Qa'"
}

@test "qemu: Shutdown+wait: the guest obeys the power button" {
	mkqube a
	start_up "$Qa"
	subscribe a "$Qa"
	t0=$(now_ms)
	call -e dom0 admin.vm.Shutdown "$Qa" wait
	expect_ok
	echo "# $Qa: Shutdown+wait $(($(now_ms) - t0)) ms" >&3
	expect_state "$Qa" Halted
	expect_no_domain "$Qa"
	console_has "$Qa" 'tinyvm: power button'
	expect_stop_events a "$Qa"
	event_names a | grep -qxF "$Qa domain-pre-shutdown"
	refute grep -qxF "$Qa domain-shutdown-failed" <(event_names a)
	# and it starts again
	call -e dom0 admin.vm.Start "$Qa"
	expect_ok
	expect_state "$Qa" Up
	call -e dom0 admin.vm.Kill "$Qa"
	expect_ok
}

@test "qemu: Shutdown+wait times out on a guest that ignores it; Kill works" {
	mkqube a 'quiet tinyvm.ignore_power=1'
	set_prop "$Qa" shutdown_timeout 5
	start_up "$Qa"
	subscribe a "$Qa"
	t0=$(now_ms)
	call -e dom0 admin.vm.Shutdown "$Qa" wait
	ms=$(($(now_ms) - t0))
	echo "# $Qa: Shutdown+wait timed out after $ms ms" >&3
	expect_exc QubesVMShutdownTimeoutError \
	    "Domain shutdown timed out: '$Qa'"
	((ms >= 4900 && ms < 9000))
	wait_event a "$Qa domain-shutdown-failed"
	console_has "$Qa" 'tinyvm: power button (ignored)'
	expect_state "$Qa" Up
	expect_virsh_state "$Qa" running
	call -e dom0 admin.vm.Kill "$Qa"
	expect_ok
	expect_state "$Qa" Halted
	expect_no_domain "$Qa"
	expect_stop_events a "$Qa"
}

@test "qemu: Shutdown without wait returns at once; the guest stops later" {
	mkqube a
	start_up "$Qa"
	t0=$(now_ms)
	call -e dom0 admin.vm.Shutdown "$Qa"
	expect_ok
	ms=$(($(now_ms) - t0))
	echo "# $Qa: Shutdown returned after $ms ms" >&3
	((ms < 1000))
	wait_state "$Qa" Halted 30
	echo "# $Qa: Halted $(($(now_ms) - t0)) ms after the Shutdown" >&3
	expect_no_domain "$Qa"
}

@test "qemu: a guest destroyed behind the broker's back is seen Halted" {
	mkqube a
	start_up "$Qa"
	subscribe a "$Qa"
	vsh destroy "$Qa" >/dev/null
	# only libvirt's lifecycle event tells the broker
	wait_state "$Qa" Halted 10
	expect_stop_events a "$Qa"
	refute grep -qxF "$Qa domain-pre-shutdown" <(event_names a)
	call -e dom0 admin.vm.CurrentState "$Qa"
	expect_ok 'mem=0 mem_static_max=0 cputime=0 power_state=Halted'
	call -e dom0 admin.vm.property.Get "$Qa" xid
	expect_ok 'default=True type=str -1'
}

@test "qemu: a stopped libvirtd does not delay admin.vm.List" {
	local pid start_pid i t1 ms worst=0
	pid=$(libvirtd_pid) || skip "no libvirtd process found (modular" \
	    "daemons?): cannot stop it"
	mkqube a
	mkqube b
	start_up "$Qb"
	STOPPED_PID=$pid
	kill -STOP "$pid"
	"$QQ" -e -c "$RUN/qubesd.sock" -- dom0 admin.vm.Start "$Qa" \
	    >"$T/start.out" 2>&1 3>&- &
	start_pid=$!
	BG+=($start_pid)
	sleep 0.3
	for ((i = 0; i < 20; i++)); do
		t1=$(date +%s%N)
		timeout 10 "$QQ" -e -c "$RUN/qubesd.sock" -- dom0 \
		    admin.vm.List dom0 >"$REPLY_FILE"
		ms=$((($(date +%s%N) - t1) / 1000000))
		((ms > worst)) && worst=$ms
		expect_reply_re "$Qa class=StandaloneVM state=Halted\\\\n"
		expect_reply_re "$Qb class=StandaloneVM state=Running\\\\n"
	done
	echo "# slowest admin.vm.List with libvirtd stopped: ${worst} ms" >&3
	proc_alive "$start_pid"		# the Start waits for libvirtd
	kill -CONT "$pid"
	STOPPED_PID=
	((worst < ${LIST_MAX_MS:-50}))
	for ((i = 0; i < 600; i++)); do
		proc_alive "$start_pid" || break
		sleep 0.1
	done
	wait "$start_pid"
	[[ $(escape_file "$T/start.out") == '0\0' ]]
	expect_state "$Qa" Up
	wait_console "$Qa"
	call -e dom0 admin.vm.Kill "$Qa"
	expect_ok
	call -e dom0 admin.vm.Kill "$Qb"
	expect_ok
	expect_no_domain "$Qa"
	expect_no_domain "$Qb"
}
