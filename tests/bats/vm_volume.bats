#!/usr/bin/env bats
# admin.vm.volume.List / Info / ListSnapshots / Set.revisions_to_keep /
# Set.rw / Set.ephemeral (storage.md 6), and the images that
# admin.vm.Create* / admin.vm.Remove make and delete (storage.md 3.1).
# Fixture: every qube in the file pool varlibqubes ($BASE), kernels in
# linux-kernel; qubes are halted (libvirt test driver).

load helpers

setup() {
	setup_fixture_broker
}

teardown() {
	teardown_broker
}

# info_of QUBE VOLUME: expect_reply_re on one line of volume.Info
info_has() {
	call -e dom0 admin.vm.volume.Info "$1" "$2"
	expect_reply_re "$3"
}

# ---------------------------------------------------------------------------
# List

@test "volume.List: standard order; dom0 has none" {
	call -e dom0 admin.vm.volume.List work
	expect_ok 'root\nprivate\nvolatile\nkernel\n'
	call -e dom0 admin.vm.volume.List disp-test
	expect_ok 'root\nprivate\nvolatile\nkernel\n'
	call -e dom0 admin.vm.volume.List dom0
	expect_ok ''
}

@test "volume.List: fail-arg-not-empty, fail-payload, fail-unknown-dest" {
	call -e dom0 admin.vm.volume.List work root
	expect_silent
	callp 'x' dom0 admin.vm.volume.List work
	expect_silent
	call -e dom0 admin.vm.volume.List nosuch
	expect_exc QubesVMNotFoundError "No such domain: 'nosuch'"
}

# ---------------------------------------------------------------------------
# Info

@test "volume.Info: origin, snapshot, volatile and kernel volumes" {
	call -e dom0 admin.vm.volume.Info work private
	expect_ok "pool=varlibqubes\\nvid=appvms/work/private\\nsize=2147483648\\nusage=0\\nrw=True\\nsource=\\npath=$BASE/appvms/work/private.img\\nsave_on_stop=True\\nsnap_on_start=False\\nrevisions_to_keep=1\\nephemeral=False\\nis_outdated=False\\n"
	call -e dom0 admin.vm.volume.Info work root
	expect_ok "pool=varlibqubes\\nvid=appvms/work/root\\nsize=10737418240\\nusage=0\\nrw=True\\nsource=vm-templates/fedora-39/root\\npath=$BASE/vm-templates/fedora-39/root.img\\nsave_on_stop=False\\nsnap_on_start=True\\nrevisions_to_keep=0\\nephemeral=False\\nis_outdated=False\\n"
	call -e dom0 admin.vm.volume.Info disp-test volatile
	expect_ok "pool=varlibqubes\\nvid=appvms/disp-test/volatile\\nsize=12884901888\\nusage=0\\nrw=True\\nsource=\\npath=$BASE/appvms/disp-test/volatile.img\\nsave_on_stop=False\\nsnap_on_start=False\\nrevisions_to_keep=0\\nephemeral=False\\nis_outdated=False\\n"
	call -e dom0 admin.vm.volume.Info work kernel
	expect_ok "pool=linux-kernel\\nvid=6.6.0-fake\\nsize=0\\nusage=0\\nrw=False\\nsource=\\npath=$BASE/vm-kernels/6.6.0-fake/modules.img\\nsave_on_stop=False\\nsnap_on_start=False\\nrevisions_to_keep=0\\nephemeral=False\\nis_outdated=False\\n"
}

@test "volume.Info: size and usage come from the image file" {
	truncate -s 3G "$BASE/appvms/work/private.img"
	dd if=/dev/urandom of="$BASE/appvms/work/private.img" bs=4096 \
	    count=4 conv=notrunc 2>/dev/null
	sync
	call -e dom0 admin.vm.volume.Info work private
	expect_reply_re '^0\\0pool=varlibqubes\\nvid=appvms/work/private\\nsize=3221225472\\nusage=[1-9][0-9]*\\n'
	# a missing image: the configured size, no usage
	rm "$BASE/appvms/work/volatile.img"
	info_has work volatile 'size=10737418240\\nusage=0\\n'
}

@test "volume.Info: the kernel volume follows the kernel property" {
	callp '' dom0 admin.vm.property.Set work kernel
	expect_ok
	info_has work kernel 'vid=\\nsize=0\\nusage=0\\nrw=False\\nsource=\\npath=\\n'
}

@test "volume.Info: fail-unknown-volume, names with .. or / (silent)" {
	local v
	for v in nosuch '' .. ../private private/.. a/b ROOT; do
		call -e dom0 admin.vm.volume.Info work "$v"
		expect_silent
	done
	call -e dom0 admin.vm.volume.Info dom0 root
	expect_silent
	callp 'x' dom0 admin.vm.volume.Info work root
	expect_silent
}

# ---------------------------------------------------------------------------
# ListSnapshots

