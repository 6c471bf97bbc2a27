#!/usr/bin/env bats
# lvm_thin pool driver (storage.md 3.3) end to end through the Admin API:
# admin.pool.Add / Info / UsageDetails / volume.List, CreateInPool,
# volume.Info / Resize / ListSnapshots / Revert / CloneFrom+CloneTo,
# internal.vm.volume.ImportBegin/ImportEnd and qube removal, checked
# against what `lvs` reports.
#
# Every test runs twice, on two LVM back ends:
#
#   "real: ..."  the real LVM tools on a thin pool in a volume group made
#                for this file on a loop device over a sparse file
#                (setup_file; teardown_file always removes the VG and
#                detaches the loop device).  Needs root, lvm2,
#                thin-provisioning-tools and a kernel with dm-thin-pool;
#                without them every "real:" test is SKIPPED with the
#                reason (printed once at the start as well), never passed.
#   "fake: ..."  tests/tools/fake-lvm, which keeps LVs as sparse files
#                (the broker gets QUBES_BROKER_LVM and
#                QUBES_BROKER_LVM_DEVDIR); runs everywhere, unprivileged.
#                Fault injection (failing LVM commands) is fake-only.

load helpers

FAKE_LVM=$REPO_ROOT/tests/tools/fake-lvm
POOL_CFG_EXTRA='revisions_to_keep=2\n'

# ---------------------------------------------------------------------------
# the real back end: one VG for the whole file

# real_prepare: make the loop device, PV, VG, thin pool "pool" and a
# linear LV "plain"; on any missing prerequisite write the reason to
# $REAL_DIR/skip and return.
real_prepare() {
	local d=$REAL_DIR vg img loop out
	mkdir -p "$d"
	if [[ $(id -u) -ne 0 ]]; then
		echo "not running as root (uid $(id -u))" >"$d/skip"
		return
	fi
	for cmd in lvm losetup thin_check dmsetup; do
		if ! command -v "$cmd" >/dev/null 2>&1; then
			case $cmd in
			thin_check) echo "thin_check missing (Debian package" \
			    "thin-provisioning-tools)" >"$d/skip" ;;
			losetup) echo "losetup missing (util-linux)" \
			    >"$d/skip" ;;
			*) echo "$cmd missing (Debian package lvm2)" \
			    >"$d/skip" ;;
			esac
			return
		fi
	done
	if command -v modprobe >/dev/null 2>&1; then
		modprobe dm-thin-pool >/dev/null 2>&1 || true
	fi
	if [[ ! -e /dev/mapper/control ]] ||
	    ! dmsetup version >/dev/null 2>&1; then
		echo "the kernel has no device-mapper (/dev/mapper/control" \
		    "missing or unusable; modprobe dm-thin-pool did not" \
		    "help)" >"$d/skip"
		return
	fi
	img=$d/pv.img
	truncate -s 1G "$img"
	if ! loop=$(losetup -f --show "$img" 2>"$d/err"); then
		echo "cannot attach a loop device: $(head -c 300 "$d/err")" \
		    >"$d/skip"
		return
	fi
	echo "$loop" >"$d/loop"
	vg=qbats$$
	if ! out=$(pvcreate -qq "$loop" 2>&1) ||
	    ! out=$(vgcreate -qq "$vg" "$loop" 2>&1); then
		echo "pvcreate/vgcreate on $loop failed: ${out:0:300}" \
		    >"$d/skip"
		return
	fi
	echo "$vg" >"$d/vg"
	if ! out=$(lvcreate -qq -y --type thin-pool -L 512M -n pool "$vg" 2>&1); then
		if ! dmsetup targets 2>/dev/null | grep -q '^thin-pool'; then
			echo "the kernel lacks dm-thin-pool (lvcreate:" \
			    "${out:0:300})" >"$d/skip"
		else
			echo "cannot create a thin pool: ${out:0:300}" \
			    >"$d/skip"
		fi
		return
	fi
	if ! out=$(lvcreate -qq -y -L 8M -n plain "$vg" 2>&1); then
		echo "cannot create a linear LV: ${out:0:300}" >"$d/skip"
		return
	fi
}

