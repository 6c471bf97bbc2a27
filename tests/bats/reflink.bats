#!/usr/bin/env bats
# file-reflink pool driver (storage.md 3.2) end to end through the Admin
# API: admin.pool.Add (with its reflink check) / Info / UsageDetails /
# volume.List, CreateInPool, volume.Info / Resize / ListSnapshots /
# Revert / CloneFrom+CloneTo, internal.vm.volume.ImportBegin/ImportEnd
# and qube removal, checked against the files on disk.
#
# "btrfs: ..." tests run on a btrfs made for this file on a loop device
# over a sparse 1 GiB file, mounted under BATS_FILE_TMPDIR (setup_file;
# teardown_file always unmounts it and detaches the loop device).  They
# need root, mkfs.btrfs (Debian package btrfs-progs) and a kernel with
# btrfs; without them every "btrfs:" test is SKIPPED with the reason
# (printed once at the start as well), never passed.  The driver's own
# C test (build/tests/test_reflink) runs there too, with
# REFLINK_TEST_DIR: it covers start/stop, which no call reaches yet.
#
# "plain: ..." tests run on the test's temporary directory, which must
# not support reflinks (ext4, tmpfs); they are skipped otherwise.

load helpers

UNIT_TEST=${TOOLS_DIR:-$REPO_ROOT/build/tests/tools}/../test_reflink

# ---------------------------------------------------------------------------
# the btrfs: one for the whole file

# btrfs_prepare: make the image, loop device, file system and mount; on
# any missing prerequisite write the reason to $BTRFS_DIR/skip.
btrfs_prepare() {
	local d=$BTRFS_DIR img loop
	mkdir -p "$d"
	if [[ $(id -u) -ne 0 ]]; then
		echo "not running as root (uid $(id -u))" >"$d/skip"
		return
	fi
	if ! command -v mkfs.btrfs >/dev/null 2>&1; then
		echo "mkfs.btrfs missing (Debian package btrfs-progs)" \
		    >"$d/skip"
		return
	fi
	if ! command -v losetup >/dev/null 2>&1; then
		echo "losetup missing (util-linux)" >"$d/skip"
		return
	fi
	img=$d/btrfs.img
	truncate -s 1G "$img"
	if ! mkfs.btrfs -q -f "$img" >"$d/err" 2>&1; then
		echo "mkfs.btrfs failed: $(head -c 300 "$d/err")" >"$d/skip"
		return
	fi
	if ! loop=$(losetup -f --show "$img" 2>"$d/err"); then
		echo "cannot attach a loop device: $(head -c 300 "$d/err")" \
		    >"$d/skip"
		return
	fi
	echo "$loop" >"$d/loop"
	mkdir -p "$d/mnt"
	if ! mount -t btrfs "$loop" "$d/mnt" 2>"$d/err"; then
		echo "cannot mount btrfs from $loop (kernel without btrfs?):" \
		    "$(head -c 300 "$d/err")" >"$d/skip"
		return
	fi
	echo "$d/mnt" >"$d/mounted"
}

# btrfs_destroy: undo whatever btrfs_prepare made (each step independent).
btrfs_destroy() {
	local d=$BTRFS_DIR loop i
	if [[ -f $d/mounted ]]; then
		for ((i = 0; i < 50; i++)); do
			umount "$d/mnt" 2>/dev/null && break
			sleep 0.1
		done
		if ((i == 50)); then
			echo "# reflink.bats: umount $d/mnt failed; lazy" >&3
			umount -l "$d/mnt" 2>/dev/null || true
		fi
	fi
	if [[ -f $d/loop ]]; then
		loop=$(<"$d/loop")
		losetup -d "$loop" 2>/dev/null ||
		    echo "# reflink.bats: losetup -d $loop failed" >&3
	fi
	rm -rf "$d"
}

