#!/usr/bin/env bats
# admin.pool.List / ListDrivers / Info / UsageDetails / Add / Remove /
# volume.List / Set.revisions_to_keep / Set.ephemeral_volatile
# (storage.md 2, 5).  Fixture: pools varlibqubes (file, $BASE) and
# linux-kernel ($BASE/vm-kernels).

load helpers

setup() {
	setup_fixture_broker
}

teardown() {
	teardown_broker
}

FILE_VOLS='vm-templates/fedora-39/root\nvm-templates/fedora-39/private\nvm-templates/fedora-39/volatile\nappvms/default-dvm/root\nappvms/default-dvm/private\nappvms/default-dvm/volatile\nappvms/disp-test/root\nappvms/disp-test/private\nappvms/disp-test/volatile\nappvms/personal/root\nappvms/personal/private\nappvms/personal/volatile\nappvms/standalone/root\nappvms/standalone/private\nappvms/standalone/volatile\nappvms/sys-firewall/root\nappvms/sys-firewall/private\nappvms/sys-firewall/volatile\nappvms/sys-net/root\nappvms/sys-net/private\nappvms/sys-net/volatile\nappvms/work/root\nappvms/work/private\nappvms/work/volatile\n'

# add_pool NAME DIR [EXTRA-LINES]: admin.pool.Add+file of a pool on DIR.
add_pool() {
	callp "name=$1\\ndir_path=$2\\n${3:-}" dom0 admin.pool.Add dom0 file
}

# ---------------------------------------------------------------------------
# List / ListDrivers

@test "pool.List: qubes.xml order" {
	call -e dom0 admin.pool.List dom0
	expect_ok 'varlibqubes\nlinux-kernel\n'
}

@test "pool.List: fail-dest-not-dom0, fail-arg-not-empty, fail-payload" {
	call -e dom0 admin.pool.List work
	expect_silent
	call -e dom0 admin.pool.List dom0 varlibqubes
	expect_silent
	callp 'x' dom0 admin.pool.List dom0
	expect_silent
}

@test "pool.ListDrivers: qubesd's driver list and parameters" {
	call -e dom0 admin.pool.ListDrivers dom0
	expect_ok 'callback conf_id\nfile revisions_to_keep dir_path ephemeral_volatile\nfile-reflink revisions_to_keep dir_path setup_check ephemeral_volatile\nlinux-kernel dir_path\nlvm_thin revisions_to_keep volume_group thin_pool ephemeral_volatile\nzfs revisions_to_keep container ephemeral_volatile snap_on_start_forensics\n'
}

@test "pool.ListDrivers: fail-dest-not-dom0, fail-arg-not-empty, fail-payload" {
	call -e dom0 admin.pool.ListDrivers work
	expect_silent
	call -e dom0 admin.pool.ListDrivers dom0 file
	expect_silent
	callp '\n' dom0 admin.pool.ListDrivers dom0
	expect_silent
}

# ---------------------------------------------------------------------------
# Info / UsageDetails / volume.List

@test "pool.Info: file pool config sorted, then size and usage" {
	call -e dom0 admin.pool.Info dom0 varlibqubes
	expect_reply_re "^0\\\\0dir_path=$BASE\\\\ndriver=file\\\\nephemeral_volatile=False\\\\nname=varlibqubes\\\\nrevisions_to_keep=1\\\\nsize=[0-9]+\\\\nusage=[0-9]+\\\\n\$"
}

@test "pool.Info: linux-kernel pool has no size, is included in varlibqubes" {
	call -e dom0 admin.pool.Info dom0 linux-kernel
	expect_ok "dir_path=$BASE/vm-kernels\\ndriver=linux-kernel\\nname=linux-kernel\\nincluded_in=varlibqubes\\n"
}

@test "pool.Info: fail-unknown-pool, fail-dest-not-dom0, fail-payload" {
	call -e dom0 admin.pool.Info dom0 nosuch
	expect_silent
	call -e dom0 admin.pool.Info dom0 ..
	expect_silent
	call -e dom0 admin.pool.Info dom0 ''
	expect_silent
	call -e dom0 admin.pool.Info work varlibqubes
	expect_silent
	callp 'x' dom0 admin.pool.Info dom0 varlibqubes
	expect_silent
}

@test "pool.UsageDetails: file data_size/data_usage; linux-kernel empty" {
	call -e dom0 admin.pool.UsageDetails dom0 varlibqubes
	expect_reply_re '^0\\0data_size=[0-9]+\\ndata_usage=[0-9]+\\n$'
	call -e dom0 admin.pool.UsageDetails dom0 linux-kernel
	expect_ok ''
}