# real_destroy: remove whatever real_prepare made (each step independent).
real_destroy() {
	local d=$REAL_DIR vg loop
	if [[ -f $d/vg ]]; then
		vg=$(<"$d/vg")
		vgremove -ff -y "$vg" >/dev/null 2>&1 ||
		    echo "# lvm.bats: vgremove $vg failed" >&3
	fi
	if [[ -f $d/loop ]]; then
		loop=$(<"$d/loop")
		pvremove -ff -y "$loop" >/dev/null 2>&1 || true
		losetup -d "$loop" 2>/dev/null ||
		    echo "# lvm.bats: losetup -d $loop failed" >&3
	fi
	rm -rf "$d"
}

setup_file() {
	export REAL_DIR=$BATS_FILE_TMPDIR/real
	# bats keeps descriptors open that LVM would warn about
	export LVM_SUPPRESS_FD_WARNINGS=1
	# make sure a half-made set-up is undone if preparing dies
	real_prepare || true
	if [[ -f $REAL_DIR/skip ]]; then
		echo "# lvm.bats: SKIPPING every \"real:\" test:" \
		    "$(<"$REAL_DIR/skip")" >&3
	fi
}

teardown_file() {
	real_destroy
}

# ---------------------------------------------------------------------------
# per test

# use_real / use_fake: set VG, DEVDIR, LVM (command array) and the
# broker's environment.
use_real() {
	if [[ -f $REAL_DIR/skip ]]; then
		skip "REAL LVM NOT AVAILABLE: $(<"$REAL_DIR/skip")"
	fi
	VG=$(<"$REAL_DIR/vg")
	DEVDIR=/dev
	LVM=(lvm)
	unset QUBES_BROKER_LVM QUBES_BROKER_LVM_DEVDIR
}

# the real lvm binary, no device-mapper needed (lvs only)
use_lvm2_tools() {
	if ! command -v lvm >/dev/null 2>&1; then
		skip "LVM2 TOOLS NOT INSTALLED (Debian package lvm2)"
	fi
	if [[ $(id -u) -ne 0 ]]; then
		skip "NOT ROOT: lvs needs root"
	fi
	VG=qbats-absent-$$
	DEVDIR=/dev
	LVM=(lvm)
	unset QUBES_BROKER_LVM QUBES_BROKER_LVM_DEVDIR
}

use_fake() {
	export FAKE_LVM_ROOT=$T/fakelvm
	VG=fakevg
	DEVDIR=$FAKE_LVM_ROOT/dev
	LVM=("$FAKE_LVM")
	export QUBES_BROKER_LVM=$FAKE_LVM
	export QUBES_BROKER_LVM_DEVDIR=$DEVDIR
	"$FAKE_LVM" fake-pool "$VG" pool 1073741824
	"$FAKE_LVM" fake-plain "$VG" plain 8388608
}

setup() {
	init_tmp
	make_base
	case $BATS_TEST_DESCRIPTION in
	real:*) use_real ;;
	fake:*) use_fake ;;
	lvm2:*) use_lvm2_tools ;;
	*) echo "test name without back end prefix" >&2; return 1 ;;
	esac
	start_broker
}

# real: remove every LV the test made (all but the pool and "plain")
clean_real_lvs() {
	local lv
	[[ ${LVM[0]} == lvm && -n ${VG:-} ]] || return 0
	for lv in $(lv_names); do
		[[ $lv == pool || $lv == plain ]] && continue
		lvremove -f -y "$VG/$lv" >/dev/null 2>&1 ||
		    echo "cannot remove $VG/$lv" >&2
	done
}

teardown() {
	local rc=0
	teardown_broker || rc=1
	clean_real_lvs || rc=1
	return $rc
}

# ---------------------------------------------------------------------------
# helpers

# lvs_rows FIELDS: "lv;field..." lines of every LV of $VG, report order
lvs_rows() {
	"${LVM[@]}" lvs --noheadings --units b --nosuffix --separator ';' \
	    -o "vg_name,lv_name,$1" 2>/dev/null |
	    awk -F';' -v OFS=';' -v vg="$VG" '{ sub(/^[ \t]+/, "", $1) }
	    $1 == vg { sub(/^[^;]*;/, ""); print }'
}