setup_file() {
	export BTRFS_DIR=$BATS_FILE_TMPDIR/btrfs
	btrfs_prepare || true
	if [[ -f $BTRFS_DIR/skip ]]; then
		echo "# reflink.bats: SKIPPING every \"btrfs:\" test:" \
		    "$(<"$BTRFS_DIR/skip")" >&3
	fi
}

teardown_file() {
	btrfs_destroy
}

# ---------------------------------------------------------------------------
# per test

setup() {
	init_tmp
	case $BATS_TEST_DESCRIPTION in
	btrfs:*)
		if [[ -f $BTRFS_DIR/skip ]]; then
			skip "BTRFS NOT AVAILABLE: $(<"$BTRFS_DIR/skip")"
		fi
		# a directory of its own on the shared file system
		TOP=$BTRFS_DIR/mnt/t$BATS_TEST_NUMBER
		rm -rf "$TOP"
		mkdir -p "$TOP"
		;;
	plain:*)
		TOP=$T/plain
		mkdir -p "$TOP"
		if has_reflink "$TOP"; then
			skip "$TOP supports reflinks: no refusal to test"
		fi
		;;
	*) echo "test name without prefix" >&2; return 1 ;;
	esac
	P=$TOP/pool
	make_base
	start_broker
}

teardown() {
	local rc=0 loop
	if [[ -f $T/loops ]]; then
		while read -r loop; do
			losetup -d "$loop" 2>/dev/null || true
		done <"$T/loops"
	fi
	teardown_broker || rc=1
	if [[ -n ${TOP:-} && $TOP == "$BTRFS_DIR"/mnt/* ]]; then
		rm -rf "$TOP"
	fi
	return $rc
}

# ---------------------------------------------------------------------------
# helpers

# has_reflink DIR: can DIR hold reflink copies?
has_reflink() {
	local ok=1
	printf foo >"$1/.probe-a"
	cp --reflink=always "$1/.probe-a" "$1/.probe-b" 2>/dev/null || ok=0
	rm -f "$1/.probe-a" "$1/.probe-b"
	((ok))
}

# re STRING: STRING with the bash-regex specials escaped
re() {
	printf '%s' "$1" | sed 's/[][\.*^$+?(){}|/]/\\&/g'
}

add_pool() {
	callp "name=rp\ndir_path=$P\n${1:-}" dom0 admin.pool.Add dom0 \
	    file-reflink
	expect_ok
}

new_template() {
	callp "name=$1 label=black pool=rp" \
	    dom0 admin.vm.CreateInPool.TemplateVM dom0
	expect_ok
}

new_appvm() {
	callp "name=$1 label=red pool=rp" \
	    dom0 admin.vm.CreateInPool.AppVM dom0 "$2"
	expect_ok
}

callp_on() {
	local CALL_SOCK payload=$2
	CALL_SOCK=$(sock_path "$1") || return 2
	shift 2
	callp "$payload" "$@"
}

# write_at PATH OFFSET TEXT
write_at() {
	printf '%s' "$3" | dd of="$1" bs=1 seek="$2" conv=notrunc,fsync \
	    status=none
}

# head_of PATH N: the first N bytes
head_of() {
	dd if="$1" bs="$2" count=1 status=none
}

# import_text QUBE VOLUME TEXT: ImportBegin (current size), write TEXT at
# 0, ImportEnd ok
import_text() {
	local size path
	call_on internal -e dom0 internal.vm.volume.ImportBegin "$1" "$2"
	expect_reply_re '^0\\0[0-9]+ /'
	read -r size path < <(tail -c +3 "$REPLY_FILE"; echo)
	[[ $path == */"$2"-import.img ]] ||
	    { echo "import path '$path'" >&2; return 1; }
	write_at "$path" 0 "$3"
	callp_on internal 'ok' dom0 internal.vm.volume.ImportEnd "$1" "$2"
	expect_ok
}

