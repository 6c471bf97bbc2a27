#!/usr/bin/env bats
# admin.vm.property.List / Get / GetAll / GetDefault / Help / Set / Reset
# (calls-core.md 3, properties.md).

load helpers

setup() {
	setup_fixture_broker
}

teardown() {
	teardown_broker
}

APPVM_LIST='autostart\nbackup_timestamp\ndebug\ndefault_user\ndns\ngateway\ngateway6\nicon\ninclude_in_backups\ninstalled_by_rpm\nip\nip6\nkernel\nkeyboard_layout\nklass\nlabel\nmac\nmaxmem\nmemory\nname\nprovides_network\nqid\nqrexec_timeout\nshutdown_timeout\nstart_time\nstubdom_mem\nstubdom_xid\ntemplate_for_dispvms\nupdateable\nuuid\nvcpus\nvirt_mode\nvisible_gateway\nvisible_gateway6\nvisible_ip\nvisible_ip6\nvisible_netmask\nxid\naudiovm\ndefault_dispvm\nguivm\nkernelopts\nmanagement_dispvm\nnetvm\ntemplate\n'

# GetAll of "work" in the fixture, split around the kernelopts line.
WORK_GETALL_HEAD='autostart default=True type=bool False\nbackup_timestamp default=True type=int \ndebug default=True type=bool False\ndefault_user default=True type=str user\ndns default=True type=str 10.139.1.1 10.139.1.2\ngateway default=True type=str \ngateway6 default=True type=str \nicon default=True type=str appvm-blue\ninclude_in_backups default=True type=bool True\ninstalled_by_rpm default=True type=bool False\nip default=True type=str 10.137.0.4\nip6 default=True type=str \nkernel default=True type=str 6.6.0-fake\nkeyboard_layout default=True type=str us++\nklass default=True type=str AppVM\nlabel default=False type=label blue\nmac default=True type=str 00:16:3e:5e:6c:00\nmaxmem default=True type=int 1536\nmemory default=False type=int 600\nname default=False type=str work\nprovides_network default=True type=bool False\nqid default=False type=int 4\nqrexec_timeout default=True type=int 60\nshutdown_timeout default=True type=int 60\nstart_time default=True type=str \nstubdom_mem default=True type=int \nstubdom_xid default=True type=str -1\ntemplate_for_dispvms default=True type=bool False\nupdateable default=True type=bool False\nuuid default=False type=str b078ee30-0fe9-4c69-a8e8-e8f342d7a0d8\nvcpus default=False type=int 4\nvirt_mode default=True type=str pvh\nvisible_gateway default=True type=str 10.137.0.3\nvisible_gateway6 default=True type=str \nvisible_ip default=True type=str 10.137.0.4\nvisible_ip6 default=True type=str \nvisible_netmask default=True type=str 255.255.255.255\nxid default=True type=str -1\naudiovm default=True type=vm dom0\ndefault_dispvm default=True type=vm default-dvm\nguivm default=True type=vm dom0\n'
WORK_GETALL_KERNELOPTS='kernelopts default=True type=str swiotlb=2048\n'
WORK_GETALL_TAIL='management_dispvm default=True type=vm \nnetvm default=True type=vm sys-firewall\ntemplate default=False type=vm fedora-39\n'

# ---------------------------------------------------------------------------
# List

@test "vm.property.List: AppVM, AdminVM, DispVM, TemplateVM order" {
	call -e dom0 admin.vm.property.List work
	expect_ok "$APPVM_LIST"
	call -e dom0 admin.vm.property.List dom0
	expect_ok 'icon\ninclude_in_backups\nkeyboard_layout\nklass\nlabel\nname\nqid\nupdateable\nuuid\ndefault_dispvm\n'
	call -e dom0 admin.vm.property.List disp-test
	expect_ok 'auto_cleanup\nautostart\nbackup_timestamp\ndebug\ndefault_user\ndispid\ndns\ngateway\ngateway6\nicon\ninclude_in_backups\ninstalled_by_rpm\nip\nip6\nkernel\nkeyboard_layout\nklass\nlabel\nmac\nmaxmem\nmemory\nname\nprovides_network\nqid\nqrexec_timeout\nshutdown_timeout\nstart_time\nstubdom_mem\nstubdom_xid\nupdateable\nuuid\nvcpus\nvirt_mode\nvisible_gateway\nvisible_gateway6\nvisible_ip\nvisible_ip6\nvisible_netmask\nxid\naudiovm\ndefault_dispvm\nguivm\nkernelopts\nmanagement_dispvm\nnetvm\ntemplate\n'
	call -e dom0 admin.vm.property.List fedora-39
	expect_ok 'autostart\nbackup_timestamp\ndebug\ndefault_user\ndns\ngateway\ngateway6\nicon\ninclude_in_backups\ninstalled_by_rpm\nip\nip6\nkernel\nkeyboard_layout\nklass\nlabel\nmac\nmaxmem\nmemory\nname\nprovides_network\nqid\nqrexec_timeout\nshutdown_timeout\nstart_time\nstubdom_mem\nstubdom_xid\nupdateable\nuuid\nvcpus\nvirt_mode\nvisible_gateway\nvisible_gateway6\nvisible_ip\nvisible_ip6\nvisible_netmask\nxid\naudiovm\ndefault_dispvm\nguivm\nkernelopts\nmanagement_dispvm\nnetvm\n'
}