lv_names() {
	lvs_rows lv_size | cut -d';' -f1
}

# lv_get LV FIELDS: the fields (';'-separated) of one LV (fails if the LV is missing)
lv_get() {
	local row
	row=$(lvs_rows "$2" | awk -F';' -v lv="$1" '$1 == lv {
	    sub(/^[^;]*;/, ""); print; f = 1 } END { exit !f }') ||
	    { echo "no LV $VG/$1" >&2; return 1; }
	printf '%s\n' "$row"
}

expect_lv() {
	local size
	size=$(lv_get "$1" lv_size) || return 1
	if [[ -n ${2:-} && $size != "$2" ]]; then
		echo "LV $VG/$1 has size $size, expected $2" >&2
		return 1
	fi
}

expect_no_lv() {
	if lv_names | grep -qxF -- "$1"; then
		echo "LV $VG/$1 unexpectedly exists" >&2
		return 1
	fi
}

# expect_lvs_like REGEX: the sorted LV names (one line, space separated)
# match REGEX (anchored)
expect_lvs_like() {
	local got
	got=$(lv_names | LC_ALL=C sort | tr '\n' ' ')
	if [[ ! $got =~ ^$1$ ]]; then
		echo "LVs of $VG: '$got', expected /^$1\$/" >&2
		return 1
	fi
}

# dm_path LV: the path volume.Info reports for $VG/LV
dm_path() {
	printf '%s/mapper/%s-%s' "$DEVDIR" "${VG//-/--}" "${1//-/--}"
}

# lv_head LV N: the first N bytes of an LV
lv_head() {
	dd if="$DEVDIR/$VG/$1" bs="$2" count=1 status=none
}

# write_at PATH OFFSET TEXT
write_at() {
	printf '%s' "$3" | dd of="$1" bs=1 seek="$2" conv=notrunc,fsync \
	    status=none
}

add_pool() {
	callp "name=lvp\nvolume_group=$VG\nthin_pool=pool\n$POOL_CFG_EXTRA" \
	    dom0 admin.pool.Add dom0 lvm_thin
	expect_ok
}

# new_template NAME: a TemplateVM with every volume in lvp
new_template() {
	callp "name=$1 label=black pool=lvp" \
	    dom0 admin.vm.CreateInPool.TemplateVM dom0
	expect_ok
}

# usage_of SIZE PERCENT: int(size / 100 * percent), the reference formula
usage_of() {
	awk -v s="$1" -v p="$2" 'BEGIN { printf "%d", s / 100 * p }'
}

# import NAME VOLUME TEXT: ImportBegin (current size), write TEXT at 0,
# ImportEnd ok
import_text() {
	local size path
	call_on internal -e dom0 internal.vm.volume.ImportBegin "$1" "$2"
	expect_reply_re '^0\\0[0-9]+ /'
	read -r size path < <(tail -c +3 "$REPLY_FILE"; echo)
	write_at "$path" 0 "$3"
	callp_on internal 'ok' dom0 internal.vm.volume.ImportEnd "$1" "$2"
	expect_ok
}

callp_on() {
	local CALL_SOCK payload=$2
	CALL_SOCK=$(sock_path "$1") || return 2
	shift 2
	callp "$payload" "$@"
}

# ---------------------------------------------------------------------------
# test bodies (each registered for both back ends at the end)

t_pool_add_refusals() {
	callp "name=lvbad\nvolume_group=$VG\nthin_pool=nope\n" \
	    dom0 admin.pool.Add dom0 lvm_thin
	expect_exc StoragePoolException "Thin pool $VG/nope does not exist"
	# a thin volume is in the report but is no thin pool
	"${LVM[@]}" lvcreate --thin --setactivationskip=n --activate=y \
	    --name=thinvol --virtualsize=4194304B -- "$VG/pool" >/dev/null 2>&1
	callp "name=lvbad\nvolume_group=$VG\nthin_pool=thinvol\n" \
	    dom0 admin.pool.Add dom0 lvm_thin
	expect_exc StoragePoolException "Volume $VG/thinvol is not a thin pool"
	# quirk: a linear LV has no data_percent, the reference's report
	# parser skips such rows, so it "does not exist"
	callp "name=lvbad\nvolume_group=$VG\nthin_pool=plain\n" \
	    dom0 admin.pool.Add dom0 lvm_thin
	expect_exc StoragePoolException "Thin pool $VG/plain does not exist"
	callp "name=lvbad\nvolume_group=no-such-vg\nthin_pool=pool\n" \
	    dom0 admin.pool.Add dom0 lvm_thin
	expect_exc StoragePoolException "Thin pool no-such-vg/pool does not exist"
	call -e dom0 admin.pool.List dom0
	expect_ok 'varlibqubes\nlinux-kernel\n'
}

