#!/bin/bash
# qrexec-sim.sh - a qrexec simulator for the bats tests: what happens in
# dom0 when a qube runs "qrexec-client-vm TARGET SERVICE+ARG" (policy.md
# 5.3, 7 and 12; protocol.md 5.1 and 8.3).
#
#   qrexec-sim.sh SOURCE TARGET SERVICE[+ARG]  < payload
#
# 1. Sanitises like qrexec-daemon: in the descriptor every byte outside
#    [A-Za-z0-9_.+-] becomes '_', in the target outside [A-Za-z0-9_.@:-];
#    an empty descriptor or one starting with '+' is refused; a '+' is
#    appended when there is none.
# 2. Asks the policy: qubes-policy explain --policy-dir $POLICY_DIR
#    --system-info $SYSINFO SOURCE TARGET SERVICE+ARG, whose first lines
#    are the evaluator's reply to qrexec-daemon (policy.md 5.3):
#    "result=deny", or "user=..", "result=allow", "target=..",
#    "autostart=..", "requested_target=..".  "ask" counts as a refusal
#    (nobody to ask), so does an evaluator failure.
# 3. Refused: "Request refused" on stderr, exit 126, as qrexec-client-vm.
# 4. Allowed with target dom0 (Admin API rules redirect with target=dom0;
#    the dest stays the *requested* target, policy.md 7): looks the
#    service up in $QREXEC_SIM_ROOT/usr/local/etc/qubes-rpc and
#    $QREXEC_SIM_ROOT/etc/qubes-rpc ("SERVICE+ARG" in every directory
#    first, then "SERVICE"; none: exit 127) and runs it as
#    qubes-rpc-multiplexer does: argv[0] = the path of the service file
#    (an absolute symlink is resolved inside $QREXEC_SIM_ROOT, as after a
#    DESTDIR install by scripts/install-links.sh), argv[1] = the argument
#    only when it is non-empty, and exactly the environment of
#    protocol.md 8.3 (QREXEC_REMOTE_DOMAIN, QREXEC_SERVICE_FULL_NAME,
#    QREXEC_SERVICE_ARGUMENT, QREXEC_REQUESTED_TARGET_TYPE and
#    QREXEC_REQUESTED_TARGET or QREXEC_REQUESTED_TARGET_KEYWORD) plus PATH
#    and, when set, QUBESD_SOCKET, QUBESD_INTERNAL_SOCKET,
#    QUBESD_MISC_SOCKET and QREXEC_SERVICE_PATH.  stdin, stdout, stderr
#    and the exit status are the service's.
#
# Environment: QREXEC_SIM_ROOT, POLICY_DIR, SYSINFO (required);
# QUBES_POLICY (the qubes-policy executable; default: $SERVICES_DIR/
# qubes-policy, else qubes-policy in PATH).
#
# Exit status: the service's; 126 refused; 127 no such service, or the
# policy sends the call to a qube other than dom0 (not simulated); 125
# the simulator could not run the service (not executable, a socket
# service); 2 usage; 77 no qubes-policy executable: the caller should
# skip (exit status of automake's skipped tests).
set -u

SIM_SKIP=77
prog=qrexec-sim

die() {
	echo "$prog: $*" >&2
	exit 125
}