# files DIR: the names in DIR, sorted, one line, revision timestamps
# cut after the '@'
files() {
	(cd "$1" 2>/dev/null && ls -A) | sed 's/@.*/@/' | LC_ALL=C sort |
	    tr '\n' ' '
}

expect_files() {
	local got
	got=$(files "$1")
	if [[ $got != "$2" ]]; then
		echo "files in $1: '$got'" >&2
		echo "expected:    '$2'" >&2
		return 1
	fi
}

expect_size() {
	local got
	got=$(stat -c %s "$1") || return 1
	if [[ $got != "$2" ]]; then
		echo "$1: size $got, expected $2" >&2
		return 1
	fi
}

same_inode() {
	[[ $(stat -c %d:%i "$1") == "$(stat -c %d:%i "$2")" ]]
}

# ---------------------------------------------------------------------------
# tests

@test "plain: pool.Add without reflinks: refused, new directory removed" {
	callp "name=rp\ndir_path=$P\n" dom0 admin.pool.Add dom0 file-reflink
	expect_exc StoragePoolException "The filesystem for '$P' does not support reflinks. If you can live with VM startup delays and wasted disk space, pass the \"setup_check=False\" option."
	[[ ! -e $P ]] || { echo "$P left behind" >&2; false; }
	call -e dom0 admin.pool.List dom0
	expect_ok 'varlibqubes\nlinux-kernel\n'
	expect_xml_lacks 'name="rp"'
	# an existing directory is kept
	mkdir "$P"
	callp "name=rp\ndir_path=$P\nsetup_check=True\n" \
	    dom0 admin.pool.Add dom0 file-reflink
	expect_reply_re '^2\\0StoragePoolException\\0\\0The filesystem for '
	[[ -d $P ]]
	expect_files "$P" ''
}

@test "plain: pool.Add with setup_check=False skips the check" {
	add_pool 'setup_check=False\n'
	expect_files "$P" 'appvms vm-templates '
	call -e dom0 admin.pool.Info dom0 rp
	expect_reply_re "^0\\\\0dir_path=$(re "$P")\\\\ndriver=file-reflink\\\\n"
	expect_xml_lacks 'setup_check'
}

@test "btrfs: the driver's C test (start/stop, revisions, import, clone)" {
	[[ -x $UNIT_TEST ]] || { echo "no $UNIT_TEST (make all)" >&2; false; }
	mkdir -p "$TOP/unit"
	run env REFLINK_TEST_DIR="$TOP/unit" "$UNIT_TEST"
	if [[ $status -ne 0 ]]; then
		printf '%s\n' "$output" | grep -v '^ok' >&2
		false
	fi
	[[ $output == *"REFLINK_TEST_DIR"* ]] &&
	    { echo "life test did not run" >&2; false; }
	[[ ${lines[-1]} =~ ^[0-9]+\ passed,\ 0\ failed$ ]]
}

@test "btrfs: pool.Add, ListDrivers, Info, UsageDetails, volume.List" {
	call -e dom0 admin.pool.ListDrivers dom0
	expect_reply_re '\\nfile-reflink revisions_to_keep dir_path setup_check ephemeral_volatile\\n'
	add_pool
	expect_files "$P" 'appvms vm-templates '
	call -e dom0 admin.pool.Info dom0 rp
	expect_reply_re "^0\\\\0dir_path=$(re "$P")\\\\ndriver=file-reflink\\\\nephemeral_volatile=False\\\\nname=rp\\\\nrevisions_to_keep=1\\\\nsize=[1-9][0-9]*\\\\nusage=[0-9]+\\\\n$"
	call -e dom0 admin.pool.UsageDetails dom0 rp
	expect_reply_re '^0\\0data_size=[1-9][0-9]*\\ndata_usage=[0-9]+\\n$'
	call -e dom0 admin.pool.volume.List dom0 rp
	expect_ok
	expect_xml_has "dir_path=\"$P\" driver=\"file-reflink\""
	expect_xml_lacks 'setup_check'
	# the directory exists already: fine
	callp "name=rp2\ndir_path=$P\n" dom0 admin.pool.Add dom0 file-reflink
	expect_ok
	# survives a restart
	stop_broker
	start_broker
	call -e dom0 admin.pool.volume.List dom0 rp
	expect_ok
}

