#!/usr/bin/env bats
# admin.vm.feature.List / Get / Set / Remove / CheckWith* (calls-core.md 4).

load helpers

setup() {
	setup_fixture_broker
}

teardown() {
	teardown_broker
}

@test "feature.List: insertion order, not sorted; empty list" {
	call -e dom0 admin.vm.feature.List fedora-39
	expect_ok 'os\nqrexec\ngui\n'
	call -e dom0 admin.vm.feature.List work
	expect_ok ''
	call -e dom0 admin.vm.feature.List sys-net
	expect_ok 'servicevm\nservice.clocksync\nservice.network-manager\n'
}

@test "feature.List: fail-arg-not-empty, fail-payload" {
	call -e dom0 admin.vm.feature.List work x
	expect_silent
	callp 'x' dom0 admin.vm.feature.List work
	expect_silent
}

@test "feature.Get: value; not found; no template lookup" {
	call -e dom0 admin.vm.feature.Get fedora-39 os
	expect_ok 'Linux'
	call -e dom0 admin.vm.feature.Get work os
	expect_exc QubesFeatureNotFoundError 'Feature not set for domain work: os'
	call -e dom0 admin.vm.feature.Get dom0 gui-default-trayicon-mode
	expect_ok 'bg'
	callp 'x' dom0 admin.vm.feature.Get fedora-39 os
	expect_silent
}

@test "feature.Set: insertion order kept on overwrite, re-added goes last" {
	callp 'last' dom0 admin.vm.feature.Set work zeta
	expect_ok
	callp 'first' dom0 admin.vm.feature.Set work alpha
	expect_ok
	call -e dom0 admin.vm.feature.Set work empty
	expect_ok
	callp 'line1\nline2\t!' dom0 admin.vm.feature.Set work multi
	expect_ok
	call -e dom0 admin.vm.feature.List work
	expect_ok 'zeta\nalpha\nempty\nmulti\n'
	call -e dom0 admin.vm.feature.Get work multi
	expect_ok 'line1\nline2\t!'
	call -e dom0 admin.vm.feature.Get work empty
	expect_ok ''
	callp 'changed' dom0 admin.vm.feature.Set work zeta
	expect_ok
	call -e dom0 admin.vm.feature.List work
	expect_ok 'zeta\nalpha\nempty\nmulti\n'
	call -e dom0 admin.vm.feature.Get work zeta
	expect_ok 'changed'
	call -e dom0 admin.vm.feature.Remove work alpha
	expect_ok
	call -e dom0 admin.vm.feature.Remove work alpha
	expect_exc QubesFeatureNotFoundError 'Feature not set for domain work: alpha'
	callp 'again' dom0 admin.vm.feature.Set work alpha
	expect_ok
	call -e dom0 admin.vm.feature.List work
	expect_ok 'zeta\nempty\nmulti\nalpha\n'
}

@test "feature.Set: stored in qubes.xml" {
	callp 'v1' dom0 admin.vm.feature.Set work my-feature
	expect_ok
	call -e dom0 admin.vm.feature.Set work flag
	expect_ok
	domain_xml work >"$T/dom"
	grep -qF '<feature name="my-feature">v1</feature>' "$T/dom"
	grep -qE '<feature name="flag"(/>|></feature>)' "$T/dom"
	call -e dom0 admin.vm.feature.Remove work my-feature
	expect_ok
	expect_xml_lacks 'name="my-feature"'
}

@test "feature.Set: XML special characters in the value round-trip" {
	callp '<a href="x">&amp;</a> '"'"'q'"'" dom0 admin.vm.feature.Set work markup
	expect_ok
	call -e dom0 admin.vm.feature.Get work markup
	expect_ok '<a href="x">&amp;</a> '"'"'q'"'"
	if have_xmllint; then
		xmllint --noout "$BASE/qubes.xml"
	fi
	expect_xml_has '<feature name="markup">&lt;a href="x"&gt;&amp;amp;&lt;/a&gt; '"'"'q'"'"'</feature>'
}