@test "vm.property.List: fail-arg-not-empty, fail-payload, fail-unknown-dest" {
	call -e dom0 admin.vm.property.List work label
	expect_silent
	callp 'x' dom0 admin.vm.property.List work
	expect_silent
	call -e dom0 admin.vm.property.List nosuch
	expect_exc QubesVMNotFoundError "No such domain: 'nosuch'"
}

# ---------------------------------------------------------------------------
# Get

@test "vm.property.Get: explicit, default, explicit None, computed" {
	call -e dom0 admin.vm.property.Get work label
	expect_ok 'default=False type=label blue'
	call -e dom0 admin.vm.property.Get dom0 label
	expect_ok 'default=False type=label black'
	call -e dom0 admin.vm.property.Get work netvm
	expect_ok 'default=True type=vm sys-firewall'
	call -e dom0 admin.vm.property.Get sys-net netvm
	expect_ok 'default=False type=vm '
	call -e dom0 admin.vm.property.Get standalone xid
	expect_ok 'default=True type=str -1'
	call -e dom0 admin.vm.property.Get work memory
	expect_ok 'default=False type=int 600'
	call -e dom0 admin.vm.property.Get work provides_network
	expect_ok 'default=True type=bool False'
	call -e dom0 admin.vm.property.Get disp-test dispid
	expect_ok 'default=False type=int 6178'
	call -e dom0 admin.vm.property.Get disp-test ip
	expect_ok 'default=True type=str 10.138.24.82'
}

@test "vm.property.Get: no value and no default -> empty value" {
	call -e dom0 admin.vm.property.Get standalone backup_timestamp
	expect_ok 'default=True type=int '
	call -e dom0 admin.vm.property.Get fedora-39 ip
	expect_ok 'default=True type=str '
}

@test "vm.property.Get: fail-no-such-property (unknown, wrong class, empty)" {
	call -e dom0 admin.vm.property.Get work nosuch
	expect_exc QubesNoSuchPropertyError "Invalid property 'nosuch' of work"
	call -e dom0 admin.vm.property.Get fedora-39 template
	expect_exc QubesNoSuchPropertyError "Invalid property 'template' of fedora-39"
	call -e dom0 admin.vm.property.Get dom0 netvm
	expect_exc QubesNoSuchPropertyError "Invalid property 'netvm' of dom0"
	call -e dom0 admin.vm.property.Get work
	expect_exc QubesNoSuchPropertyError "Invalid property '' of work"
}

@test "vm.property.Get: fail-payload (silent)" {
	callp 'red' dom0 admin.vm.property.Get work label
	expect_silent
}

# ---------------------------------------------------------------------------
# GetAll

@test "vm.property.GetAll: AppVM and AdminVM exact output" {
	call -e dom0 admin.vm.property.GetAll work
	expect_ok "$WORK_GETALL_HEAD$WORK_GETALL_KERNELOPTS$WORK_GETALL_TAIL"
	call -e dom0 admin.vm.property.GetAll dom0
	expect_ok 'icon default=True type=str adminvm-black\ninclude_in_backups default=True type=bool True\nkeyboard_layout default=True type=str us++\nklass default=True type=str AdminVM\nlabel default=False type=label black\nname default=True type=str dom0\nqid default=True type=int 0\nupdateable default=True type=bool True\nuuid default=True type=str 00000000-0000-0000-0000-000000000000\ndefault_dispvm default=True type=vm default-dvm\n'
}