@test "btrfs: CreateInPool makes images; volume.List; Remove removes them" {
	add_pool
	new_template rt
	expect_files "$P/vm-templates/rt" 'private-precache.img private.img root-precache.img root.img '
	expect_size "$P/vm-templates/rt/root.img" 10737418240
	expect_size "$P/vm-templates/rt/private.img" 2147483648
	[[ $(stat -c %Y "$P/vm-templates/rt/root.img") == \
	    "$(stat -c %Y "$P/vm-templates/rt/root-precache.img")" ]]
	new_appvm ra rt
	# snapshot and volatile volumes get their images at start
	expect_files "$P/appvms/ra" 'private-precache.img private.img '
	call -e dom0 admin.pool.volume.List dom0 rp
	# creation order as after a restart: the AppVM's root loads its
	# template first, although "ra" sorts before "rt"
	expect_ok 'vm-templates/rt/root\nvm-templates/rt/private\nvm-templates/rt/volatile\nappvms/ra/root\nappvms/ra/private\nappvms/ra/volatile\n'
	call -e dom0 admin.vm.volume.Info rt root
	expect_reply_re "^0\\\\0pool=rp\\\\nvid=vm-templates/rt/root\\\\nsize=10737418240\\\\nusage=0\\\\nrw=True\\\\nsource=\\\\npath=$(re "$P")/vm-templates/rt/root-dirty.img\\\\nsave_on_stop=True\\\\nsnap_on_start=False\\\\n"
	call -e dom0 admin.vm.volume.Info ra root
	expect_reply_re "^0\\\\0pool=rp\\\\nvid=appvms/ra/root\\\\nsize=10737418240\\\\nusage=0\\\\nrw=True\\\\nsource=vm-templates/rt/root\\\\npath=$(re "$P")/appvms/ra/root-dirty.img\\\\nsave_on_stop=False\\\\nsnap_on_start=True\\\\n"
	call -e dom0 admin.vm.volume.ListSnapshots ra private
	expect_ok

	call -e dom0 admin.vm.Remove ra
	expect_ok
	[[ ! -e $P/appvms/ra ]] || { echo "appvms/ra left" >&2; false; }
	call -e dom0 admin.vm.Remove rt
	expect_ok
	[[ ! -e $P/vm-templates/rt ]]
	call -e dom0 admin.pool.volume.List dom0 rp
	expect_ok
}

# What qubesd 4.2 prints exactly (volume.Info of a halted AppVM root on
# file-reflink: revisions_to_keep is the pool's, is_outdated is None
# because the AppVM's root.img exists only while it runs).
@test "btrfs: volume.Info lines as qubesd prints them" {
	add_pool
	new_template rt
	new_appvm ra rt
	call -e dom0 admin.vm.volume.Info ra private
	expect_ok "pool=rp\nvid=appvms/ra/private\nsize=2147483648\nusage=0\nrw=True\nsource=\npath=$P/appvms/ra/private-dirty.img\nsave_on_stop=True\nsnap_on_start=False\nrevisions_to_keep=1\nephemeral=False\nis_outdated=False\n"
	call -e dom0 admin.vm.volume.Info ra volatile
	expect_ok "pool=rp\nvid=appvms/ra/volatile\nsize=10737418240\nusage=0\nrw=True\nsource=\npath=$P/appvms/ra/volatile-dirty.img\nsave_on_stop=False\nsnap_on_start=False\nrevisions_to_keep=1\nephemeral=False\nis_outdated=False\n"
	call -e dom0 admin.vm.volume.Info ra root
	expect_ok "pool=rp\nvid=appvms/ra/root\nsize=10737418240\nusage=0\nrw=True\nsource=vm-templates/rt/root\npath=$P/appvms/ra/root-dirty.img\nsave_on_stop=False\nsnap_on_start=True\nrevisions_to_keep=1\nephemeral=False\nis_outdated=None\n"
}

