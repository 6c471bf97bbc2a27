#!/bin/bash
# make demo: the management-qube story, end to end.
#
#   bash scripts/demo.sh BROKER SERVICES_DIR TOOLS_DIR
#
# Starts a broker on a temporary directory (libvirt's test driver, or the
# URI in DEMO_LIBVIRT, e.g. qemu:///system as root), installs the default
# admin policy, the policy includes and the /etc/qubes-rpc links into
# that directory, and then plays what an administrator and a management
# qube "mgmt" do: dom0 sets up a template, a network qube and mgmt; mgmt
# (allowed to create AppVMs and to manage what it created, policy.md 10)
# creates two qubes, gives one a netvm, starts it, lists, asks its state,
# shuts it down; the calls policy keeps from mgmt (and from the qubes it
# made) are shown being refused.  Every qube's call goes through the
# qrexec simulator (tests/tools/qrexec-sim.sh): policy evaluation, then
# the installed link, then the broker.
#
# Each call states what it expects (an answer, a given exception, or a
# policy refusal); the last line counts them:
#   demo: N calls, A allowed, D denied as expected, 0 unexpected
# Exit status 0 when nothing was unexpected, 1 otherwise.  Everything
# (broker, guests, temporary files) is cleaned up on every exit.
set -u

if [ $# -ne 3 ]; then
	echo "usage: demo.sh BROKER SERVICES_DIR TOOLS_DIR" >&2
	exit 2
fi
BROKER=$1
SERVICES=$2
TOOLS=$3
HERE=$(cd "$(dirname "$0")/.." && pwd)
URI=${DEMO_LIBVIRT:-test:///default}
SIM=$HERE/tests/tools/qrexec-sim.sh
QQ=$SERVICES/qubesd-query

T=$(mktemp -d "${TMPDIR:-/tmp}/qubes-demo.XXXXXX") || exit 1
BASE=$T/var/lib/qubes
RUN=$T/run
POL=$T/etc/qubes/policy.d
ROOT=$T/root
PID=

cleanup() {
	local q
	# no guest outlives the demo (qemu:///system is shared): kill every
	# qube the broker does not list as Halted
	if [ -n "$PID" ] && [ -S "$RUN/qubesd.sock" ]; then
		"$QQ" -c "$RUN/qubesd.sock" dom0 admin.vm.List dom0 \
		    </dev/null 2>/dev/null | tail -c +3 |
		    awk '$2 != "class=AdminVM" && $3 != "state=Halted" \
		    { print $1 }' >"$T/running"
		while read -r q; do
			"$QQ" -c "$RUN/qubesd.sock" dom0 admin.vm.Kill "$q" \
			    </dev/null >/dev/null 2>&1
		done <"$T/running"
	fi
	if [ -n "$PID" ]; then
		kill "$PID" 2>/dev/null
		wait "$PID" 2>/dev/null
	fi
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fail() {
	echo "demo: $*" >&2
	if [ -s "$T/broker.log" ]; then
		echo "--- broker log (last lines):" >&2
		tail -n 20 "$T/broker.log" >&2
	fi
	exit 1
}

# ---------------------------------------------------------------------------
# the machine: kernels, policy, links, broker

mkdir -p "$BASE/vm-kernels/demo" "$RUN" "$POL/include" "$ROOT" ||
    fail "cannot make $T"
case $URI in
test:*)
	# the test driver boots nothing: empty files stand in for a kernel
	: >"$BASE/vm-kernels/demo/vmlinuz"
	: >"$BASE/vm-kernels/demo/initramfs"
	;;
*)
	# a real guest: the tiny kernel + initramfs of the QEMU tests
	tiny=${TINYVM_DIR:-$HERE/build/tinyvm}
	sh "$HERE/tests/tinyvm/build.sh" "$tiny" >"$T/tinyvm.log" 2>&1 ||
	    { cat "$T/tinyvm.log" >&2; fail "cannot build the tiny guest"; }
	cp "$tiny/vmlinuz" "$BASE/vm-kernels/demo/vmlinuz" &&
	    cp "$tiny/initramfs.cpio.gz" "$BASE/vm-kernels/demo/initramfs" ||
	    fail "cannot copy the tiny guest"
	;;
esac

"$TOOLS/api-table" --policy >"$POL/90-admin-default.policy" ||
    fail "cannot generate the default policy"
cp "$HERE"/policy-includes/admin-* "$POL/include/" ||
    fail "cannot copy the policy includes"
# policy.md 10.1: mgmt reads everything, creates AppVMs and fully manages
# the qubes it created (tagged created-by-mgmt by the broker)
cat >>"$POL/include/admin-global-ro" <<'EOF'
mgmt  @adminvm              allow target=dom0
mgmt  @anyvm                allow target=dom0
EOF
cat >>"$POL/include/admin-local-rwx" <<'EOF'
mgmt  @tag:created-by-mgmt  allow target=dom0
EOF
# Create and Remove are global writes: granted one service at a time
cat >"$POL/30-demo-mgmt.policy" <<'EOF'
admin.vm.Create.AppVM  *  mgmt  @adminvm              allow target=dom0
admin.vm.Remove        *  mgmt  @tag:created-by-mgmt  allow target=dom0
EOF
"$SERVICES/qubes-policy" lint --policy-dir "$POL" >"$T/lint.log" 2>&1 ||
    { cat "$T/lint.log" >&2; fail "the policy does not lint"; }
sh "$HERE/scripts/install-links.sh" "$ROOT" "$SERVICES" \
    /usr/lib/qubes-admin >/dev/null 2>&1 || fail "cannot install the links"

"$BROKER" --base-dir "$BASE" --run-dir "$RUN" --libvirt-uri "$URI" \
    --policy-dir "$POL" --init 2>"$T/broker.log" &
PID=$!
i=0
while [ ! -S "$RUN/qubesd.misc.sock" ] && [ $i -lt 100 ]; do
	kill -0 "$PID" 2>/dev/null || fail "the broker exited at start-up"
	sleep 0.05
	i=$((i + 1))
done
[ -S "$RUN/qubesd.misc.sock" ] || fail "the broker did not start"

# ---------------------------------------------------------------------------
# calls

calls=0 allowed=0 denied=0 unexpected=0

# render FILE: a reply as a client would show it
render() {
	local kind
	kind=$(head -c 1 "$1")
	case $kind in
	0)
		if [ "$(wc -c <"$1")" -le 2 ]; then
			echo "  (ok, empty reply)"
		else
			# a last line without its newline still gets one
			tail -c +3 "$1" | awk '{ print "  " $0 }'
		fi
		;;
	2)
		# 2\0 type \0 traceback \0 message \0
		tail -c +3 "$1" | tr '\0' '\n' | awk '
		NR == 1 { type = $0 } NR == 3 { msg = $0 }
		END { printf "  error: %s: %s\n", type, msg }'
		;;
	'') echo "  (connection closed without a reply)" ;;
	*) echo "  (malformed reply)" ;;
	esac
}

