#!/bin/sh
# make demo: start a broker on a temporary dir (libvirt test driver) and
# walk through the core Admin API calls with qubesd-query, printing each
# call like a terminal session.  Ends with a one-line summary.
set -u
BROKER=$1
SERVICES=$2
URI=${DEMO_LIBVIRT:-test:///default}
T=$(mktemp -d "${TMPDIR:-/tmp}/qubes-demo.XXXXXX")
mkdir -p "$T/base/vm-kernels/6.6.0-demo" "$T/run"
: > "$T/base/vm-kernels/6.6.0-demo/vmlinuz"
"$BROKER" --base-dir "$T/base" --run-dir "$T/run" --libvirt-uri "$URI" \
    --init 2> "$T/broker.log" &
PID=$!
cleanup() {
	kill "$PID" 2>/dev/null
	wait "$PID" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT INT TERM
i=0
while [ ! -S "$T/run/qubesd.misc.sock" ] && [ $i -lt 50 ]; do
	sleep 0.1
	i=$((i + 1))
done
if [ ! -S "$T/run/qubesd.misc.sock" ]; then
	echo "demo: the broker did not start:" >&2
	cat "$T/broker.log" >&2
	exit 1
fi

ok=0
bad=0
show() {
	tr '\000\012' '\001\002' | sed 's/\x01/\\0/g; s/\x02/\\n/g'
}
# q SRC METHOD DEST [ARG] [PAYLOAD]: show the call and its reply; a reply
# is shown with NUL as \0, as the wire format documents write it.
q() {
	src=$1 meth=$2 dest=$3 arg=${4:-}
	if [ $# -ge 5 ]; then
		printf '$ printf %%s %s | qubesd-query %s %s %s %s\n' "'$5'" \
		    "$src" "$meth" "$dest" "$arg"
		out=$(printf %s "$5" | "$SERVICES/qubesd-query" \
		    -c "$T/run/qubesd.sock" "$src" "$meth" "$dest" "$arg" |
		    show)
	else
		printf '$ qubesd-query -e %s %s %s %s\n' "$src" "$meth" "$dest" \
		    "$arg"
		out=$("$SERVICES/qubesd-query" -e -c "$T/run/qubesd.sock" \
		    "$src" "$meth" "$dest" "$arg" | show)
	fi
	printf '%s\n\n' "${out:-(connection closed without a reply)}"
	case "$out" in
	0*) ok=$((ok + 1)) ;;
	*) bad=$((bad + 1)) ;;
	esac
}

echo "# A broker on $T, libvirt $URI"
echo
q dom0 admin.vmclass.List dom0
q dom0 admin.label.List dom0
q dom0 admin.property.Set dom0 default_kernel 6.6.0-demo
q dom0 admin.vm.Create.TemplateVM dom0 "" "name=fedora label=black"
q dom0 admin.property.Set dom0 default_template fedora
q dom0 admin.vm.Create.AppVM dom0 "" "name=sys-net label=red"
q dom0 admin.vm.property.Set sys-net provides_network True
q dom0 admin.vm.Create.AppVM dom0 fedora "name=work label=blue"
q dom0 admin.vm.property.Set work netvm sys-net
q dom0 admin.vm.property.Get work netvm
q dom0 admin.vm.property.Get work ip
q dom0 admin.vm.feature.Set work service.crond 1
q dom0 admin.vm.feature.CheckWithTemplate work service.crond
q dom0 admin.vm.tag.Set work project-x
q dom0 admin.vm.tag.List work
q dom0 admin.vm.List dom0
echo "# refusals: a write-once property, a loop, a bad name"
q dom0 admin.vm.property.Set work qid 42
q dom0 admin.vm.property.Set sys-net netvm work
q dom0 admin.vm.Create.AppVM dom0 "" "name=bad-dm label=red"
q dom0 admin.vm.Remove sys-net
echo "# everything above is in $T/base/qubes.xml:"
grep -c '<domain ' "$T/base/qubes.xml" | sed 's/^/qubes in qubes.xml: /'
echo
echo "demo: $ok calls answered OK, $bad refused or failed as expected"
