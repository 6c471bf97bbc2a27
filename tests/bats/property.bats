#!/usr/bin/env bats
# admin.property.List / Get / GetAll / GetDefault / Help / Set / Reset on
# the global object (calls-core.md 3, properties.md 4).

load helpers

setup() {
	setup_fixture_broker
}

teardown() {
	teardown_broker
}

GLOBAL_GETALL='check_updates_vm default=True type=bool True\nclockvm default=False type=vm sys-net\ndefault_audiovm default=True type=vm dom0\ndefault_dispvm default=False type=vm default-dvm\ndefault_guivm default=True type=vm dom0\ndefault_kernel default=False type=str 6.6.0-fake\ndefault_netvm default=False type=vm sys-firewall\ndefault_pool default=True type=str varlibqubes\ndefault_pool_kernel default=False type=str linux-kernel\ndefault_pool_private default=True type=str varlibqubes\ndefault_pool_root default=True type=str varlibqubes\ndefault_pool_volatile default=True type=str varlibqubes\ndefault_qrexec_timeout default=True type=int 60\ndefault_shutdown_timeout default=True type=int 60\ndefault_template default=False type=vm fedora-39\nmanagement_dispvm default=True type=vm \nstats_interval default=True type=int 3\nupdatevm default=False type=vm sys-firewall\n'

@test "property.List: global property order" {
	call -e dom0 admin.property.List dom0
	expect_ok 'check_updates_vm\nclockvm\ndefault_audiovm\ndefault_dispvm\ndefault_guivm\ndefault_kernel\ndefault_netvm\ndefault_pool\ndefault_pool_kernel\ndefault_pool_private\ndefault_pool_root\ndefault_pool_volatile\ndefault_qrexec_timeout\ndefault_shutdown_timeout\ndefault_template\nmanagement_dispvm\nstats_interval\nupdatevm\n'
}

@test "property.List: fail-dest-not-dom0, fail-arg-not-empty, fail-payload" {
	call -e dom0 admin.property.List work
	expect_silent
	call -e dom0 admin.property.List dom0 clockvm
	expect_silent
	callp 'x' dom0 admin.property.List dom0
	expect_silent
}

@test "property.Get: explicit, default, None" {
	call -e dom0 admin.property.Get dom0 clockvm
	expect_ok 'default=False type=vm sys-net'
	call -e dom0 admin.property.Get dom0 default_pool
	expect_ok 'default=True type=str varlibqubes'
	call -e dom0 admin.property.Get dom0 management_dispvm
	expect_ok 'default=True type=vm '
	call -e dom0 admin.property.Get dom0 stats_interval
	expect_ok 'default=True type=int 3'
	call -e dom0 admin.property.Get dom0 check_updates_vm
	expect_ok 'default=True type=bool True'
}

@test "property.Get: keyword adminvm destination (raw request)" {
	need_raw "keyword adminvm"
	raw admin 'admin.property.Get+clockvm dom0 keyword adminvm\0'
	expect_ok 'default=False type=vm sys-net'
}

@test "property.Get: fail-no-such-property (holder Qubes), fail-dest, fail-payload" {
	call -e dom0 admin.property.Get dom0 nosuch
	expect_exc QubesNoSuchPropertyError "Invalid property 'nosuch' of Qubes"
	# a qube property is not a global one
	call -e dom0 admin.property.Get dom0 label
	expect_exc QubesNoSuchPropertyError "Invalid property 'label' of Qubes"
	call -e dom0 admin.property.Get work clockvm
	expect_silent
	callp 'x' dom0 admin.property.Get dom0 clockvm
	expect_silent
}

@test "property.GetAll: exact output" {
	call -e dom0 admin.property.GetAll dom0
	expect_ok "$GLOBAL_GETALL"
}

@test "property.GetAll: fail-dest-not-dom0, fail-arg-not-empty" {
	call -e dom0 admin.property.GetAll work
	expect_silent
	call -e dom0 admin.property.GetAll dom0 x
	expect_silent
}

@test "property.GetDefault: value, None, no default" {
	call -e dom0 admin.property.GetDefault dom0 default_kernel
	expect_ok ''
	call -e dom0 admin.property.GetDefault dom0 default_template
	expect_ok ''
	call -e dom0 admin.property.GetDefault dom0 default_pool
	expect_ok 'type=str varlibqubes'
	call -e dom0 admin.property.GetDefault dom0 default_netvm
	expect_ok 'type=vm '
	call -e dom0 admin.property.GetDefault dom0 default_guivm
	expect_ok 'type=vm dom0'
	call -e dom0 admin.property.GetDefault dom0 default_qrexec_timeout
	expect_ok 'type=int 60'
	call -e dom0 admin.property.GetDefault dom0 nosuch
	expect_exc QubesNoSuchPropertyError "Invalid property 'nosuch' of Qubes"
}

@test "property.Help: texts and errors" {
	call -e dom0 admin.property.Help dom0 clockvm
	expect_ok 'Which VM to use as NTP proxy for updating AdminVM'
	call -e dom0 admin.property.Help dom0 default_netvm
	expect_ok 'Default NetVM for AppVMs. Initial state is None, which means that AppVMs are not connected to the Internet.'
	call -e dom0 admin.property.Help dom0 stats_interval
	expect_ok 'Interval in seconds for VM stats reporting (memory, CPU usage)'
	call -e dom0 admin.property.Help dom0 nosuch
	expect_exc QubesNoSuchPropertyError "Invalid property 'nosuch' of Qubes"
	call -e dom0 admin.property.HelpRst dom0 clockvm
	expect_silent
}