# outcome EXPECT RC FILE: did the call end as expected?  EXPECT is "ok",
# "deny" or an exception type.
outcome() {
	local want=$1 rc=$2 f=$3 got
	if [ "$rc" -eq 126 ]; then
		got=deny
	elif [ "$(head -c 1 "$f")" = 0 ] && [ "$rc" -eq 0 ]; then
		got=ok
	elif [ "$(head -c 1 "$f")" = 2 ]; then
		got=$(tail -c +3 "$f" | tr '\0' '\n' | head -n 1)
	else
		got="exit status $rc"
	fi
	calls=$((calls + 1))
	if [ "$got" = deny ]; then
		denied=$((denied + 1))
	else
		allowed=$((allowed + 1))
	fi
	if [ "$got" != "$want" ]; then
		unexpected=$((unexpected + 1))
		echo "  !! UNEXPECTED: expected $want, got $got"
		sed 's/^/  !! /' "$T/err" | head -n 5
	fi
}

# admin EXPECT METHOD DEST [ARG] [PAYLOAD]: dom0 itself (qubesd-query on
# the admin socket, no policy: the administrator's own calls)
admin() {
	local want=$1 meth=$2 dest=$3 arg=${4:-} rc=0
	if [ $# -ge 5 ]; then
		printf "[root@dom0 ~]# echo -n '%s' | qubesd-query dom0 %s %s %s\n" \
		    "$5" "$meth" "$dest" "$arg"
		printf %s "$5" >"$T/in"
	else
		printf '[root@dom0 ~]# qubesd-query dom0 %s %s %s\n' "$meth" \
		    "$dest" "$arg"
		: >"$T/in"
	fi
	"$QQ" -c "$RUN/qubesd.sock" dom0 "$meth" "$dest" "$arg" \
	    <"$T/in" >"$T/out" 2>"$T/err" || rc=$?
	render "$T/out"
	outcome "$want" "$rc" "$T/out"
	echo
}

# vm EXPECT SRC TARGET SERVICE[+ARG] [PAYLOAD]: qrexec-client-vm in SRC,
# through policy and the installed service
vm() {
	local want=$1 src=$2 tgt=$3 svc=$4 rc=0
	# the policy daemon's view of the system, as of now
	"$QQ" -c "$RUN/qubesd.internal.sock" dom0 internal.GetSystemInfo \
	    dom0 </dev/null >"$T/si" 2>/dev/null
	tail -c +3 "$T/si" >"$T/sysinfo.json"
	if [ $# -ge 5 ]; then
		printf "[user@%s ~]\$ echo -n '%s' | qrexec-client-vm %s %s\n" \
		    "$src" "$5" "$tgt" "$svc"
		printf %s "$5" >"$T/in"
	else
		printf '[user@%s ~]$ qrexec-client-vm %s %s\n' "$src" "$tgt" \
		    "$svc"
		: >"$T/in"
	fi
	QREXEC_SIM_ROOT=$ROOT POLICY_DIR=$POL SYSINFO=$T/sysinfo.json \
	    SERVICES_DIR=$SERVICES QUBESD_SOCKET=$RUN/qubesd.sock \
	    bash "$SIM" "$src" "$tgt" "$svc" <"$T/in" >"$T/out" \
	    2>"$T/err" || rc=$?
	if [ "$rc" -eq 126 ]; then
		echo "  Request refused"
	else
		render "$T/out"
	fi
	outcome "$want" "$rc" "$T/out"
	echo
}

# booted QUBE: with a real guest, wait until its OS is up (it answers the
# power button only from then on); the test driver has no OS
booted() {
	local log=$RUN/qubes/guest-$1.log i
	case $URI in
	test:*) return 0 ;;
	esac
	printf '# (waiting for the OS of %s to come up: %s)\n' "$1" "$log"
	for i in $(seq 1 300); do
		if grep -q 'tinyvm: up' "$log" 2>/dev/null; then
			printf '# (up after %s s)\n\n' $((i / 5))
			return 0
		fi
		sleep 0.2
	done
	echo "  !! UNEXPECTED: no 'tinyvm: up' on the console of $1 in 60 s"
	unexpected=$((unexpected + 1))
}

say() {
	printf '# %s\n\n' "$*"
}

# ---------------------------------------------------------------------------
# the story

echo "# A broker on $T"
echo "# libvirt: $URI; policy: $POL"
echo

say "dom0: the administrator sets up a template, a network qube and mgmt"
admin ok admin.property.Set dom0 default_kernel demo
admin ok admin.vm.Create.TemplateVM dom0 "" "name=debian-12 label=black"
admin ok admin.property.Set dom0 default_template debian-12
admin ok admin.vm.Create.AppVM dom0 "" "name=sys-net label=red"
admin ok admin.vm.property.Set sys-net provides_network True
admin ok admin.vm.property.Set sys-net netvm ""
admin ok admin.property.Set dom0 default_netvm sys-net
admin ok admin.vm.Create.AppVM dom0 "" "name=mgmt label=purple"
admin ok admin.vm.property.Set mgmt netvm ""
case $URI in
test:*) ;;
*)
	# real guests: small ones
	for q in debian-12 sys-net; do
		admin ok admin.vm.property.Set $q memory 128
		admin ok admin.vm.property.Set $q maxmem 0
	done
	;;