@test "feature.Set: fail-non-ascii-value (silent) and not stored" {
	callp 'caf\xc3\xa9' dom0 admin.vm.feature.Set work bad
	expect_silent
	call -e dom0 admin.vm.feature.Get work bad
	expect_exc QubesFeatureNotFoundError 'Feature not set for domain work: bad'
}

@test "feature.Set: fail-control-character (\\x01) refused, not stored (divergence)" {
	cp "$BASE/qubes.xml" "$T/before.xml"
	callp 'a\x01b' dom0 admin.vm.feature.Set work ctl
	expect_exc QubesValueError 'Feature value contains a control character'
	call -e dom0 admin.vm.feature.Get work ctl
	expect_exc QubesFeatureNotFoundError 'Feature not set for domain work: ctl'
	expect_same "$T/before.xml" "$BASE/qubes.xml" qubes.xml
	# the store is still writable
	callp 'ok' dom0 admin.vm.feature.Set work ctl
	expect_ok
	call -e dom0 admin.vm.feature.Get work ctl
	expect_ok 'ok'
}

@test "feature.Set: fail-control-character (ESC, VT, DEL, NUL) refused" {
	callp 'a\x1bb' dom0 admin.vm.feature.Set work ctl
	expect_exc QubesValueError 'Feature value contains a control character'
	callp 'a\x0bb' dom0 admin.vm.feature.Set work ctl
	expect_exc QubesValueError 'Feature value contains a control character'
	callp 'a\x7fb' dom0 admin.vm.feature.Set work ctl
	expect_exc QubesValueError 'Feature value contains a control character'
	callp 'a\0b' dom0 admin.vm.feature.Set work ctl
	expect_exc QubesValueError 'Feature value contains a control character'
	call -e dom0 admin.vm.feature.List work
	expect_ok ''
	# TAB, LF and CR are fine
	callp 'a\tb\r\nc' dom0 admin.vm.feature.Set work ctl
	expect_ok
	call -e dom0 admin.vm.feature.Get work ctl
	expect_ok 'a\tb\r\nc'
}

@test "feature.Set: service.* name checks" {
	callp '1' dom0 admin.vm.feature.Set work service.
	expect_exc QubesValueError 'Service name cannot be empty'
	callp '1' dom0 admin.vm.feature.Set work service.a/b
	expect_exc QubesValueError 'Service name cannot contain a slash'
	callp '1' dom0 admin.vm.feature.Set work service..
	expect_exc QubesValueError 'Service name cannot be "." or ".."'
	callp '1' dom0 admin.vm.feature.Set work service...
	expect_exc QubesValueError 'Service name cannot be "." or ".."'
	# 49 bytes
	callp '1' dom0 admin.vm.feature.Set work service.abcdefghijabcdefghijabcdefghijabcdefghijabcdefghi
	expect_exc QubesValueError 'Service name must not exceed 48 bytes'
	call -e dom0 admin.vm.feature.List work
	expect_ok ''
	# 48 bytes is the maximum
	callp '1' dom0 admin.vm.feature.Set work service.abcdefghijabcdefghijabcdefghijabcdefghijabcdefgh
	expect_ok
	call -e dom0 admin.vm.feature.List work
	expect_ok 'service.abcdefghijabcdefghijabcdefghijabcdefghijabcdefgh\n'
}

@test "feature.Set: vm-config.* name checks happen before storing" {
	callp 'x' dom0 admin.vm.feature.Set work vm-config.
	expect_exc QubesValueError 'Empty config name not allowed'
	callp 'x' dom0 admin.vm.feature.Set work vm-config.1abc
	expect_exc QubesValueError 'Config name must start with an ASCII letter'
	call -e dom0 admin.vm.feature.List work
	expect_ok ''
	callp 'x' dom0 admin.vm.feature.Set work vm-config.abc
	expect_ok
}