@test "pool.UsageDetails: fail-unknown-pool, fail-dest-not-dom0" {
	call -e dom0 admin.pool.UsageDetails dom0 nosuch
	expect_silent
	call -e dom0 admin.pool.UsageDetails work varlibqubes
	expect_silent
}

@test "pool.volume.List: file pool in qube load order, kernel directory" {
	call -e dom0 admin.pool.volume.List dom0 varlibqubes
	expect_ok "$FILE_VOLS"
	call -e dom0 admin.pool.volume.List dom0 linux-kernel
	expect_ok '6.6.0-fake\n'
}

@test "pool.volume.List: a new qube's volumes come last" {
	callp 'name=zz-new label=red' dom0 admin.vm.Create.AppVM dom0 fedora-39
	expect_ok
	callp 'name=aa-new label=red' dom0 admin.vm.Create.AppVM dom0 fedora-39
	expect_ok
	call -e dom0 admin.pool.volume.List dom0 varlibqubes
	expect_reply_re '\\nappvms/aa-new/root\\nappvms/aa-new/private\\nappvms/aa-new/volatile\\nappvms/default-dvm/root\\n'
}

@test "pool.volume.List: fail-unknown-pool, fail-dest-not-dom0, fail-payload" {
	call -e dom0 admin.pool.volume.List dom0 nosuch
	expect_silent
	call -e dom0 admin.pool.volume.List sys-net varlibqubes
	expect_silent
	callp 'x' dom0 admin.pool.volume.List dom0 varlibqubes
	expect_silent
}

# ---------------------------------------------------------------------------
# Add

@test "pool.Add: file pool on a new directory, stored and echoed" {
	add_pool extra "$T/extra"
	expect_ok
	[[ -d $T/extra/appvms && -d $T/extra/vm-templates ]]
	call -e dom0 admin.pool.List dom0
	expect_ok 'varlibqubes\nlinux-kernel\nextra\n'
	call -e dom0 admin.pool.Info dom0 extra
	expect_reply_re "^0\\\\0dir_path=$T/extra\\\\ndriver=file\\\\nephemeral_volatile=False\\\\nname=extra\\\\nrevisions_to_keep=1\\\\nsize=[0-9]+\\\\nusage=[0-9]+\\\\n\$"
	expect_xml_has "<pool name=\"extra\" dir_path=\"$T/extra\" driver=\"file\" revisions_to_keep=\"1\"/>"
	call -e dom0 admin.pool.volume.List dom0 extra
	expect_ok ''
}

@test "pool.Add: options echoed as given, dir_path normalised" {
	mkdir "$T/a"	# only the last component is created
	add_pool opts "$T//a/./b/../c/" 'revisions_to_keep=0\nephemeral_volatile=no\n'
	expect_ok
	[[ -d $T/a/c/appvms ]]
	call -e dom0 admin.pool.Info dom0 opts
	expect_reply_re "^0\\\\0dir_path=$T/a/c\\\\ndriver=file\\\\nephemeral_volatile=no\\\\nname=opts\\\\nrevisions_to_keep=0\\\\n"
	expect_xml_has "<pool name=\"opts\" dir_path=\"$T/a/c\" driver=\"file\" revisions_to_keep=\"0\" ephemeral_volatile=\"no\"/>"
}

@test "pool.Add: the pool survives a broker restart" {
	add_pool keep "$T/keep"
	expect_ok
	stop_broker
	start_broker
	call -e dom0 admin.pool.List dom0
	expect_ok 'varlibqubes\nlinux-kernel\nkeep\n'
}

@test "pool.Add: linux-kernel pool; CR LF and other line breaks" {
	mkdir -p "$T/k/5.0-x"
	callp "name=k2\\r\\ndir_path=$T/k" dom0 admin.pool.Add dom0 linux-kernel
	expect_ok
	call -e dom0 admin.pool.Info dom0 k2
	expect_ok "dir_path=$T/k\\ndriver=linux-kernel\\nname=k2\\n"
	call -e dom0 admin.pool.volume.List dom0 k2
	expect_ok '5.0-x\n'
	callp "dir_path=$T/f3\\x1cname=f3\\x1e" dom0 admin.pool.Add dom0 file
	expect_ok
	[[ -d $T/f3/appvms ]]
}