@test "vm.property.GetAll: kernelopts with LF and backslash is escaped" {
	callp 'x=1\ny=2\\z' dom0 admin.vm.property.Set work kernelopts
	expect_ok
	# Get returns the raw value
	call -e dom0 admin.vm.property.Get work kernelopts
	expect_ok 'default=False type=str x=1\ny=2\\z'
	# GetAll: "\" -> "\\" first, then LF -> "\n" (two characters)
	call -e dom0 admin.vm.property.GetAll work
	expect_ok "${WORK_GETALL_HEAD}kernelopts default=False type=str x=1\\\\ny=2\\\\\\\\z\\n$WORK_GETALL_TAIL"
}

@test "vm.property.GetAll: fail-arg-not-empty, fail-payload" {
	call -e dom0 admin.vm.property.GetAll work label
	expect_silent
	callp 'x' dom0 admin.vm.property.GetAll work
	expect_silent
}

# ---------------------------------------------------------------------------
# GetDefault

@test "vm.property.GetDefault: value, None, no default" {
	call -e dom0 admin.vm.property.GetDefault work vcpus
	expect_ok 'type=int 2'
	call -e dom0 admin.vm.property.GetDefault work memory
	expect_ok 'type=int 400'
	call -e dom0 admin.vm.property.GetDefault standalone label
	expect_ok ''
	call -e dom0 admin.vm.property.GetDefault fedora-39 netvm
	expect_ok 'type=vm '
	call -e dom0 admin.vm.property.GetDefault sys-net netvm
	expect_ok 'type=vm sys-firewall'
	call -e dom0 admin.vm.property.GetDefault dom0 default_dispvm
	expect_ok 'type=vm default-dvm'
}

@test "vm.property.GetDefault: fail-no-such-property, fail-payload" {
	call -e dom0 admin.vm.property.GetDefault work nosuch
	expect_exc QubesNoSuchPropertyError "Invalid property 'nosuch' of work"
	callp 'x' dom0 admin.vm.property.GetDefault work vcpus
	expect_silent
}

# ---------------------------------------------------------------------------
# Help

@test "vm.property.Help: texts" {
	call -e dom0 admin.vm.property.Help work label
	expect_ok 'Colourful label assigned to VM. This is where the colour of the padlock is set.'
	call -e dom0 admin.vm.property.Help disp-test netvm
	expect_ok 'VM that provides network connection to this domain. When None, machine is disconnected. When absent, domain uses default NetVM.'
	call -e dom0 admin.vm.property.Help dom0 default_dispvm
	expect_ok 'Default VM to be used as Disposable VM for service calls.'
	call -e dom0 admin.vm.property.Help work name
	expect_ok 'User-specified name of the domain.'
	call -e dom0 admin.vm.property.Help dom0 name
	expect_ok ''
}

@test "vm.property.Help: fail-no-such-property; HelpRst does not exist" {
	call -e dom0 admin.vm.property.Help work nosuch
	expect_exc QubesNoSuchPropertyError "Invalid property 'nosuch' of work"
	call -e dom0 admin.vm.property.HelpRst work label
	expect_silent
}

# ---------------------------------------------------------------------------
# Set: parsing and validation

@test "vm.property.Set: label by number, by name, by label-N" {
	callp '3' dom0 admin.vm.property.Set work label
	expect_ok
	call -e dom0 admin.vm.property.Get work label
	expect_ok 'default=False type=label yellow'
	callp 'label-2' dom0 admin.vm.property.Set work label
	expect_ok
	call -e dom0 admin.vm.property.Get work label
	expect_ok 'default=False type=label orange'
	callp 'purple' dom0 admin.vm.property.Set work label
	expect_ok
	call -e dom0 admin.vm.property.Get work label
	expect_ok 'default=False type=label purple'
	# icon follows the label
	call -e dom0 admin.vm.property.Get work icon
	expect_ok 'default=True type=str appvm-purple'
	expect_xml_has '<property name="label">purple</property>'
}

@test "vm.property.Set: fail-label (unknown name; label-N with bad N silent)" {
	callp 'nosuch' dom0 admin.vm.property.Set work label
	expect_exc QubesLabelNotFoundError 'Label does not exist: nosuch'
	callp 'label-99' dom0 admin.vm.property.Set work label
	expect_silent
	callp 'label-x' dom0 admin.vm.property.Set work label
	expect_silent
	call -e dom0 admin.vm.property.Get work label
	expect_ok 'default=False type=label blue'
}