t_pool_info() {
	local size pct msize mpct
	add_pool
	call -e dom0 admin.pool.ListDrivers dom0
	expect_reply_re '\\nlvm_thin revisions_to_keep volume_group thin_pool ephemeral_volatile\\n'
	IFS=';' read -r size pct msize mpct \
	    < <(lv_get pool 'lv_size,data_percent,lv_metadata_size,metadata_percent')
	call -e dom0 admin.pool.Info dom0 lvp
	expect_ok "driver=lvm_thin\nephemeral_volatile=False\nname=lvp\nrevisions_to_keep=2\nthin_pool=pool\nvolume_group=$VG\nsize=$size\nusage=$(usage_of "$size" "$pct")\n"
	call -e dom0 admin.pool.UsageDetails dom0 lvp
	expect_ok "data_size=$size\ndata_usage=$(usage_of "$size" "$pct")\nmetadata_size=$msize\nmetadata_usage=$(usage_of "$msize" "$mpct")\n"
	call -e dom0 admin.pool.volume.List dom0 lvp
	expect_ok
	# survives a broker restart (qubes.xml) and is still usable
	stop_broker
	start_broker
	call -e dom0 admin.pool.volume.List dom0 lvp
	expect_ok
}

t_create_info_remove() {
	add_pool
	new_template lt
	expect_lv vm-lt-root 10737418240
	expect_lv vm-lt-private 2147483648
	# volatile volumes are made at start, not at creation
	expect_no_lv vm-lt-volatile
	callp 'name=la label=red pool=lvp' \
	    dom0 admin.vm.CreateInPool.AppVM dom0 lt
	expect_ok
	expect_lv vm-la-private 2147483648
	# snapshot volumes too
	expect_no_lv vm-la-root
	call -e dom0 admin.pool.volume.List dom0 lvp
	expect_ok "$VG/vm-la-private\n$VG/vm-lt-private\n$VG/vm-lt-root\n"

	call -e dom0 admin.vm.volume.Info la private
	expect_ok "pool=lvp\nvid=$VG/vm-la-private\nsize=2147483648\nusage=0\nrw=True\nsource=\npath=$(dm_path vm-la-private)\nsave_on_stop=True\nsnap_on_start=False\nrevisions_to_keep=2\nephemeral=False\nis_outdated=False\n"
	call -e dom0 admin.vm.volume.Info la root
	expect_ok "pool=lvp\nvid=$VG/vm-la-root\nsize=10737418240\nusage=0\nrw=True\nsource=$VG/vm-lt-root\npath=$(dm_path vm-la-root)\nsave_on_stop=False\nsnap_on_start=True\nrevisions_to_keep=2\nephemeral=False\nis_outdated=False\n"
	call -e dom0 admin.vm.volume.Info la volatile
	expect_ok "pool=lvp\nvid=$VG/vm-la-volatile\nsize=10737418240\nusage=0\nrw=True\nsource=\npath=$(dm_path vm-la-volatile)\nsave_on_stop=False\nsnap_on_start=False\nrevisions_to_keep=2\nephemeral=False\nis_outdated=False\n"
	call -e dom0 admin.vm.volume.ListSnapshots la private
	expect_ok

	call -e dom0 admin.vm.Remove la
	expect_ok
	expect_no_lv vm-la-private
	call -e dom0 admin.vm.Remove lt
	expect_ok
	expect_lvs_like 'plain pool '
	call -e dom0 admin.pool.volume.List dom0 lvp
	expect_ok
}