@test "btrfs: import commits with a revision; ListSnapshots; Revert" {
	local d
	add_pool
	new_template rt
	d=$P/vm-templates/rt
	import_text rt private ONE
	expect_files "$d" 'private-precache.img private.img private.img.1@ root-precache.img root.img '
	[[ $(head_of "$d/private.img" 3) == ONE ]]
	call -e dom0 admin.vm.volume.ListSnapshots rt private
	expect_ok '1\n'
	import_text rt private TWO
	# revisions_to_keep=1: revision 1 pruned
	call -e dom0 admin.vm.volume.ListSnapshots rt private
	expect_ok '2\n'
	[[ $(head_of "$d"/private.img.2@* 3) == ONE ]]
	# the precache follows the clean image
	[[ $(stat -c %Y "$d/private.img") == \
	    "$(stat -c %Y "$d/private-precache.img")" ]]
	! same_inode "$d/private.img" "$d/private-precache.img"

	# Revert: the current state becomes revision 3, revision 2 is gone
	callp '2' dom0 admin.vm.volume.Revert rt private
	expect_ok
	[[ $(head_of "$d/private.img" 3) == ONE ]]
	call -e dom0 admin.vm.volume.ListSnapshots rt private
	expect_ok '3\n'
	[[ $(head_of "$d"/private.img.3@* 3) == TWO ]]
	# unknown revision: silent
	callp '2' dom0 admin.vm.volume.Revert rt private
	expect_silent
	# "running" (a dirty image exists): refused
	cp --reflink=always "$d/private.img" "$d/private-dirty.img"
	callp '3' dom0 admin.vm.volume.Revert rt private
	expect_exc StoragePoolException 'Cannot revert: vm-templates/rt/private is not cleanly stopped'
	rm "$d/private-dirty.img"

	# failed import: the import image is removed, nothing committed
	call_on internal -e dom0 internal.vm.volume.ImportBegin rt private
	expect_ok "2147483648 $d/private-import.img"
	callp_on internal 'fail\nbroken' dom0 internal.vm.volume.ImportEnd \
	    rt private
	expect_exc QubesException 'Data import failed: broken'
	[[ ! -e $d/private-import.img ]]
	[[ $(head_of "$d/private.img" 3) == ONE ]]
	# ImportWithSize changes the size
	callp_on internal '4096' dom0 internal.vm.volume.ImportBegin rt private
	expect_ok "4096 $d/private-import.img"
	expect_size "$d/private-import.img" 4096
	callp_on internal 'ok' dom0 internal.vm.volume.ImportEnd rt private
	expect_ok
	expect_size "$d/private.img" 4096
	call -e dom0 admin.vm.volume.Info rt private
	expect_reply_re '^0\\0pool=rp\\nvid=vm-templates/rt/private\\nsize=4096\\n'
	# not save_on_stop: silent
	call_on internal -e dom0 internal.vm.volume.ImportBegin rt volatile
	expect_silent
	[[ ! -e $d/volatile-import.img ]]
}