@test "feature.Remove: fail-not-found, fail-payload" {
	call -e dom0 admin.vm.feature.Remove work nosuch
	expect_exc QubesFeatureNotFoundError 'Feature not set for domain work: nosuch'
	callp 'x' dom0 admin.vm.feature.Remove fedora-39 os
	expect_silent
	call -e dom0 admin.vm.feature.Get fedora-39 os
	expect_ok 'Linux'
}

@test "feature.CheckWithTemplate: template chain" {
	call -e dom0 admin.vm.feature.CheckWithTemplate work os
	expect_ok 'Linux'
	call -e dom0 admin.vm.feature.CheckWithTemplate disp-test appmenus-dispvm
	expect_ok '1'
	# disp-test -> default-dvm -> fedora-39
	call -e dom0 admin.vm.feature.CheckWithTemplate disp-test os
	expect_ok 'Linux'
	call -e dom0 admin.vm.feature.CheckWithTemplate standalone os
	expect_exc QubesFeatureNotFoundError 'Feature not set for domain standalone: os'
	# the qube's own value wins, even an empty one
	call -e dom0 admin.vm.feature.Set work os
	expect_ok
	call -e dom0 admin.vm.feature.CheckWithTemplate work os
	expect_ok ''
}

@test "feature.CheckWithNetvm: netvm chain incl. default netvm" {
	# personal -> sys-firewall (default) -> sys-net
	call -e dom0 admin.vm.feature.CheckWithNetvm personal service.network-manager
	expect_ok '1'
	call -e dom0 admin.vm.feature.CheckWithNetvm personal servicevm
	expect_ok '1'
	call -e dom0 admin.vm.feature.CheckWithNetvm fedora-39 servicevm
	expect_exc QubesFeatureNotFoundError 'Feature not set for domain fedora-39: servicevm'
	call -e dom0 admin.vm.feature.CheckWithNetvm personal os
	expect_exc QubesFeatureNotFoundError 'Feature not set for domain personal: os'
}

@test "feature.CheckWithAdminVM / CheckWithTemplateAndAdminVM" {
	call -e dom0 admin.vm.feature.CheckWithAdminVM personal gui-default-trayicon-mode
	expect_ok 'bg'
	call -e dom0 admin.vm.feature.CheckWithAdminVM personal os
	expect_exc QubesFeatureNotFoundError 'Feature not set for domain personal: os'
	call -e dom0 admin.vm.feature.CheckWithTemplateAndAdminVM disp-test gui-default-trayicon-mode
	expect_ok 'bg'
	callp 'tpl' dom0 admin.vm.feature.Set fedora-39 gui-default-trayicon-mode
	expect_ok
	call -e dom0 admin.vm.feature.CheckWithTemplateAndAdminVM disp-test gui-default-trayicon-mode
	expect_ok 'tpl'
	call -e dom0 admin.vm.feature.CheckWithTemplateAndAdminVM disp-test os
	expect_ok 'Linux'
	# an empty value on dom0 is a hit
	call -e dom0 admin.vm.feature.Set dom0 gui-default-trayicon-mode
	expect_ok
	call -e dom0 admin.vm.feature.CheckWithAdminVM standalone gui-default-trayicon-mode
	expect_ok ''
	call -e dom0 admin.vm.feature.CheckWithTemplateAndAdminVM standalone nosuch
	expect_exc QubesFeatureNotFoundError 'Feature not set for domain standalone: nosuch'
}

@test "feature.CheckWith*: fail-payload (silent)" {
	callp 'x' dom0 admin.vm.feature.CheckWithTemplate work os
	expect_silent
	callp 'x' dom0 admin.vm.feature.CheckWithNetvm work os
	expect_silent
	callp 'x' dom0 admin.vm.feature.CheckWithAdminVM work os
	expect_silent
	callp 'x' dom0 admin.vm.feature.CheckWithTemplateAndAdminVM work os
	expect_silent
}