refused() {
	[ $# -eq 0 ] || echo "$prog: $*" >&2
	echo "Request refused" >&2
	exit 126
}

if [ $# -ne 3 ]; then
	echo "usage: qrexec-sim.sh SOURCE TARGET SERVICE[+ARG]" >&2
	exit 2
fi
: "${QREXEC_SIM_ROOT:?set QREXEC_SIM_ROOT to the install root}"
: "${POLICY_DIR:?set POLICY_DIR}"
: "${SYSINFO:?set SYSINFO}"

policy=${QUBES_POLICY:-}
if [ -z "$policy" ] && [ -n "${SERVICES_DIR:-}" ] &&
    [ -x "$SERVICES_DIR/qubes-policy" ]; then
	policy=$SERVICES_DIR/qubes-policy
fi
if [ -z "$policy" ]; then
	policy=$(command -v qubes-policy 2>/dev/null) || policy=
fi
if [ -z "$policy" ] || [ ! -x "$policy" ]; then
	echo "$prog: no qubes-policy executable (set QUBES_POLICY):" \
	    "cannot simulate" >&2
	exit $SIM_SKIP
fi

export LC_ALL=C
src=$1
# 1. qrexec-daemon's sanitisation (replace, never refuse, except below)
target=$(printf '%s' "$2" | tr -c 'A-Za-z0-9_.@:-' '_')
descr=$(printf '%s' "$3" | tr -c 'A-Za-z0-9_.+-' '_')
case $descr in
''|+*) refused "empty service name" ;;
*+*) ;;
*) descr=$descr+ ;;
esac
service=${descr%%+*}
arg=${descr#*+}

# 2. the policy
out=$(mktemp) || die "mktemp failed"
trap 'rm -f "$out"' EXIT
"$policy" explain --policy-dir "$POLICY_DIR" --system-info "$SYSINFO" \
    "$src" "$target" "$descr" >"$out"
prc=$?
result=''
resolved=''
requested=''
while IFS= read -r line; do
	case $line in
	result=*) result=${line#result=} ;;
	target=*) resolved=${line#target=} ;;
	requested_target=*) requested=${line#requested_target=} ;;
	user=*|autostart=*) ;;
	*) break ;;		# the explanation that follows
	esac
done <"$out"
case $result in
allow) ;;
deny) refused ;;
ask) refused "policy says ask: nobody to ask" ;;
*) refused "policy evaluation failed (qubes-policy exit $prc)" ;;
esac

# 3. where the call runs: Admin API rules redirect to dom0
case $resolved in
dom0|@adminvm) ;;
*)
	echo "$prog: allowed to run in '$resolved', not in dom0:" \
	    "not simulated" >&2
	exit 127
	;;
esac
[ "$src" != dom0 ] || refused "loopback call (source is dom0)"
if [ -z "$requested" ]; then
	requested=$target
	[ "$requested" != dom0 ] || requested=@adminvm
fi

# 4. the service file, as qrexec-daemon and the multiplexer find it
path=
for name in "$descr" "$service"; do
	for dir in "$QREXEC_SIM_ROOT/usr/local/etc/qubes-rpc" \
	    "$QREXEC_SIM_ROOT/etc/qubes-rpc"; do
		if [ -e "$dir/$name" ] || [ -L "$dir/$name" ]; then
			path=$dir/$name
			break 2
		fi
	done
done
[ -n "$path" ] || { echo "$prog: service $service not found" >&2; exit 127; }
exe=$path
while [ -L "$exe" ]; do
	link=$(readlink "$exe")
	case $link in
	/*) exe=$QREXEC_SIM_ROOT$link ;;
	*) exe=$(dirname "$exe")/$link ;;
	esac
done
[ ! -S "$exe" ] || die "$path is a socket service: not simulated"
if [ ! -f "$exe" ] || [ ! -x "$exe" ]; then
	die "$path: not an executable ($exe)"
fi

envv=(PATH="${PATH:-/usr/bin:/bin}"
    QREXEC_REMOTE_DOMAIN="$src"
    QREXEC_SERVICE_FULL_NAME="$descr"
    QREXEC_SERVICE_ARGUMENT="$arg")
case $requested in
@*) envv+=(QREXEC_REQUESTED_TARGET_TYPE=keyword
	QREXEC_REQUESTED_TARGET_KEYWORD="${requested#@}") ;;
*) envv+=(QREXEC_REQUESTED_TARGET_TYPE=name
	QREXEC_REQUESTED_TARGET="$requested") ;;
esac
for v in QUBESD_SOCKET QUBESD_INTERNAL_SOCKET QUBESD_MISC_SOCKET \
    QREXEC_SERVICE_PATH; do
	[ -z "${!v+x}" ] || envv+=("$v=${!v}")
done
args=()
[ -z "$arg" ] || args=("$arg")
rm -f "$out"
trap - EXIT
# exactly that environment: drop everything else bash would pass on
while IFS= read -r v; do
	unset "$v" 2>/dev/null
done < <(compgen -e)
export "${envv[@]}"
exec -a "$path" "$exe" "${args[@]}"