@test "vm.property.Set: int parsing and range" {
	callp '-5' dom0 admin.vm.property.Set work memory
	expect_exc QubesPropertyValueError 'memory must be positive'
	callp '0' dom0 admin.vm.property.Set work memory
	expect_exc QubesPropertyValueError 'memory must be positive'
	callp 'abc' dom0 admin.vm.property.Set work memory
	expect_exc QubesValueError 'Failed to parse property value as int'
	callp '' dom0 admin.vm.property.Set work memory
	expect_exc QubesValueError 'Failed to parse property value as int'
	callp '0' dom0 admin.vm.property.Set work vcpus
	expect_exc QubesPropertyValueError 'vcpus must be positive'
	callp '-1' dom0 admin.vm.property.Set work maxmem
	expect_exc QubesPropertyValueError 'maxmem must be positive or zero'
	callp '5\xc3\xa9' dom0 admin.vm.property.Set work memory
	expect_exc QubesValueError 'Non-ASCII bytes in property value'
	call -e dom0 admin.vm.property.Get work memory
	expect_ok 'default=False type=int 600'
	# whitespace, sign and "_" between digits are tolerated
	callp ' 512\n' dom0 admin.vm.property.Set work memory
	expect_ok
	call -e dom0 admin.vm.property.Get work memory
	expect_ok 'default=False type=int 512'
	callp '+1_024' dom0 admin.vm.property.Set work memory
	expect_ok
	call -e dom0 admin.vm.property.Get work memory
	expect_ok 'default=False type=int 1024'
}

@test "vm.property.Set: bool parsing" {
	callp 'maybe' dom0 admin.vm.property.Set work autostart
	expect_exc QubesValueError "Invalid literal for boolean property: 'maybe'"
	callp 'true ' dom0 admin.vm.property.Set work debug
	expect_exc QubesValueError "Invalid literal for boolean property: 'true '"
	callp 'YES' dom0 admin.vm.property.Set work debug
	expect_ok
	call -e dom0 admin.vm.property.Get work debug
	expect_ok 'default=False type=bool True'
	callp 'off' dom0 admin.vm.property.Set work debug
	expect_ok
	call -e dom0 admin.vm.property.Get work debug
	expect_ok 'default=False type=bool False'
	expect_xml_has '<property name="debug">False</property>'
}

@test "vm.property.Set: str parsing (non-ASCII, DEL, VT refused)" {
	callp 'caf\xc3\xa9' dom0 admin.vm.property.Set work kernelopts
	expect_exc QubesValueError 'Non-ASCII bytes in property value'
	callp 'a\x7fb' dom0 admin.vm.property.Set work kernelopts
	expect_exc QubesValueError 'Invalid characters in property value'
	callp 'a\x01b' dom0 admin.vm.property.Set work kernelopts
	expect_exc QubesValueError 'Invalid characters in property value'
	# VT: printable for Python, but XML cannot carry it (divergences.md)
	callp 'a\x0bb' dom0 admin.vm.property.Set work kernelopts
	expect_exc QubesValueError 'Invalid characters in property value'
	call -e dom0 admin.vm.property.Get work kernelopts
	expect_ok 'default=True type=str swiotlb=2048'
}

@test "vm.property.Set: class validators" {
	callp 'a b' dom0 admin.vm.property.Set work default_user
	expect_exc QubesPropertyValueError 'Username can contain only those characters: abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-+,.'
	callp 'foo' dom0 admin.vm.property.Set work virt_mode
	expect_exc QubesPropertyValueError 'Invalid virtualization mode, supported values: hvm, pv, pvh'
	callp 'HVM' dom0 admin.vm.property.Set work virt_mode
	expect_ok
	call -e dom0 admin.vm.property.Get work virt_mode
	expect_ok 'default=False type=str hvm'
	callp '1.2.3' dom0 admin.vm.property.Set work ip
	expect_exc QubesValueError 'Failed to parse property value as IPv4Address'
	callp '10.137.0.99' dom0 admin.vm.property.Set work ip
	expect_ok
	call -e dom0 admin.vm.property.Get work visible_ip
	expect_ok 'default=True type=str 10.137.0.99'
	callp 'a/b' dom0 admin.vm.property.Set work kernel
	expect_exc QubesPropertyValueError "Kernel name cannot contain '/'"
	callp 'nonexistent' dom0 admin.vm.property.Set work kernel
	expect_exc QubesPropertyValueError "Kernel 'nonexistent' not installed"
	mkdir "$BASE/vm-kernels/broken"
	callp 'broken' dom0 admin.vm.property.Set work kernel
	expect_exc QubesPropertyValueError "Kernel 'broken' not properly installed: missing 'vmlinuz' file"
	callp 'us' dom0 admin.vm.property.Set work keyboard_layout
	expect_exc QubesPropertyValueError 'invalid number of keyboard layout parameters'
	callp 'de+neo+' dom0 admin.vm.property.Set work keyboard_layout
	expect_ok
}