esac

say "mgmt looks around (global read-only access)"
vm ok mgmt dom0 admin.vm.List
vm ok mgmt dom0 admin.label.List
vm ok mgmt dom0 admin.property.Get+default_netvm

say "mgmt creates two AppVMs; the broker tags them created-by-mgmt"
vm ok mgmt dom0 admin.vm.Create.AppVM+debian-12 "name=web label=blue"
vm ok mgmt dom0 admin.vm.Create.AppVM+debian-12 "name=vault label=black"
vm ok mgmt web admin.vm.tag.List

say "mgmt sets their network: web behind sys-net, vault offline"
vm ok mgmt web admin.vm.property.Set+netvm sys-net
vm ok mgmt vault admin.vm.property.Set+netvm ""
vm ok mgmt web admin.vm.property.Get+netvm
vm ok mgmt vault admin.vm.property.Get+netvm
vm QubesPropertyValueError mgmt web admin.vm.property.Set+vcpus "-1"

say "mgmt starts web (its netvm sys-net is started first)"
vm ok mgmt web admin.vm.Start
booted web
vm ok mgmt dom0 admin.vm.List
vm ok mgmt web admin.vm.CurrentState
say "starting a running qube again changes nothing (as in 4.2)"
vm ok mgmt web admin.vm.Start

say "what mgmt did not create is not its own"
vm deny mgmt sys-net admin.vm.Kill
vm deny mgmt sys-net admin.vm.property.Set+netvm ""
vm deny mgmt dom0 admin.property.Set+default_netvm ""
vm deny mgmt dom0 admin.vm.Create.StandaloneVM "name=x label=red"
vm deny mgmt mgmt admin.vm.feature.Set+gui 0

say "a qube mgmt made has no Admin API access at all"
vm deny web dom0 admin.vm.List
vm deny web vault admin.vm.Remove

say "mgmt stops web and waits for it"
vm ok mgmt web admin.vm.Shutdown+wait
vm ok mgmt web admin.vm.List
vm QubesVMNotRunningError mgmt web admin.vm.Pause

say "dom0 stops sys-net; mgmt removes vault"
admin ok admin.vm.Shutdown sys-net force+wait
vm ok mgmt vault admin.vm.Remove
vm ok mgmt dom0 admin.vm.List

echo "demo: $calls calls, $allowed allowed, $denied denied as expected," \
    "$unexpected unexpected"
[ "$unexpected" -eq 0 ]