@test "pool.Add: fail-unknown-driver (QubesException)" {
	add_pool x "$T/x"
	expect_ok
	# listed by ListDrivers as by qubesd, but not implemented
	callp "name=y\\ncontainer=pool/y\\nrevisions_to_keep=1\\nephemeral_volatile=False\\nsnap_on_start_forensics=False" dom0 admin.pool.Add dom0 zfs
	expect_exc StoragePoolException 'The zfs driver is not supported by this implementation'
	callp "name=y\\nconf_id=a" dom0 admin.pool.Add dom0 callback
	expect_exc StoragePoolException 'The callback driver is not supported by this implementation'
	call -e dom0 admin.pool.List dom0
	expect_ok 'varlibqubes\nlinux-kernel\nx\n'
	callp "name=y\\ndir_path=$T/y" dom0 admin.pool.Add dom0 nosuch
	expect_exc QubesException 'unexpected driver name: nosuch'
	[[ ! -e $T/y ]]
}

@test "pool.Add: fail-unexpected-options (QubesException, payload order)" {
	callp "name=y\\nfoo=1\\ndir_path=$T/y\\ndriver=file\\nsetup_check=no" \
	    dom0 admin.pool.Add dom0 file
	expect_exc QubesException 'unexpected driver options: foo driver setup_check'
	[[ ! -e $T/y ]]
}

@test "pool.Add: fail-payload (silent): lines, duplicates, name" {
	local p
	for p in '' '\n' "name=y\\n\\ndir_path=$T/y" "name=y\\ndir_path" \
	    "name=y\\nname=z\\ndir_path=$T/y" "dir_path=$T/y" \
	    "name=\\ndir_path=$T/y" "name=a/b\\ndir_path=$T/y" \
	    "name=a b\\ndir_path=$T/y" "name=varlibqubes\\ndir_path=$T/y" \
	    "name=y\\tz\\ndir_path=$T/y" "name=y\\ndir_path=$T/\\xc3\\xa9" \
	    "name=y\\ndir_path=$T/y\\x00"; do
		callp "$p" dom0 admin.pool.Add dom0 file
		expect_silent
	done
	call -e dom0 admin.pool.List dom0
	expect_ok 'varlibqubes\nlinux-kernel\n'
	[[ ! -e $T/y ]]
}

@test "pool.Add: fail-driver-parameters (silent): missing, relative, numbers, booleans" {
	local p
	for p in 'name=y' 'name=y\ndir_path=relative/dir' \
	    "name=y\\ndir_path=$T/y\\nrevisions_to_keep=2" \
	    "name=y\\ndir_path=$T/y\\nrevisions_to_keep=-1" \
	    "name=y\\ndir_path=$T/y\\nrevisions_to_keep=01" \
	    "name=y\\ndir_path=$T/y\\nrevisions_to_keep=abc" \
	    "name=y\\ndir_path=$T/y\\nrevisions_to_keep=99999999999999999999" \
	    "name=y\\ndir_path=$T/y\\nephemeral_volatile=maybe" \
	    "name=y\\ndir_path=$T/missing/parent"; do
		callp "$p" dom0 admin.pool.Add dom0 file
		expect_silent
	done
	call -e dom0 admin.pool.List dom0
	expect_ok 'varlibqubes\nlinux-kernel\n'
	[[ ! -e $T/y ]]
}

@test "pool.Add: fail-dest-not-dom0 (silent)" {
	add_pool y "$T/y" >/dev/null
	callp "name=z\\ndir_path=$T/z" dom0 admin.pool.Add work file
	expect_silent
	[[ ! -e $T/z ]]
}

# ---------------------------------------------------------------------------
# a qube in a new pool: images on disk, removal