@test "vm.property.Set: kernelopts longer than 512 characters" {
	printf '%0513d' 0 >"$T/long"
	call dom0 admin.vm.property.Set work kernelopts <"$T/long"
	expect_exc QubesPropertyValueError 'Kernelopts value too long (512 chars max)'
	printf '%0512d' 0 >"$T/long"
	call dom0 admin.vm.property.Set work kernelopts <"$T/long"
	expect_ok
}

@test "vm.property.Set: fail-no-such-property" {
	callp 'x' dom0 admin.vm.property.Set work nosuch
	expect_exc QubesNoSuchPropertyError "Invalid property 'nosuch' of work"
}

@test "vm.property.Set: same value again is accepted" {
	callp 'blue' dom0 admin.vm.property.Set work label
	expect_ok
	call -e dom0 admin.vm.property.Get work label
	expect_ok 'default=False type=label blue'
}

@test "vm.property.Set: template-inherited default follows the template" {
	callp '1000' dom0 admin.vm.property.Set fedora-39 memory
	expect_ok
	call -e dom0 admin.vm.property.Get personal memory
	expect_ok 'default=True type=int 1000'
	# work has its own value
	call -e dom0 admin.vm.property.Get work memory
	expect_ok 'default=False type=int 600'
	call -e dom0 admin.vm.property.Reset fedora-39 memory
	expect_ok
	call -e dom0 admin.vm.property.Get personal memory
	expect_ok 'default=True type=int 400'
}

# ---------------------------------------------------------------------------
# write-once, computed and read-only properties

@test "vm.property.Set: fail-write-once name/qid/uuid/dispid (silent close)" {
	callp 'other' dom0 admin.vm.property.Set work name
	expect_silent
	callp '77' dom0 admin.vm.property.Set work qid
	expect_silent
	callp '6fa9f5a0-5b4b-4c2b-9f0e-1d3f2b7f4e11' dom0 admin.vm.property.Set work uuid
	expect_silent
	callp '5' dom0 admin.vm.property.Set disp-test dispid
	expect_silent
	call -e dom0 admin.vm.property.Reset work name
	expect_silent
	call -e dom0 admin.vm.property.Reset work qid
	expect_silent
	call -e dom0 admin.vm.property.Get work name
	expect_ok 'default=False type=str work'
	call -e dom0 admin.vm.property.Get work qid
	expect_ok 'default=False type=int 4'
	call -e dom0 admin.vm.List work
	expect_ok 'work class=AppVM state=Halted\n'
}

@test "vm.property.Set: uuid parse error comes before write-once" {
	callp 'not-a-uuid' dom0 admin.vm.property.Set work uuid
	expect_exc QubesValueError 'Failed to parse property value as UUID'
}

@test "vm.property.Set: fail-read-only (dom0 name, computed properties)" {
	callp 'other' dom0 admin.vm.property.Set dom0 name
	expect_exc QubesPropertyValueError "property 'name' on AdminVM instance cannot be set"
	callp '5' dom0 admin.vm.property.Set dom0 qid
	expect_exc QubesPropertyValueError "property 'qid' on AdminVM instance cannot be set"
	callp '5' dom0 admin.vm.property.Set work xid
	expect_exc QubesPropertyValueError "property 'xid' on AppVM instance cannot be set"
	callp 'x' dom0 admin.vm.property.Set work klass
	expect_exc QubesPropertyValueError "property 'klass' on AppVM instance cannot be set"
	callp 'True' dom0 admin.vm.property.Set standalone updateable
	expect_exc QubesPropertyValueError "property 'updateable' on StandaloneVM instance cannot be set"
}