@test "property.Set: default_netvm loop, wrong class template, pools, kernels" {
	callp 'standalone' dom0 admin.property.Set dom0 default_netvm
	expect_exc QubesPropertyValueError "Network loop on 'standalone'"
	callp 'work' dom0 admin.property.Set dom0 default_template
	expect_exc QubesPropertyValueError "wrong VM class: domains['work'] is of type AppVM and not TemplateVM"
	callp 'nosuch' dom0 admin.property.Set dom0 default_pool
	expect_exc QubesPropertyValueError 'No such storage pool'
	callp 'nosuch' dom0 admin.property.Set dom0 default_pool_private
	expect_exc QubesPropertyValueError 'No such storage pool'
	callp 'nonexistent' dom0 admin.property.Set dom0 default_kernel
	expect_exc QubesPropertyValueError "Kernel 'nonexistent' not installed"
	callp 'nosuch' dom0 admin.property.Set dom0 updatevm
	expect_exc QubesPropertyValueError "Can't set updatevm to non-existing qube nosuch"
	call -e dom0 admin.property.GetAll dom0
	expect_ok "$GLOBAL_GETALL"
}

@test "property.Set: parse errors" {
	callp 'abc' dom0 admin.property.Set dom0 default_qrexec_timeout
	expect_exc QubesValueError 'Failed to parse property value as int'
	callp 'maybe' dom0 admin.property.Set dom0 check_updates_vm
	expect_exc QubesValueError "Invalid literal for boolean property: 'maybe'"
	callp 'a b' dom0 admin.property.Set dom0 clockvm
	expect_exc QubesValueError 'VM name contains illegal characters'
	callp 'x' dom0 admin.property.Set dom0 nosuch
	expect_exc QubesNoSuchPropertyError "Invalid property 'nosuch' of Qubes"
}

@test "property.Set: fail-dest-not-dom0 (silent)" {
	callp 'sys-net' dom0 admin.property.Set work updatevm
	expect_silent
	call -e dom0 admin.property.Get dom0 updatevm
	expect_ok 'default=False type=vm sys-firewall'
}

@test "property.Set: values are stored and written to qubes.xml" {
	call -e dom0 admin.property.Set dom0 clockvm
	expect_ok
	call -e dom0 admin.property.Get dom0 clockvm
	expect_ok 'default=False type=vm '
	expect_xml_has '<property name="clockvm"></property>'
	callp '-5' dom0 admin.property.Set dom0 stats_interval
	expect_ok
	call -e dom0 admin.property.Get dom0 stats_interval
	expect_ok 'default=False type=int -5'
	expect_xml_has '<property name="stats_interval">-5</property>'
	callp 'sys-net' dom0 admin.property.Set dom0 management_dispvm
	expect_ok
	call -e dom0 admin.property.Get dom0 management_dispvm
	expect_ok 'default=False type=vm sys-net'
	# qubes inherit it as their default
	call -e dom0 admin.vm.property.Get work management_dispvm
	expect_ok 'default=True type=vm sys-net'
}

@test "property.Set default_netvm: qubes using the default follow it" {
	callp 'sys-net' dom0 admin.property.Set dom0 default_netvm
	expect_ok
	call -e dom0 admin.vm.property.Get work netvm
	expect_ok 'default=True type=vm sys-net'
	# sys-firewall has an explicit netvm and keeps it
	call -e dom0 admin.vm.property.Get sys-firewall netvm
	expect_ok 'default=False type=vm sys-net'
	call -e dom0 admin.property.Set dom0 default_netvm
	expect_ok
	call -e dom0 admin.vm.property.Get work netvm
	expect_ok 'default=True type=vm '
	call -e dom0 admin.vm.property.Get work visible_gateway
	expect_ok 'default=True type=str '
}

@test "property.Set default_dispvm: qubes' default_dispvm follows" {
	callp 'work' dom0 admin.property.Set dom0 default_dispvm
	expect_ok
	call -e dom0 admin.vm.property.Get personal default_dispvm
	expect_ok 'default=True type=vm work'
	call -e dom0 admin.vm.property.Get dom0 default_dispvm
	expect_ok 'default=True type=vm work'
}

@test "property.Set default_template: empty value accepted" {
	call -e dom0 admin.property.Set dom0 default_template
	expect_ok
	call -e dom0 admin.property.Get dom0 default_template
	expect_ok 'default=False type=vm '
}

@test "property.Reset: back to default; Get reflects it" {
	call -e dom0 admin.property.Reset dom0 updatevm
	expect_ok
	call -e dom0 admin.property.Get dom0 updatevm
	expect_ok 'default=True type=vm '
	expect_xml_lacks '<property name="updatevm">'
	call -e dom0 admin.property.Reset dom0 default_pool_kernel
	expect_ok
	call -e dom0 admin.property.Get dom0 default_pool_kernel
	expect_ok 'default=True type=str varlibqubes'
}

@test "property.Reset: fail-no-such-property, fail-dest, fail-payload" {
	call -e dom0 admin.property.Reset dom0 nosuch
	expect_exc QubesNoSuchPropertyError "Invalid property 'nosuch' of Qubes"
	call -e dom0 admin.property.Reset work updatevm
	expect_silent
	callp 'x' dom0 admin.property.Reset dom0 updatevm
	expect_silent
	call -e dom0 admin.property.Get dom0 updatevm
	expect_ok 'default=False type=vm sys-firewall'
}