@test "pool.Add + CreateInPool: sparse images of the right size, Remove deletes them" {
	add_pool mine "$T/mine"
	expect_ok
	callp 'name=inpool label=red pool=mine' dom0 \
	    admin.vm.CreateInPool.AppVM dom0 fedora-39
	expect_ok
	# private and volatile in the new pool; root is a snapshot of the
	# template (its pool); kernel in linux-kernel
	[[ $(stat -c %s "$T/mine/appvms/inpool/private.img") == 2147483648 ]]
	[[ $(stat -c %s "$T/mine/appvms/inpool/volatile.img") == 10737418240 ]]
	[[ $(stat -c %b "$T/mine/appvms/inpool/private.img") -le 8 ]]
	[[ $(stat -c %a "$T/mine/appvms/inpool/private.img") == 664 ]]
	[[ ! -e $T/mine/appvms/inpool/root.img ]]
	[[ ! -e $BASE/appvms/inpool ]]
	call -e dom0 admin.pool.volume.List dom0 mine
	expect_ok 'appvms/inpool/private\nappvms/inpool/volatile\n'
	call -e dom0 admin.vm.volume.Info inpool private
	expect_ok "pool=mine\\nvid=appvms/inpool/private\\nsize=2147483648\\nusage=0\\nrw=True\\nsource=\\npath=$T/mine/appvms/inpool/private.img\\nsave_on_stop=True\\nsnap_on_start=False\\nrevisions_to_keep=1\\nephemeral=False\\nis_outdated=False\\n"
	call -e dom0 admin.vm.volume.Info inpool root
	expect_ok "pool=varlibqubes\\nvid=appvms/inpool/root\\nsize=10737418240\\nusage=0\\nrw=True\\nsource=vm-templates/fedora-39/root\\npath=$BASE/vm-templates/fedora-39/root.img\\nsave_on_stop=False\\nsnap_on_start=True\\nrevisions_to_keep=0\\nephemeral=False\\nis_outdated=False\\n"
	# the pool is in use now
	call -e dom0 admin.pool.Remove dom0 mine
	expect_exc QubesPoolInUseError "Storage pool is in use: 'mine'"
	call -e dom0 admin.vm.Remove inpool
	expect_ok
	[[ ! -e $T/mine/appvms/inpool ]]
	[[ -d $T/mine/appvms ]]
	call -e dom0 admin.pool.Remove dom0 mine
	expect_ok
}

@test "pool.Add + CreateInPool.TemplateVM: images under vm-templates/" {
	add_pool tp "$T/tp"
	expect_ok
	callp 'name=tpl-new label=black pool=tp' dom0 \
	    admin.vm.CreateInPool.TemplateVM dom0
	expect_ok
	[[ $(stat -c %s "$T/tp/vm-templates/tpl-new/root.img") == 10737418240 ]]
	[[ $(stat -c %s "$T/tp/vm-templates/tpl-new/private.img") == 2147483648 ]]
	[[ $(stat -c %s "$T/tp/vm-templates/tpl-new/volatile.img") == 10737418240 ]]
	call -e dom0 admin.pool.volume.List dom0 tp
	expect_ok 'vm-templates/tpl-new/root\nvm-templates/tpl-new/private\nvm-templates/tpl-new/volatile\n'
	call -e dom0 admin.vm.Remove tpl-new
	expect_ok
	[[ ! -e $T/tp/vm-templates/tpl-new ]]
}

# ---------------------------------------------------------------------------
# Remove

@test "pool.Remove: an unused pool; its directory is kept" {
	add_pool gone "$T/gone"
	expect_ok
	call -e dom0 admin.pool.Remove dom0 gone
	expect_ok
	call -e dom0 admin.pool.List dom0
	expect_ok 'varlibqubes\nlinux-kernel\n'
	expect_xml_lacks 'name="gone"'
	[[ -d $T/gone/appvms ]]
	call -e dom0 admin.pool.Info dom0 gone
	expect_silent
}

@test "pool.Remove: fail-in-use by volumes (QubesPoolInUseError)" {
	call -e dom0 admin.pool.Remove dom0 varlibqubes
	expect_exc QubesPoolInUseError "Storage pool is in use: 'varlibqubes'"
	call -e dom0 admin.pool.Remove dom0 linux-kernel
	expect_exc QubesPoolInUseError "Storage pool is in use: 'linux-kernel'"
}

@test "pool.Remove: fail-in-use as a default_pool* property" {
	add_pool dp "$T/dp"
	expect_ok
	callp 'dp' dom0 admin.property.Set dom0 default_pool_private
	expect_ok
	call -e dom0 admin.pool.Remove dom0 dp
	expect_exc QubesPoolInUseError 'Storage pool is in use: set as default_pool_private'
	callp 'dp' dom0 admin.property.Set dom0 default_pool_volatile
	expect_ok
	call -e dom0 admin.pool.Remove dom0 dp
	expect_exc QubesPoolInUseError 'Storage pool is in use: set as default_pool_private'
	call -e dom0 admin.property.Reset dom0 default_pool_private
	expect_ok
	call -e dom0 admin.pool.Remove dom0 dp
	expect_exc QubesPoolInUseError 'Storage pool is in use: set as default_pool_volatile'
}

@test "pool.Remove: fail-unknown-pool, fail-dest-not-dom0, fail-payload" {
	add_pool r1 "$T/r1" >/dev/null
	call -e dom0 admin.pool.Remove dom0 nosuch
	expect_silent
	call -e dom0 admin.pool.Remove work r1
	expect_silent
	callp 'x' dom0 admin.pool.Remove dom0 r1
	expect_silent
	call -e dom0 admin.pool.List dom0
	expect_ok 'varlibqubes\nlinux-kernel\nr1\n'
}

