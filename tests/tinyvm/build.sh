#!/bin/sh
# Build the tiny test guest: a Debian 12 cloud kernel (downloaded with apt,
# never installed) and an initramfs whose /init is init.c.
#
#   tests/tinyvm/build.sh [OUTDIR]      (default: build/tinyvm in the tree)
#
# Produces OUTDIR/vmlinuz and OUTDIR/initramfs.cpio.gz.  Work already done
# is skipped; remove OUTDIR to start over (e.g. for a newer kernel).
# Needs: apt-get, dpkg-deb, gcc with static libc (libc6-dev), cpio, gzip.
# The kernel download (about 27 MB) needs network access to the Debian
# mirror configured for apt.
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
OUT=${1:-$HERE/../../build/tinyvm}
META=linux-image-cloud-amd64

say() { echo "tinyvm/build: $*" >&2; }
die() { say "$*"; exit 1; }

for t in apt-get apt-cache dpkg-deb gcc gzip; do
	command -v "$t" >/dev/null 2>&1 || die "$t not found"
done
command -v cpio >/dev/null 2>&1 ||
	{ say "cpio not found (install the Debian package cpio)"; exit 2; }

mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

# Kernel options the guest relies on; "module:NAME" ones may be =m, and
# then module NAME (and what it depends on) goes into the initramfs.
NEED="CONFIG_BLK_DEV_INITRD CONFIG_RD_GZIP CONFIG_DEVTMPFS CONFIG_ACPI
CONFIG_SERIAL_8250 CONFIG_SERIAL_8250_CONSOLE CONFIG_INPUT
CONFIG_ACPI_BUTTON:button CONFIG_INPUT_EVDEV:evdev CONFIG_VIRTIO:virtio
CONFIG_VIRTIO_PCI:virtio_pci CONFIG_VIRTIO_BLK:virtio_blk"

# ---- kernel and modules --------------------------------------------------
if [ ! -s "$OUT/vmlinuz" ] || [ ! -e "$OUT/kernel.done" ]; then
	if ! apt-cache show "$META" >/dev/null 2>&1; then
		if [ "$(id -u)" = 0 ]; then
			say "$META unknown to apt; running apt-get update"
			apt-get update -qq || die "apt-get update failed (no network?)"
		fi
		apt-cache show "$META" >/dev/null 2>&1 ||
		    die "$META unknown to apt (run apt-get update as root)"
	fi
	pkg=$(apt-cache depends "$META" 2>/dev/null |
	    sed -n 's/^ *Depends: *\(linux-image-[^ ]*-cloud-amd64\).*/\1/p' |
	    head -n 1)
	[ -n "$pkg" ] || die "cannot resolve the kernel package behind $META"

	rm -rf "$OUT/kernel" "$OUT/modules" "$OUT"/linux-image-*.deb
	say "downloading $pkg"
	(cd "$OUT" && apt-get download -q -o APT::Sandbox::User=root "$pkg") ||
	    die "apt-get download $pkg failed (no network or stale apt lists?)"
	first() { [ -e "$1" ] && echo "$1"; }
	deb=$(first "$OUT/$pkg"_*.deb) ||
	    die "apt-get download left no $pkg .deb in $OUT"
	dpkg-deb -x "$deb" "$OUT/kernel" || die "dpkg-deb -x $deb failed"

	vmlinuz=$(first "$OUT"/kernel/boot/vmlinuz-*) || die "no vmlinuz in $deb"
	config=$(first "$OUT"/kernel/boot/config-*) || die "no config in $deb"

	# Check the configuration; collect the modules to ship.
	want=""
	for item in $NEED; do
		opt=${item%%:*}
		val=$(sed -n "s/^$opt=//p" "$config")
		case "$val:$item" in
		y:*) ;;
		m:*:*) want="$want ${item#*:}" ;;
		*) die "$pkg: $opt is '${val:-not set}', the guest needs it" ;;
		esac
	done
	grep -q '^CONFIG_MODULE_COMPRESS_NONE=y' "$config" || [ -z "$want" ] ||
	    die "$pkg: modules are compressed; init.c loads plain .ko only"

	# Dependency closure, read from each module's .modinfo "depends=".
	kolist=$OUT/kernel/ko.list
	find "$OUT/kernel/lib/modules" -name '*.ko' >"$kolist"
	ko_of() {
		alt=$(echo "$1" | tr _ -)
		grep -m 1 -e "/$1\.ko\$" -e "/$alt\.ko\$" "$kolist" ||
		    die "$pkg: module $1 not found"
	}
	deps_of() {
		tr '\0' '\n' <"$(ko_of "$1")" | sed -n 's/^depends=//p' |
		    tr ',' ' '
	}
	all="" todo=$want
	while :; do
		# shellcheck disable=SC2086
		set -- $todo
		[ $# -gt 0 ] || break
		m=$1; shift; todo=$*
		case " $all " in *" $m "*) continue ;; esac
		ko_of "$m" >/dev/null
		all="$all $m"
		todo="$todo $(deps_of "$m")"
	done
	# Order: a module comes after everything it depends on.
	mkdir -p "$OUT/modules"
	done_="" n=10
	while [ -n "$all" ]; do
		left="" progress=0
		for m in $all; do
			ready=1
			for dep in $(deps_of "$m"); do
				case " $done_ " in *" $dep "*) ;; *) ready=0 ;; esac
			done
			if [ "$ready" = 1 ]; then
				cp "$(ko_of "$m")" "$OUT/modules/$n-$m.ko"
				done_="$done_ $m" n=$((n + 1)) progress=1
			else
				left="$left $m"
			fi
		done
		[ "$progress" = 1 ] || die "module dependency cycle among:$left"
		all=$left
	done

	cp "$vmlinuz" "$OUT/vmlinuz"
	cp "$config" "$OUT/config"
	echo "$pkg:$done_" >"$OUT/kernel.done"
	rm -rf "$OUT/kernel" "$deb"
	rm -f "$OUT/initramfs.cpio.gz"
	say "kernel $pkg, modules:$done_"
fi

# ---- /init ---------------------------------------------------------------
if [ ! -x "$OUT/init" ] ||
    [ -n "$(find "$HERE/init.c" -newer "$OUT/init")" ]; then
	gcc -std=c11 -static -Os -s -Wall -Wextra -Werror \
	    -o "$OUT/init" "$HERE/init.c" ||
	    die "cannot build init.c (static linking needs libc6-dev)"
	rm -f "$OUT/initramfs.cpio.gz"
fi

# ---- initramfs -----------------------------------------------------------
if [ ! -s "$OUT/initramfs.cpio.gz" ]; then
	root=$OUT/root
	rm -rf "$root"
	mkdir -p "$root/modules" "$root/dev" "$root/proc" "$root/sys"
	cp "$OUT/init" "$root/init"
	cp "$OUT"/modules/*.ko "$root/modules/" 2>/dev/null || :
	(cd "$root" && find . | LC_ALL=C sort |
	    cpio -o -H newc -R 0:0 --quiet) | gzip -9 >"$OUT/initramfs.tmp" ||
	    die "cannot write the initramfs"
	mv "$OUT/initramfs.tmp" "$OUT/initramfs.cpio.gz"
	rm -rf "$root"
	say "wrote $OUT/initramfs.cpio.gz"
fi
