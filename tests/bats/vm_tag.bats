#!/usr/bin/env bats
# admin.vm.tag.List / Get / Set / Remove (calls-core.md 5, protocol.md 4.3).

load helpers

setup() {
	setup_fixture_broker
}

teardown() {
	teardown_broker
}

@test "tag.List: sorted bytewise; dom0 has none" {
	call -e dom0 admin.vm.tag.List work
	expect_ok 'audiovm-dom0\ncreated-by-dom0\nguivm-dom0\nproject-x\n'
	call -e dom0 admin.vm.tag.List dom0
	expect_ok ''
	call -e dom0 admin.vm.tag.Set personal Upper
	expect_ok
	call -e dom0 admin.vm.tag.Set personal zz_last-1
	expect_ok
	call -e dom0 admin.vm.tag.Set personal 0digit
	expect_ok
	call -e dom0 admin.vm.tag.List personal
	expect_ok '0digit\nUpper\naudiovm-dom0\ncreated-by-dom0\nguivm-dom0\nzz_last-1\n'
}

@test "tag.List: fail-arg-not-empty, fail-payload" {
	call -e dom0 admin.vm.tag.List work x
	expect_silent
	callp 'x' dom0 admin.vm.tag.List work
	expect_silent
}

@test "tag.Get: present 1, absent 0" {
	call -e dom0 admin.vm.tag.Get work project-x
	expect_ok '1'
	call -e dom0 admin.vm.tag.Get work nope
	expect_ok '0'
	call -e dom0 admin.vm.tag.Get dom0 project-x
	expect_ok '0'
}

@test "tag.Get/Set/Remove: fail-tag-syntax (silent)" {
	call -e dom0 admin.vm.tag.Get work bad.tag
	expect_silent
	call -e dom0 admin.vm.tag.Set personal 'a b'
	expect_silent
	call -e dom0 admin.vm.tag.Set personal a/b
	expect_silent
	call -e dom0 admin.vm.tag.Set personal a+b
	expect_silent
	call -e dom0 admin.vm.tag.Remove work project.x
	expect_silent
	call -e dom0 admin.vm.tag.List personal
	expect_ok 'audiovm-dom0\ncreated-by-dom0\nguivm-dom0\n'
}

@test "tag.Get/Set/Remove: fail-payload (silent)" {
	callp 'x' dom0 admin.vm.tag.Get work project-x
	expect_silent
	callp 'x' dom0 admin.vm.tag.Set work new-tag
	expect_silent
	callp 'x' dom0 admin.vm.tag.Remove work project-x
	expect_silent
	call -e dom0 admin.vm.tag.List work
	expect_ok 'audiovm-dom0\ncreated-by-dom0\nguivm-dom0\nproject-x\n'
}

@test "tag.Set: already present is OK; stored in qubes.xml" {
	call -e dom0 admin.vm.tag.Set work project-x
	expect_ok
	call -e dom0 admin.vm.tag.Set work new_tag-2
	expect_ok
	domain_xml work >"$T/dom"
	grep -qF '<tag name="new_tag-2"/>' "$T/dom"
	[[ $(grep -cF '<tag name="project-x"/>' "$T/dom") -eq 1 ]]
}

@test "tag.Remove: removes; fail-not-set" {
	call -e dom0 admin.vm.tag.Remove work project-x
	expect_ok
	call -e dom0 admin.vm.tag.Get work project-x
	expect_ok '0'
	expect_xml_lacks '<tag name="project-x"/>'
	call -e dom0 admin.vm.tag.Remove work project-x
	expect_exc QubesTagNotFoundError 'Tag not set for domain work: project-x'
}

@test "tag.Set/Remove from non-dom0: ordinary tags allowed" {
	call -e personal admin.vm.tag.Set work from-personal
	expect_ok
	call -e sys-net admin.vm.tag.Remove work from-personal
	expect_ok
	call -e personal admin.vm.tag.Get work from-personal
	expect_ok '0'
}

@test "tag.Set/Remove from non-dom0: fail-created-by-protected (silent)" {
	call -e personal admin.vm.tag.Set work created-by-personal
	expect_silent
	call -e personal admin.vm.tag.Set work created-by-dom0
	expect_silent
	call -e personal admin.vm.tag.Remove work created-by-dom0
	expect_silent
	call -e dom0 admin.vm.tag.List work
	expect_ok 'audiovm-dom0\ncreated-by-dom0\nguivm-dom0\nproject-x\n'
}

@test "tag.Set from non-dom0: disp-created-by-* is not protected" {
	call -e personal admin.vm.tag.Set work disp-created-by-personal
	expect_ok
	call -e personal admin.vm.tag.List work
	expect_ok 'audiovm-dom0\ncreated-by-dom0\ndisp-created-by-personal\nguivm-dom0\nproject-x\n'
	call -e personal admin.vm.tag.Remove work disp-created-by-personal
	expect_ok
}

@test "tag.Set created-by-X by dom0 adds X's tag-created-vm-with tags" {
	callp 'alpha beta' dom0 admin.vm.feature.Set personal tag-created-vm-with
	expect_ok
	call -e dom0 admin.vm.tag.Set standalone created-by-personal
	expect_ok
	call -e dom0 admin.vm.tag.List standalone
	expect_ok 'alpha\naudiovm-dom0\nbeta\ncreated-by-dom0\ncreated-by-personal\nguivm-dom0\n'
	# dom0 may remove created-by-*; the extra tags stay
	call -e dom0 admin.vm.tag.Remove standalone created-by-personal
	expect_ok
	call -e dom0 admin.vm.tag.List standalone
	expect_ok 'alpha\naudiovm-dom0\nbeta\ncreated-by-dom0\nguivm-dom0\n'
}

@test "tag-created-vm-with applies to qubes created by that source" {
	callp 'alpha beta' dom0 admin.vm.feature.Set personal tag-created-vm-with
	expect_ok
	callp 'name=made-by-personal label=green' personal admin.vm.Create.AppVM dom0
	expect_ok
	call -e dom0 admin.vm.tag.List made-by-personal
	expect_ok 'alpha\naudiovm-dom0\nbeta\ncreated-by-personal\nguivm-dom0\n'
	call -e personal admin.vm.tag.Remove made-by-personal created-by-personal
	expect_silent
	call -e dom0 admin.vm.tag.Get made-by-personal created-by-personal
	expect_ok '1'
}

@test "set-created-guivm applies to qubes created by that source" {
	callp 'sys-firewall' dom0 admin.vm.feature.Set personal set-created-guivm
	expect_ok
	callp 'name=gui-child label=green' personal admin.vm.Create.AppVM dom0
	expect_ok
	call -e dom0 admin.vm.property.Get gui-child guivm
	expect_ok 'default=False type=vm sys-firewall'
	call -e dom0 admin.vm.tag.List gui-child
	expect_ok 'audiovm-dom0\ncreated-by-personal\nguivm-sys-firewall\n'
}

@test "tag.Set created-by-<missing qube> by dom0: refused, nothing added" {
	call -e dom0 admin.vm.tag.Set work created-by-nosuch
	expect_silent
	call -e dom0 admin.vm.tag.Get work created-by-nosuch
	expect_ok '0'
}