@test "vm.property.Reset: computed property is an accepted no-op" {
	cp "$BASE/qubes.xml" "$T/before.xml"
	call -e dom0 admin.vm.property.Reset work xid
	expect_ok
	call -e dom0 admin.vm.property.Get work xid
	expect_ok 'default=True type=str -1'
	call -e dom0 admin.vm.property.Reset work klass
	expect_ok
	call -e dom0 admin.vm.property.Get work klass
	expect_ok 'default=True type=str AppVM'
	call -e dom0 admin.vm.property.Reset work updateable
	expect_ok
	call -e dom0 admin.vm.property.Reset dom0 name
	expect_ok
	call -e dom0 admin.vm.property.Get dom0 name
	expect_ok 'default=True type=str dom0'
	expect_xml_lacks '<property name="xid">'
	expect_xml_lacks '<property name="klass">'
}

@test "vm.property.Reset: explicit value back to default, written to qubes.xml" {
	call -e dom0 admin.vm.property.Reset work memory
	expect_ok
	call -e dom0 admin.vm.property.Get work memory
	expect_ok 'default=True type=int 400'
	domain_xml work >"$T/dom"
	refute grep -qF '<property name="memory">' "$T/dom"
	grep -qF '<property name="vcpus">4</property>' "$T/dom"
}

@test "vm.property.Reset: fail-no-such-property, fail-payload" {
	call -e dom0 admin.vm.property.Reset work nosuch
	expect_exc QubesNoSuchPropertyError "Invalid property 'nosuch' of work"
	callp 'x' dom0 admin.vm.property.Reset work memory
	expect_silent
	call -e dom0 admin.vm.property.Get work memory
	expect_ok 'default=False type=int 600'
}

# ---------------------------------------------------------------------------
# netvm

@test "vm.property.Set netvm: fail-loop" {
	callp 'sys-firewall' dom0 admin.vm.property.Set sys-net netvm
	expect_exc QubesValueError 'Loops in network are unsupported'
	callp 'sys-firewall' dom0 admin.vm.property.Set sys-firewall netvm
	expect_exc QubesValueError 'Loops in network are unsupported'
	call -e dom0 admin.vm.property.Get sys-net netvm
	expect_ok 'default=False type=vm '
}

@test "vm.property.Set netvm: fail-not-network-provider, unknown, bad name, non-ASCII" {
	callp 'standalone' dom0 admin.vm.property.Set work netvm
	expect_exc QubesValueError 'The standalone qube does not provide network'
	callp 'no-such-qube' dom0 admin.vm.property.Set work netvm
	expect_exc QubesPropertyValueError "Can't set netvm to non-existing qube no-such-qube"
	callp 'bad/name' dom0 admin.vm.property.Set work netvm
	expect_exc QubesValueError 'VM name contains illegal characters'
	callp '\xc3\xa9' dom0 admin.vm.property.Set work netvm
	expect_exc QubesValueError ''
	call -e dom0 admin.vm.property.Get work netvm
	expect_ok 'default=True type=vm sys-firewall'
}

@test "vm.property.Set netvm: explicit qube, explicit None, Reset" {
	callp 'sys-net' dom0 admin.vm.property.Set work netvm
	expect_ok
	call -e dom0 admin.vm.property.Get work netvm
	expect_ok 'default=False type=vm sys-net'
	call -e dom0 admin.vm.property.Set work netvm
	expect_ok
	call -e dom0 admin.vm.property.Get work netvm
	expect_ok 'default=False type=vm '
	call -e dom0 admin.vm.property.Get work dns
	expect_ok 'default=True type=str '
	call -e dom0 admin.vm.property.Reset work netvm
	expect_ok
	call -e dom0 admin.vm.property.Get work netvm
	expect_ok 'default=True type=vm sys-firewall'
}

@test "vm.property.Reset netvm: fail-loop through the default" {
	call -e dom0 admin.vm.property.Reset sys-net netvm
	expect_exc QubesValueError 'Loops in network are unsupported'
	call -e dom0 admin.vm.property.Get sys-net netvm
	expect_ok 'default=False type=vm '
}

@test "vm.property.Set provides_network False: fail-still-used" {
	callp 'False' dom0 admin.vm.property.Set sys-firewall provides_network
	expect_exc QubesValueError "The qube is still used by other qubes, change theirs 'netvm' first"
	call -e dom0 admin.vm.property.Get sys-firewall provides_network
	expect_ok 'default=False type=bool True'
}