@test "volume.ListSnapshots: file pool revision 'old' from the previous COW" {
	call -e dom0 admin.vm.volume.ListSnapshots work private
	expect_ok ''
	: >"$BASE/appvms/work/private-cow.img.old"
	call -e dom0 admin.vm.volume.ListSnapshots work private
	expect_ok 'old\n'
	call -e dom0 admin.vm.volume.ListSnapshots work kernel
	expect_ok ''
}

@test "volume.ListSnapshots: fail-unknown-volume, fail-payload" {
	call -e dom0 admin.vm.volume.ListSnapshots work nosuch
	expect_silent
	call -e dom0 admin.vm.volume.ListSnapshots work ../private
	expect_silent
	callp 'x' dom0 admin.vm.volume.ListSnapshots work private
	expect_silent
}

# ---------------------------------------------------------------------------
# Set.revisions_to_keep

@test "volume.Set.revisions_to_keep: file 0 and 1, stored" {
	callp '0' dom0 admin.vm.volume.Set.revisions_to_keep work private
	expect_ok
	info_has work private 'revisions_to_keep=0\\n'
	domain_xml work | grep -qF '<volume name="private" pool="varlibqubes" vid="appvms/work/private" revisions_to_keep="0"'
	callp '1' dom0 admin.vm.volume.Set.revisions_to_keep work private
	expect_ok
	info_has work private 'revisions_to_keep=1\\n'
}

@test "volume.Set.revisions_to_keep: fail-number (silent): > 1, negative, huge, not decimal" {
	local p
	for p in '2' '-1' '01' '1\n' ' 0' '' 'x' '0x1' \
	    '99999999999999999999' '9223372036854775808'; do
		callp "$p" dom0 admin.vm.volume.Set.revisions_to_keep work private
		expect_silent
	done
	info_has work private 'revisions_to_keep=1\\n'
}

@test "volume.Set.revisions_to_keep: kernel only 0 (QubesValueError)" {
	callp '1' dom0 admin.vm.volume.Set.revisions_to_keep work kernel
	expect_exc QubesValueError 'LinuxModules supports only revisions_to_keep=0'
	callp '0' dom0 admin.vm.volume.Set.revisions_to_keep work kernel
	expect_ok
}

@test "volume.Set.revisions_to_keep: fail-unknown-volume (silent)" {
	callp '1' dom0 admin.vm.volume.Set.revisions_to_keep work nosuch
	expect_silent
	callp '1' dom0 admin.vm.volume.Set.revisions_to_keep work a/b
	expect_silent
	callp '1' dom0 admin.vm.volume.Set.revisions_to_keep dom0 private
	expect_silent
}

# ---------------------------------------------------------------------------
# Set.rw

@test "volume.Set.rw: halted qube, stored as rw=\"True\" or nothing" {
	callp 'False' dom0 admin.vm.volume.Set.rw work private
	expect_ok
	info_has work private 'rw=False\\n'
	domain_xml work | grep -qF '<volume name="private" pool="varlibqubes" vid="appvms/work/private" revisions_to_keep="1" save_on_stop="True" size="2147483648"/>'
	callp 'on' dom0 admin.vm.volume.Set.rw work private
	expect_ok
	info_has work private 'rw=True\\n'
	domain_xml work | grep -qF '<volume name="private" pool="varlibqubes" vid="appvms/work/private" revisions_to_keep="1" rw="True" save_on_stop="True" size="2147483648"/>'
}

@test "volume.Set.rw: kernel stays read-only (QubesValueError)" {
	callp 'True' dom0 admin.vm.volume.Set.rw work kernel
	expect_exc QubesValueError 'LinuxModules supports only read-only volumes'
	callp 'False' dom0 admin.vm.volume.Set.rw work kernel
	expect_ok
	info_has work kernel 'rw=False\\n'
}

@test "volume.Set.rw: fail-boolean, fail-unknown-volume (silent)" {
	local p
	for p in '' 'maybe' 'True\n' ' yes' 'y' '\xc3\xa9'; do
		callp "$p" dom0 admin.vm.volume.Set.rw work private
		expect_silent
	done
	callp 'True' dom0 admin.vm.volume.Set.rw work nosuch
	expect_silent
	callp 'True' dom0 admin.vm.volume.Set.rw work ../root
	expect_silent
	info_has work private 'rw=True\\n'
}

# ---------------------------------------------------------------------------
# Set.ephemeral

@test "volume.Set.ephemeral: volatile volume True then False" {
	callp 'True' dom0 admin.vm.volume.Set.ephemeral work volatile
	expect_ok
	info_has work volatile 'ephemeral=True\\n'
	domain_xml work | grep -qF 'vid="appvms/work/volatile" revisions_to_keep="0" rw="True" ephemeral="True" size="10737418240"/>'
	callp '0' dom0 admin.vm.volume.Set.ephemeral work volatile
	expect_ok
	info_has work volatile 'ephemeral=False\\n'
	expect_xml_lacks 'ephemeral='
}

