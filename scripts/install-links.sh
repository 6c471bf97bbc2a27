#!/bin/sh
# Install the qrexec service executables and their /etc/qubes-rpc links.
#
#   sh scripts/install-links.sh DESTDIR SERVICES_BINDIR LIBEXECDIR [LIST]
#
# DESTDIR          staging root ("" or "/" for the live system)
# SERVICES_BINDIR  where the build put the executables ($(O)/services)
# LIBEXECDIR       their installed directory, /usr/lib/qubes-admin
# LIST             the link list, default qubes-rpc/links.txt
#
# For every line "<call> <executable>" of LIST: the executable is
# installed (mode 755) as DESTDIR/LIBEXECDIR/<executable>, once, and
# DESTDIR/etc/qubes-rpc/<call> becomes a symlink to LIBEXECDIR/<executable>
# (absolute, as seen on the installed system).  qrexec runs the link, so
# the executable sees the call name as basename(argv[0]).  An existing
# file or link of that name is replaced (qubesd 4.2's socket links, and
# its qubes.FeaturesRequest, qubes.NotifyTools and qubes.NotifyUpdates
# scripts, which link to qubes-misc here).  Exit status 0, or 1 on the
# first error (missing executable, malformed line).
set -eu

if [ $# -lt 3 ] || [ $# -gt 4 ]; then
	echo "usage: install-links.sh DESTDIR SERVICES_BINDIR LIBEXECDIR" \
	    "[LIST]" >&2
	exit 2
fi
destdir=${1%/}
bindir=$2
libexec=$3
list=${4:-$(dirname "$0")/../qubes-rpc/links.txt}

case $libexec in
/*) ;;
*) echo "install-links.sh: LIBEXECDIR must be absolute: $libexec" >&2
   exit 1 ;;
esac

install -d "$destdir$libexec" "$destdir/etc/qubes-rpc"
installed=" "
n=0
while read -r call exe rest; do
	case $call in
	''|'#'*) continue ;;
	esac
	# names from the call table: nothing that could escape the dirs
	case "$call$exe" in
	*/*|*..*) echo "install-links.sh: bad line: $call $exe" >&2; exit 1 ;;
	esac
	if [ -z "$exe" ] || [ -n "$rest" ]; then
		echo "install-links.sh: bad line: $call $exe $rest" >&2
		exit 1
	fi
	case $installed in
	*" $exe "*) ;;
	*)
		if [ ! -x "$bindir/$exe" ]; then
			echo "install-links.sh: no executable $bindir/$exe" >&2
			exit 1
		fi
		install -m 755 "$bindir/$exe" "$destdir$libexec/$exe"
		installed="$installed$exe "
		;;
	esac
	ln -sfn "$libexec/$exe" "$destdir/etc/qubes-rpc/$call"
	n=$((n + 1))
done <"$list"
echo "install-links.sh: $n links in $destdir/etc/qubes-rpc," \
    "executables:$installed" >&2