# ---------------------------------------------------------------------------
# template

@test "vm.property.Set template: fail-wrong-class" {
	callp 'standalone' dom0 admin.vm.property.Set work template
	expect_exc QubesPropertyValueError "wrong VM class: domains['standalone'] is of type StandaloneVM and not TemplateVM"
	callp 'sys-net' dom0 admin.vm.property.Set work template
	expect_exc QubesPropertyValueError "wrong VM class: domains['sys-net'] is of type AppVM and not TemplateVM"
	callp 'nosuch' dom0 admin.vm.property.Set work template
	expect_exc QubesPropertyValueError "Can't set template to non-existing qube nosuch"
	call -e dom0 admin.vm.property.Get work template
	expect_ok 'default=False type=vm fedora-39'
}

@test "vm.property.Set template: fail-none (debug repr message)" {
	call -e dom0 admin.vm.property.Set work template
	expect_reply_re "^2\\\\0QubesPropertyValueError\\\\0\\\\0Invalid value None for property 'template' of <AppVM at 0x[0-9a-f]+ name='work' qid=4 .* template=fedora-39>\\\\0\$"
}

@test "vm.property.Set template: another TemplateVM is accepted" {
	callp 'name=tpl-2 label=black' dom0 admin.vm.Create.TemplateVM dom0
	expect_ok
	callp 'tpl-2' dom0 admin.vm.property.Set work template
	expect_ok
	call -e dom0 admin.vm.property.Get work template
	expect_ok 'default=False type=vm tpl-2'
}

@test "vm.property.Reset template: refused for AppVM and DispVM" {
	call -e dom0 admin.vm.property.Reset work template
	expect_exc QubesValueError 'Cannot unset template. You can set it to the current default (fedora-39) instead'
	call -e dom0 admin.vm.property.Reset disp-test template
	expect_exc QubesValueError 'Cannot unset template'
}

@test "vm.property.Set template (DispVM): needs template_for_dispvms" {
	callp 'work' dom0 admin.vm.property.Set disp-test template
	expect_exc QubesPropertyValueError 'template for DispVM must have template_for_dispvms=True'
	callp 'False' dom0 admin.vm.property.Set default-dvm template_for_dispvms
	expect_exc QubesVMInUseError 'Cannot change template_for_dispvms to False while there are some DispVMs based on this DVM template'
	callp 'True' dom0 admin.vm.property.Set work template_for_dispvms
	expect_ok
	callp 'work' dom0 admin.vm.property.Set disp-test template
	expect_ok
	call -e dom0 admin.vm.property.Get work icon
	expect_ok 'default=True type=str templatevm-blue'
}

# ---------------------------------------------------------------------------
# other classes

@test "vm.property.Set: AdminVM default_dispvm does not change qubes' default" {
	callp 'standalone' dom0 admin.vm.property.Set dom0 default_dispvm
	expect_ok
	call -e dom0 admin.vm.property.Get dom0 default_dispvm
	expect_ok 'default=False type=vm standalone'
	call -e dom0 admin.vm.property.Get work default_dispvm
	expect_ok 'default=True type=vm default-dvm'
	call -e dom0 admin.vm.property.Reset dom0 default_dispvm
	expect_ok
	call -e dom0 admin.vm.property.Get dom0 default_dispvm
	expect_ok 'default=True type=vm default-dvm'
}

@test "vm.property.Set: guivm None drops the guivm-dom0 tag" {
	call -e dom0 admin.vm.property.Set personal guivm
	expect_ok
	call -e dom0 admin.vm.property.Get personal guivm
	expect_ok 'default=False type=vm '
	call -e dom0 admin.vm.tag.List personal
	expect_ok 'audiovm-dom0\ncreated-by-dom0\n'
	callp 'sys-net' dom0 admin.vm.property.Set personal guivm
	expect_ok
	call -e dom0 admin.vm.tag.List personal
	expect_ok 'audiovm-dom0\ncreated-by-dom0\nguivm-sys-net\n'
}

@test "vm.property.Set: source other than dom0 is not restricted by the broker" {
	callp '2' personal admin.vm.property.Set work vcpus
	expect_ok
	call -e personal admin.vm.property.Get work vcpus
	expect_ok 'default=False type=int 2'
}