t_create_fails_cleanly() {
	add_pool
	# an LV that is in the way: creation fails with LVM's message and
	# what was made before is removed again
	"${LVM[@]}" lvcreate --thin --setactivationskip=n --activate=y \
	    --name=vm-lx-private --virtualsize=4194304B -- "$VG/pool" \
	    >/dev/null 2>&1
	callp "name=lx label=black pool=lvp" \
	    dom0 admin.vm.CreateInPool.TemplateVM dom0
	expect_reply_re '^2\\0StoragePoolException\\0\\0.*Logical [Vv]olume "vm-lx-private" already exists in volume group'
	expect_no_lv vm-lx-root
	expect_lv vm-lx-private 4194304
	call -e dom0 admin.vm.List lx
	expect_exc QubesVMNotFoundError "No such domain: 'lx'"
}

t_resize() {
	local vid=$VG/vm-lt-private
	add_pool
	new_template lt
	callp '3221225472' dom0 admin.vm.volume.Resize lt private
	expect_ok
	expect_lv vm-lt-private 3221225472
	call -e dom0 admin.vm.volume.Info lt private
	expect_reply_re '^0\\0pool=lvp\\nvid=[^\\]*\\nsize=3221225472\\n'
	callp '1073741824' dom0 admin.vm.volume.Resize lt private
	expect_exc StoragePoolException "For your own safety, shrinking of private is disabled (1073741824 < 3221225472). If you really know what you are doing, use \`lvresize\` on $vid manually."
	# same size: nothing to do
	callp '3221225472' dom0 admin.vm.volume.Resize lt private
	expect_ok
	# volatile: only the configured size
	callp '21474836480' dom0 admin.vm.volume.Resize lt volatile
	expect_ok
	expect_no_lv vm-lt-volatile
	call -e dom0 admin.vm.volume.Info lt volatile
	expect_reply_re '\\nsize=21474836480\\n'
	# a snapshot volume of a halted qube: lvextend of the missing -snap
	callp 'name=la label=red pool=lvp' \
	    dom0 admin.vm.CreateInPool.AppVM dom0 lt
	expect_ok
	callp '21474836480' dom0 admin.vm.volume.Resize la root
	expect_reply_re "^2\\\\0StoragePoolException\\\\0\\\\0.*vm-la-root-snap"
	# read-only
	callp 'False' dom0 admin.vm.volume.Set.rw lt private
	expect_ok
	callp '4294967296' dom0 admin.vm.volume.Resize lt private
	expect_exc StoragePoolException "Can not resize readonly volume $vid"
	expect_lv vm-lt-private 3221225472
}

t_import() {
	local vid=$VG/vm-lt-private revs
	add_pool
	new_template lt
	callp_on internal '8388608' dom0 internal.vm.volume.ImportBegin lt private
	expect_ok "8388608 $DEVDIR/$vid-import"
	expect_lv vm-lt-private-import 8388608
	callp_on internal '8388608' dom0 internal.vm.volume.ImportBegin lt private
	expect_exc StoragePoolException "Import operation in progress on $vid"
	write_at "$DEVDIR/$vid-import" 0 IMPORTED
	callp_on internal 'ok' dom0 internal.vm.volume.ImportEnd lt private
	expect_ok
	expect_no_lv vm-lt-private-import
	expect_lv vm-lt-private 8388608
	[[ $(lv_head vm-lt-private 8) == IMPORTED ]]
	call -e dom0 admin.vm.volume.ListSnapshots lt private
	expect_reply_re '^0\\0[0-9]+-back\\n$'
	revs=$(tail -c +3 "$REPLY_FILE")
	expect_lv "vm-lt-private-$revs" 2147483648
	callp_on internal 'ok' dom0 internal.vm.volume.ImportEnd lt private
	expect_exc StoragePoolException "No import operation in progress on $vid"

	# a failed import discards the -import LV and keeps the state
	callp_on internal '4194304' dom0 internal.vm.volume.ImportBegin lt private
	expect_ok "4194304 $DEVDIR/$vid-import"
	callp_on internal 'fail\nboom' dom0 internal.vm.volume.ImportEnd lt private
	expect_exc QubesException 'Data import failed: boom'
	expect_no_lv vm-lt-private-import
	expect_lv vm-lt-private 8388608

	# revisions_to_keep=2: the third commit prunes the oldest revision
	sleep 1.1
	import_text lt private SECOND
	sleep 1.1
	import_text lt private THIRD
	call -e dom0 admin.vm.volume.ListSnapshots lt private
	expect_reply_re '^0\\0[0-9]+-back\\n[0-9]+-back\\n$'
	refute grep -qF "$revs" "$REPLY_FILE"
	[[ $(lv_head vm-lt-private 5) == THIRD ]]

	# no import into volumes without save_on_stop (silent close)
	call_on internal -e dom0 internal.vm.volume.ImportBegin lt volatile
	expect_silent
	call_on internal -e dom0 internal.vm.volume.ImportEnd lt volatile
	expect_silent
}