# ---------------------------------------------------------------------------
# Set.revisions_to_keep / Set.ephemeral_volatile

@test "pool.Set.revisions_to_keep: file pool 0 and 1, used by new volumes" {
	callp '0' dom0 admin.pool.Set.revisions_to_keep dom0 varlibqubes
	expect_ok
	call -e dom0 admin.pool.Info dom0 varlibqubes
	expect_reply_re 'revisions_to_keep=0\\n'
	expect_xml_has "<pool name=\"varlibqubes\" dir_path=\"$BASE\" driver=\"file\" revisions_to_keep=\"0\"/>"
	callp 'name=rtk label=red' dom0 admin.vm.Create.AppVM dom0 fedora-39
	expect_ok
	call -e dom0 admin.vm.volume.Info rtk private
	expect_reply_re 'revisions_to_keep=0\\n'
	# existing volumes keep their value
	call -e dom0 admin.vm.volume.Info work private
	expect_reply_re 'revisions_to_keep=1\\n'
	callp '1' dom0 admin.pool.Set.revisions_to_keep dom0 varlibqubes
	expect_ok
}

@test "pool.Set.revisions_to_keep: fail-number (silent): file > 1, negative, not decimal" {
	local p
	for p in '2' '-1' '01' '1\n' ' 1' 'x' '' '1.0' '99999999999999999999' \
	    '18446744073709551615'; do
		callp "$p" dom0 admin.pool.Set.revisions_to_keep dom0 varlibqubes
		expect_silent
	done
	call -e dom0 admin.pool.Info dom0 varlibqubes
	expect_reply_re 'revisions_to_keep=1\\n'
}

@test "pool.Set.revisions_to_keep: linux-kernel only 0 (QubesValueError)" {
	callp '1' dom0 admin.pool.Set.revisions_to_keep dom0 linux-kernel
	expect_exc QubesValueError 'LinuxModules supports only revisions_to_keep=0'
	callp '0' dom0 admin.pool.Set.revisions_to_keep dom0 linux-kernel
	expect_ok
	call -e dom0 admin.pool.Info dom0 linux-kernel
	expect_ok "dir_path=$BASE/vm-kernels\\ndriver=linux-kernel\\nname=linux-kernel\\nincluded_in=varlibqubes\\n"
}

@test "pool.Set.revisions_to_keep: fail-unknown-pool, fail-dest-not-dom0" {
	callp '1' dom0 admin.pool.Set.revisions_to_keep dom0 nosuch
	expect_silent
	callp '1' dom0 admin.pool.Set.revisions_to_keep work varlibqubes
	expect_silent
}

@test "pool.Set.ephemeral_volatile: effective ephemeral of volatile volumes" {
	callp 'True' dom0 admin.pool.Set.ephemeral_volatile dom0 varlibqubes
	expect_ok
	call -e dom0 admin.pool.Info dom0 varlibqubes
	expect_reply_re 'ephemeral_volatile=True\\n'
	expect_xml_has "<pool name=\"varlibqubes\" dir_path=\"$BASE\" driver=\"file\" revisions_to_keep=\"1\" ephemeral_volatile=\"True\"/>"
	call -e dom0 admin.vm.volume.Info work volatile
	expect_reply_re 'ephemeral=True\\n'
	call -e dom0 admin.vm.volume.Info work private
	expect_reply_re 'ephemeral=False\\n'
	callp 'off' dom0 admin.pool.Set.ephemeral_volatile dom0 varlibqubes
	expect_ok
	call -e dom0 admin.vm.volume.Info work volatile
	expect_reply_re 'ephemeral=False\\n'
	expect_xml_lacks 'ephemeral_volatile='
}

@test "pool.Set.ephemeral_volatile: fail-boolean (silent), unknown pool, dest" {
	local p
	for p in '' 'maybe' 'True\n' ' 1' '2' 'tru\xc3\xa9'; do
		callp "$p" dom0 admin.pool.Set.ephemeral_volatile dom0 varlibqubes
		expect_silent
	done
	callp 'True' dom0 admin.pool.Set.ephemeral_volatile dom0 nosuch
	expect_silent
	callp 'True' dom0 admin.pool.Set.ephemeral_volatile work varlibqubes
	expect_silent
	call -e dom0 admin.pool.Info dom0 varlibqubes
	expect_reply_re 'ephemeral_volatile=False\\n'
}