@test "volume.Set.ephemeral: fail on snapshot, origin, read-only volumes" {
	local v
	for v in root private; do
		callp 'True' dom0 admin.vm.volume.Set.ephemeral work $v
		expect_exc QubesValueError 'Cannot enable ephemeral on snap_on_start or save_on_stop or non-dom0 or not writable volume'
		# False is always accepted
		callp 'False' dom0 admin.vm.volume.Set.ephemeral work $v
		expect_ok
	done
	callp 'False' dom0 admin.vm.volume.Set.rw work volatile
	expect_ok
	callp 'True' dom0 admin.vm.volume.Set.ephemeral work volatile
	expect_exc QubesValueError 'Cannot enable ephemeral on snap_on_start or save_on_stop or non-dom0 or not writable volume'
}

@test "volume.Set.ephemeral: kernel refused, bad boolean, unknown volume (silent)" {
	local p
	callp 'False' dom0 admin.vm.volume.Set.ephemeral work kernel
	expect_silent
	for p in '' 'maybe' 'True\n' '2'; do
		callp "$p" dom0 admin.vm.volume.Set.ephemeral work volatile
		expect_silent
	done
	callp 'True' dom0 admin.vm.volume.Set.ephemeral work nosuch
	expect_silent
	callp 'True' dom0 admin.vm.volume.Set.ephemeral work volatile/..
	expect_silent
}

# ---------------------------------------------------------------------------
# images made by Create, deleted by Remove

@test "Create.AppVM: sparse private and volatile images; Remove deletes them" {
	callp 'name=img-app label=red' dom0 admin.vm.Create.AppVM dom0 fedora-39
	expect_ok
	[[ $(stat -c %s "$BASE/appvms/img-app/private.img") == 2147483648 ]]
	[[ $(stat -c %s "$BASE/appvms/img-app/volatile.img") == 10737418240 ]]
	[[ $(stat -c %b "$BASE/appvms/img-app/private.img") -le 8 ]]
	[[ $(stat -c %b "$BASE/appvms/img-app/volatile.img") -le 8 ]]
	[[ ! -e $BASE/appvms/img-app/root.img ]]
	call -e dom0 admin.vm.volume.Info img-app private
	expect_ok "pool=varlibqubes\\nvid=appvms/img-app/private\\nsize=2147483648\\nusage=0\\nrw=True\\nsource=\\npath=$BASE/appvms/img-app/private.img\\nsave_on_stop=True\\nsnap_on_start=False\\nrevisions_to_keep=1\\nephemeral=False\\nis_outdated=False\\n"
	: >"$BASE/appvms/img-app/private-cow.img.old"
	call -e dom0 admin.vm.Remove img-app
	expect_ok
	[[ ! -e $BASE/appvms/img-app ]]
	# the template's image is untouched
	[[ -f $BASE/vm-templates/fedora-39/root.img ]]
}

@test "Create: StandaloneVM root image, DispVM volatile only" {
	callp 'name=img-solo label=gray' dom0 admin.vm.Create.StandaloneVM dom0
	expect_ok
	[[ $(stat -c %s "$BASE/appvms/img-solo/root.img") == 10737418240 ]]
	[[ $(stat -c %s "$BASE/appvms/img-solo/private.img") == 2147483648 ]]
	callp 'name=img-disp label=red' dom0 admin.vm.Create.DispVM dom0 default-dvm
	expect_ok
	[[ $(stat -c %s "$BASE/appvms/img-disp/volatile.img") == 12884901888 ]]
	[[ ! -e $BASE/appvms/img-disp/private.img ]]
	[[ ! -e $BASE/appvms/img-disp/root.img ]]
	call -e dom0 admin.vm.volume.Info img-disp private
	expect_reply_re "source=appvms/default-dvm/private\\\\npath=$BASE/appvms/default-dvm/private.img\\\\n"
	call -e dom0 admin.vm.Remove img-disp
	expect_ok
	call -e dom0 admin.vm.Remove img-solo
	expect_ok
	[[ ! -e $BASE/appvms/img-disp && ! -e $BASE/appvms/img-solo ]]
	[[ -f $BASE/appvms/default-dvm/private.img ]]
}

@test "Create: a leftover image aborts the Create and is kept" {
	mkdir -p "$BASE/appvms/stale"
	echo data >"$BASE/appvms/stale/volatile.img"
	callp 'name=stale label=red' dom0 admin.vm.Create.AppVM dom0 fedora-39
	expect_silent
	call -e dom0 admin.vm.List stale
	expect_exc QubesVMNotFoundError "No such domain: 'stale'"
	[[ $(cat "$BASE/appvms/stale/volatile.img") == data ]]
	# what this Create made before the failure is gone again
	[[ ! -e $BASE/appvms/stale/private.img ]]
	expect_xml_lacks '>stale<'
}