t_revert() {
	local vid=$VG/vm-lt-private rev
	add_pool
	new_template lt
	import_text lt private NEWDATA
	call -e dom0 admin.vm.volume.ListSnapshots lt private
	rev=$(tail -c +3 "$REPLY_FILE")
	rev=${rev%$'\n'}
	[[ $(lv_head vm-lt-private 7) == NEWDATA ]]
	callp "$rev" dom0 admin.vm.volume.Revert lt private
	expect_ok
	# the current state is discarded, the revision kept
	[[ $(lv_head vm-lt-private 7 | tr -d '\0') == "" ]]
	expect_lv vm-lt-private 2147483648
	expect_lv "vm-lt-private-$rev" 2147483648
	call -e dom0 admin.vm.volume.ListSnapshots lt private
	expect_ok "$rev\n"
	# an unknown revision is refused by the API
	callp '1-back' dom0 admin.vm.volume.Revert lt private
	expect_silent

	# a running (dirty) volume: -snap exists
	"${LVM[@]}" lvcreate --setactivationskip=n --activate=y --snapshot \
	    --type=thin --name=vm-lt-private-snap -- "$vid" >/dev/null 2>&1
	expect_lv vm-lt-private-snap
	callp "$rev" dom0 admin.vm.volume.Revert lt private
	expect_exc StoragePoolException "Cannot revert dirty volume $vid, stop the qube first"
	call_on internal -e dom0 internal.vm.volume.ImportBegin lt private
	expect_exc StoragePoolException "Cannot import data to dirty volume $vid, stop the qube first"
	# the size of a dirty volume is the -snap's
	callp '3221225472' dom0 admin.vm.volume.Resize lt private
	expect_ok
	expect_lv vm-lt-private-snap 3221225472
	expect_lv vm-lt-private 2147483648
	call -e dom0 admin.vm.volume.Info lt private
	expect_reply_re '\\nsize=3221225472\\n'
	# import in progress
	"${LVM[@]}" lvremove --force -- "$vid-snap" >/dev/null 2>&1
	call_on internal -e dom0 internal.vm.volume.ImportBegin lt private
	expect_ok "2147483648 $DEVDIR/$vid-import"
	callp "$rev" dom0 admin.vm.volume.Revert lt private
	expect_exc StoragePoolException "Import operation in progress on $vid"
}

t_remove_everything() {
	add_pool
	new_template lt
	import_text lt private ONE
	call_on internal -e dom0 internal.vm.volume.ImportBegin lt root
	expect_reply_re '^0\\0'
	"${LVM[@]}" lvcreate --setactivationskip=n --activate=y --snapshot \
	    --type=thin --name=vm-lt-private-snap -- "$VG/vm-lt-private" \
	    >/dev/null 2>&1
	expect_lvs_like 'plain pool vm-lt-private vm-lt-private-[0-9]+-back vm-lt-private-snap vm-lt-root vm-lt-root-import '
	call -e dom0 admin.vm.Remove lt
	expect_ok
	expect_lvs_like 'plain pool '
}