@test "btrfs: Resize: grow, shrink allowed, running, read-only refused" {
	local d loop
	add_pool
	new_template rt
	new_appvm ra rt
	d=$P/vm-templates/rt
	callp '3221225472' dom0 admin.vm.volume.Resize rt private
	expect_ok
	expect_size "$d/private.img" 3221225472
	[[ $(stat -c %Y "$d/private.img") == \
	    "$(stat -c %Y "$d/private-precache.img")" ]]
	call -e dom0 admin.vm.volume.Info rt private
	expect_reply_re '^0\\0pool=rp\\nvid=vm-templates/rt/private\\nsize=3221225472\\n'
	# shrinking is allowed in file-reflink
	import_text rt private KEEPME
	callp '1048576' dom0 admin.vm.volume.Resize rt private
	expect_ok
	expect_size "$d/private.img" 1048576
	[[ $(head_of "$d/private.img" 6) == KEEPME ]]
	expect_xml_has 'vid="vm-templates/rt/private" revisions_to_keep="1" rw="True" save_on_stop="True" size="1048576"'
	# "running" (a dirty image, on a loop device): the dirty image and
	# the loop device grow, the clean image stays
	cp --reflink=always "$d/private.img" "$d/private-dirty.img"
	loop=$(losetup -f --show "$d/private-dirty.img") ||
	    skip "cannot attach a loop device"
	echo "$loop" >>"$T/loops"
	callp '8388608' dom0 admin.vm.volume.Resize rt private
	expect_ok
	expect_size "$d/private-dirty.img" 8388608
	expect_size "$d/private.img" 1048576
	[[ $(blockdev --getsize64 "$loop") == 8388608 ]] ||
	    { echo "loop device size $(blockdev --getsize64 "$loop")" >&2; false; }
	losetup -d "$loop"
	rm "$d/private-dirty.img"
	# volatile, snapshot: only the configured size
	callp '21474836480' dom0 admin.vm.volume.Resize ra volatile
	expect_ok
	callp '21474836480' dom0 admin.vm.volume.Resize ra root
	expect_ok
	expect_files "$P/appvms/ra" 'private-precache.img private.img '
	call -e dom0 admin.vm.volume.Info ra volatile
	expect_reply_re '\\nsize=21474836480\\n'
	# read-only
	callp 'False' dom0 admin.vm.volume.Set.rw rt private
	expect_ok
	callp '4194304' dom0 admin.vm.volume.Resize rt private
	expect_exc StoragePoolException 'Cannot resize: vm-templates/rt/private is read-only'
	expect_size "$d/private.img" 1048576
	call -e dom0 admin.vm.volume.Info rt private
	expect_reply_re '^0\\0pool=rp\\nvid=vm-templates/rt/private\\nsize=1048576\\n'
}

@test "btrfs: CloneFrom/CloneTo reflinks the committed image" {
	local s d
	add_pool
	new_template rt
	new_template ru
	s=$P/vm-templates/rt
	d=$P/vm-templates/ru
	import_text rt private CLONEME
	call -e dom0 admin.vm.volume.CloneFrom rt private
	expect_reply_re '^0\\0[A-Za-z0-9]{32}$'
	tail -c +3 "$REPLY_FILE" >"$T/token"
	call dom0 admin.vm.volume.CloneTo ru private <"$T/token"
	expect_ok
	[[ $(head_of "$d/private.img" 7) == CLONEME ]]
	! same_inode "$s/private.img" "$d/private.img"
	call -e dom0 admin.vm.volume.ListSnapshots ru private
	expect_ok '1\n'
	[[ ! -e $d/private-import.img ]]
	# from a volume that is not save_on_stop: silent, nothing left
	call -e dom0 admin.vm.volume.CloneFrom rt volatile
	tail -c +3 "$REPLY_FILE" >"$T/token"
	call dom0 admin.vm.volume.CloneTo ru private <"$T/token"
	expect_silent
	[[ ! -e $d/private-import.img ]]
	# from the file pool: a reflink needs the same file system
	call -e dom0 admin.vm.volume.CloneFrom work private
	tail -c +3 "$REPLY_FILE" >"$T/token"
	call dom0 admin.vm.volume.CloneTo ru private <"$T/token"
	expect_reply_re "^2\\\\0StoragePoolException\\\\0\\\\0Cannot reflink '$(re "$BASE")/appvms/work/private.img' to '$(re "$d")/private-import.img': "
	[[ ! -e $d/private-import.img ]]
	[[ $(head_of "$d/private.img" 7) == CLONEME ]]
}
