#!/usr/bin/env bats
# admin.label.List / Get / Index / Create / Remove (calls-core.md 6).

load helpers

setup() {
	setup_fixture_broker
}

teardown() {
	teardown_broker
}

@test "label.List: index order, custom label last" {
	call -e dom0 admin.label.List dom0
	expect_ok 'red\norange\nyellow\ngreen\ngray\nblue\npurple\nblack\ncyan\n'
}

@test "label.List: fail-arg-not-empty, fail-dest-not-dom0, fail-payload" {
	call -e dom0 admin.label.List dom0 red
	expect_silent
	call -e dom0 admin.label.List work
	expect_silent
	callp 'x' dom0 admin.label.List dom0
	expect_silent
}

@test "label.Get: colour by name and by number" {
	call -e dom0 admin.label.Get dom0 red
	expect_ok '0xcc0000'
	call -e dom0 admin.label.Get dom0 cyan
	expect_ok '0x00ffff'
	call -e dom0 admin.label.Get dom0 1
	expect_ok '0xcc0000'
	call -e dom0 admin.label.Get dom0 01
	expect_ok '0xcc0000'
	call -e dom0 admin.label.Get dom0 8
	expect_ok '0x000000'
}

@test "label.Get: fail-unknown (empty QubesValueError), fail-dest, fail-payload" {
	call -e dom0 admin.label.Get dom0 nosuch
	expect_exc QubesValueError ''
	call -e dom0 admin.label.Get dom0 99
	expect_exc QubesValueError ''
	call -e dom0 admin.label.Get dom0
	expect_exc QubesValueError ''
	call -e dom0 admin.label.Get work red
	expect_silent
	callp 'x' dom0 admin.label.Get dom0 red
	expect_silent
}

@test "label.Index: decimal index" {
	call -e dom0 admin.label.Index dom0 red
	expect_ok '1'
	call -e dom0 admin.label.Index dom0 black
	expect_ok '8'
	call -e dom0 admin.label.Index dom0 cyan
	expect_ok '9'
	call -e dom0 admin.label.Index dom0 nosuch
	expect_exc QubesValueError ''
	call -e dom0 admin.label.Index work red
	expect_silent
}

@test "label.Create: index max(8, highest)+1; colour stripped, case kept" {
	callp '0x008080' dom0 admin.label.Create dom0 teal
	expect_ok
	call -e dom0 admin.label.Index dom0 teal
	expect_ok '10'
	callp ' 0xFFc0CB\n' dom0 admin.label.Create dom0 Pink.2_x-y
	expect_ok
	call -e dom0 admin.label.Get dom0 Pink.2_x-y
	expect_ok '0xFFc0CB'
	call -e dom0 admin.label.List dom0
	expect_ok 'red\norange\nyellow\ngreen\ngray\nblue\npurple\nblack\ncyan\nteal\nPink.2_x-y\n'
	expect_xml_has '<label id="label-10" color="0x008080">teal</label>'
	expect_xml_has '<label id="label-11" color="0xFFc0CB">Pink.2_x-y</label>'
}

@test "label.Create: a new label can be used by a qube" {
	callp '0x008080' dom0 admin.label.Create dom0 teal
	expect_ok
	callp 'teal' dom0 admin.vm.property.Set work label
	expect_ok
	call -e dom0 admin.vm.property.Get work label
	expect_ok 'default=False type=label teal'
	call -e dom0 admin.vm.property.Get work icon
	expect_ok 'default=True type=str appvm-teal'
	callp 'name=teal-vm label=teal' dom0 admin.vm.Create.AppVM dom0
	expect_ok
}

@test "label.Create: fail-exists" {
	callp '0x112233' dom0 admin.label.Create dom0 red
	expect_exc QubesValueError 'label already exists'
	callp '0x112233' dom0 admin.label.Create dom0 cyan
	expect_exc QubesValueError 'label already exists'
}

@test "label.Create: fail-name (digits, bad chars, empty: silent)" {
	callp '0x112233' dom0 admin.label.Create dom0 42
	expect_silent
	callp '0x112233' dom0 admin.label.Create dom0 bad/name
	expect_silent
	callp '0x112233' dom0 admin.label.Create dom0 'a b'
	expect_silent
	callp '0x112233' dom0 admin.label.Create dom0 ''
	expect_silent
	call -e dom0 admin.label.List dom0
	expect_ok 'red\norange\nyellow\ngreen\ngray\nblue\npurple\nblack\ncyan\n'
}

@test "label.Create: fail-colour (silent)" {
	callp '0x12345' dom0 admin.label.Create dom0 new1
	expect_silent
	callp '0x12345g' dom0 admin.label.Create dom0 new1
	expect_silent
	callp '#123456' dom0 admin.label.Create dom0 new1
	expect_silent
	callp '0x1234567' dom0 admin.label.Create dom0 new1
	expect_silent
	callp '' dom0 admin.label.Create dom0 new1
	expect_silent
	callp '0x12345\xc3\xa9' dom0 admin.label.Create dom0 new1
	expect_silent
	call -e dom0 admin.label.Get dom0 new1
	expect_exc QubesValueError ''
}

@test "label.Create: fail-dest-not-dom0 (silent)" {
	callp '0x112233' dom0 admin.label.Create work new1
	expect_silent
	call -e dom0 admin.label.Get dom0 new1
	expect_exc QubesValueError ''
}

@test "label.Remove: custom label; fail-unknown; index not reused" {
	callp '0x008080' dom0 admin.label.Create dom0 teal
	expect_ok
	callp '0x808080' dom0 admin.label.Create dom0 grey2
	expect_ok
	call -e dom0 admin.label.Remove dom0 teal
	expect_ok
	expect_xml_lacks '>teal</label>'
	call -e dom0 admin.label.Remove dom0 teal
	expect_exc QubesValueError ''
	callp '0x808000' dom0 admin.label.Create dom0 olive
	expect_ok
	call -e dom0 admin.label.Index dom0 olive
	expect_ok '12'
	call -e dom0 admin.label.List dom0
	expect_ok 'red\norange\nyellow\ngreen\ngray\nblue\npurple\nblack\ncyan\ngrey2\nolive\n'
}

@test "label.Remove: fail-default-label (silent)" {
	call -e dom0 admin.label.Remove dom0 red
	expect_silent
	call -e dom0 admin.label.Remove dom0 8
	expect_silent
	call -e dom0 admin.label.Get dom0 red
	expect_ok '0xcc0000'
}

@test "label.Remove: fail-in-use" {
	callp 'cyan' dom0 admin.vm.property.Set personal label
	expect_ok
	call -e dom0 admin.label.Remove dom0 cyan
	expect_exc QubesException 'label still in use'
	call -e dom0 admin.label.Get dom0 cyan
	expect_ok '0x00ffff'
}

@test "label.Remove: fail-dest, fail-payload (silent)" {
	call -e dom0 admin.label.Remove work cyan
	expect_silent
	callp 'x' dom0 admin.label.Remove dom0 cyan
	expect_silent
	call -e dom0 admin.label.Get dom0 cyan
	expect_ok '0x00ffff'
}