t_clone_same_pool() {
	local origin
	add_pool
	new_template lt
	new_template lu
	import_text lt private CLONEME
	call -e dom0 admin.vm.volume.CloneFrom lt private
	expect_reply_re '^0\\0[A-Za-z0-9]{32}$'
	tail -c +3 "$REPLY_FILE" >"$T/token"
	call dom0 admin.vm.volume.CloneTo lu private <"$T/token"
	expect_ok
	[[ $(lv_head vm-lu-private 7) == CLONEME ]]
	# a thin snapshot of the source's current LV; the old one a revision
	origin=$(lv_get vm-lu-private origin)
	[[ $origin == vm-lt-private ]] ||
	    { echo "origin of vm-lu-private: '$origin'" >&2; false; }
	call -e dom0 admin.vm.volume.ListSnapshots lu private
	expect_reply_re '^0\\0[0-9]+-back\\n$'
	# the source is unchanged
	[[ $(lv_head vm-lt-private 7) == CLONEME ]]
}

t_clone_from_file_pool() {
	local img=$BASE/appvms/work/private.img
	add_pool
	new_template lt
	write_at "$img" 0 FROMFILE
	write_at "$img" 1048576 MIDDLE
	call -e dom0 admin.vm.volume.CloneFrom work private
	expect_reply_re '^0\\0[A-Za-z0-9]{32}$'
	tail -c +3 "$REPLY_FILE" >"$T/token"
	call dom0 admin.vm.volume.CloneTo lt private <"$T/token"
	expect_ok
	expect_no_lv vm-lt-private-import
	expect_lv vm-lt-private 2147483648
	[[ $(lv_head vm-lt-private 8) == FROMFILE ]]
	[[ $(dd if="$DEVDIR/$VG/vm-lt-private" bs=1 skip=1048576 count=6 \
	    status=none) == MIDDLE ]]
	call -e dom0 admin.vm.volume.ListSnapshots lt private
	expect_reply_re '^0\\0[0-9]+-back\\n$'
}

t_outdated() {
	add_pool
	new_template lt
	callp 'name=la label=red pool=lvp' \
	    dom0 admin.vm.CreateInPool.AppVM dom0 lt
	expect_ok
	# as if la were running: its root snapshot of the template's root
	"${LVM[@]}" lvcreate --setactivationskip=n --activate=y --snapshot \
	    --type=thin --name=vm-la-root-snap -- "$VG/vm-lt-root" \
	    >/dev/null 2>&1
	call -e dom0 admin.vm.volume.Info la root
	expect_reply_re '\\nsize=10737418240\\n.*\\nis_outdated=False\\n$'
	# the template's root changes: la's snapshot is outdated
	import_text lt root NEWROOT
	call -e dom0 admin.vm.volume.Info la root
	expect_reply_re '\\nis_outdated=True\\n$'
	call -e dom0 admin.vm.volume.Info lt root
	expect_reply_re '\\nis_outdated=False\\n$'
}

# fake only: LVM failures reach the caller as the reference reports them
t_lvm_failures() {
	add_pool
	new_template lt
	# stderr of the failing command, the thin over-provisioning warning
	# dropped, '%' doubled (_process_lvm_output)
	printf '  WARNING: Sum of all thin volume sizes (1 B) exceeds the size of thin pool x (0 B).\n  Insufficient free space: 100%% used\n' \
	    >"$FAKE_LVM_ROOT/fail.lvextend"
	callp '4294967296' dom0 admin.vm.volume.Resize lt private
	expect_exc StoragePoolException '  Insufficient free space: 100%% used'
	# a failure without a message: the reference asserts (silent close)
	: >"$FAKE_LVM_ROOT/fail.lvextend"
	callp '4294967296' dom0 admin.vm.volume.Resize lt private
	expect_silent
	rm "$FAKE_LVM_ROOT/fail.lvextend"
	# lvs failing when a pool is added
	echo '  Reading VG qubes failed.' >"$FAKE_LVM_ROOT/fail.lvs"
	callp "name=lv2\nvolume_group=$VG\nthin_pool=pool\n" \
	    dom0 admin.pool.Add dom0 lvm_thin
	expect_reply_re '^2\\0StoragePoolException\\0\\0.*Reading VG qubes failed'
	rm "$FAKE_LVM_ROOT/fail.lvs"
	# the exact command lines, as the reference builds them
	grep -qxF "lvcreate --thin --setactivationskip=n --activate=y --name=vm-lt-private --virtualsize=2147483648B -- $VG/pool" "$FAKE_LVM_ROOT/log"
	grep -qxF "lvextend --size=4294967296B -- $VG/vm-lt-private" "$FAKE_LVM_ROOT/log"
	grep -qxF "lvs --noheadings --units b --nosuffix --separator ; -o vg_name,pool_lv,lv_name,lv_size,data_percent,lv_attr,origin,lv_metadata_size,metadata_percent" "$FAKE_LVM_ROOT/log"
}

# fake only: non-Qubes LVs of the pool are listed, other pools' are not
t_volume_list_filter() {
	"$FAKE_LVM" fake-pool "$VG" pool2 1073741824
	for n in mine other-snap x-import y-123-back; do
		"$FAKE_LVM" lvcreate --thin --setactivationskip=n --activate=y \
		    --name="$n" --virtualsize=4194304B -- "$VG/pool" >/dev/null 2>&1
	done
	"$FAKE_LVM" lvcreate --thin --setactivationskip=n --activate=y \
	    --name=elsewhere --virtualsize=4194304B -- "$VG/pool2" >/dev/null 2>&1
	# (made before the pool is added: like the reference, the listing
	# uses the LVM report cached up to 30 s)
	add_pool
	call -e dom0 admin.pool.volume.List dom0 lvp
	expect_ok "$VG/mine\n"
}

t_lvm2_missing_vg() {
	callp "name=lvp\nvolume_group=$VG\nthin_pool=pool\n" \
	    dom0 admin.pool.Add dom0 lvm_thin
	expect_exc StoragePoolException "Thin pool $VG/pool does not exist"
	call -e dom0 admin.pool.List dom0
	expect_ok 'varlibqubes\nlinux-kernel\n'
}

# ---------------------------------------------------------------------------

@test "lvm2: the real lvs: pool.Add of a missing volume group is refused" { t_lvm2_missing_vg; }
@test "fake: pool.Add refusals: missing thin pool, not a thin pool" { t_pool_add_refusals; }
@test "real: pool.Add refusals: missing thin pool, not a thin pool" { t_pool_add_refusals; }
@test "fake: pool.Add, ListDrivers, Info, UsageDetails, volume.List" { t_pool_info; }
@test "real: pool.Add, ListDrivers, Info, UsageDetails, volume.List" { t_pool_info; }
@test "fake: CreateInPool makes thin LVs; volume.Info; Remove removes them" { t_create_info_remove; }
@test "real: CreateInPool makes thin LVs; volume.Info; Remove removes them" { t_create_info_remove; }
@test "fake: CreateInPool failing in LVM undoes what it made" { t_create_fails_cleanly; }
@test "real: CreateInPool failing in LVM undoes what it made" { t_create_fails_cleanly; }
@test "fake: Resize: grow, shrink refused, volatile, snapshot, read-only" { t_resize; }
@test "real: Resize: grow, shrink refused, volatile, snapshot, read-only" { t_resize; }
@test "fake: ImportBegin/ImportEnd: -import LV, commit, revisions, prune" { t_import; }
@test "real: ImportBegin/ImportEnd: -import LV, commit, revisions, prune" { t_import; }
@test "fake: Revert discards current, keeps revision; dirty/import refusals" { t_revert; }
@test "real: Revert discards current, keeps revision; dirty/import refusals" { t_revert; }
@test "fake: Remove drops -snap, -import, revisions and current" { t_remove_everything; }
@test "real: Remove drops -snap, -import, revisions and current" { t_remove_everything; }
@test "fake: CloneTo in the same thin pool is a thin snapshot" { t_clone_same_pool; }
@test "real: CloneTo in the same thin pool is a thin snapshot" { t_clone_same_pool; }
@test "fake: CloneTo from a file pool copies the data sparsely" { t_clone_from_file_pool; }
@test "real: CloneTo from a file pool copies the data sparsely" { t_clone_from_file_pool; }
@test "fake: is_outdated: -snap origin is not the source's current LV" { t_outdated; }
@test "real: is_outdated: -snap origin is not the source's current LV" { t_outdated; }
@test "fake: LVM failures: stderr filtered and escaped, silent, lvs" { t_lvm_failures; }
@test "fake: pool.volume.List filters helper LVs and other pools" { t_volume_list_filter; }
