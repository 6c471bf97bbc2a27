#!/usr/bin/env bats
# admin.vmclass.List, admin.vm.List, admin.vm.CurrentState,
# admin.vm.Create.* / admin.vm.CreateInPool.*, admin.vm.Remove
# (calls-core.md 2, 7, 8).

load helpers

setup() {
	setup_fixture_broker
}

teardown() {
	teardown_broker
}

# ---------------------------------------------------------------------------
# admin.vmclass.List

@test "vmclass.List: fixed class list" {
	call -e dom0 admin.vmclass.List dom0
	expect_ok 'AdminVM\nAppVM\nDispVM\nStandaloneVM\nTemplateVM\n'
}

@test "vmclass.List: fail-arg-not-empty, fail-dest-not-dom0, fail-payload" {
	call -e dom0 admin.vmclass.List dom0 AppVM
	expect_silent
	call -e dom0 admin.vmclass.List work
	expect_silent
	callp 'x' dom0 admin.vmclass.List dom0
	expect_silent
}

# ---------------------------------------------------------------------------
# admin.vm.List

@test "vm.List: dest dom0 lists every qube, dom0 first then by name" {
	call -e dom0 admin.vm.List dom0
	expect_ok "$FIXTURE_VM_LIST"
}

@test "vm.List: single-qube form" {
	call -e dom0 admin.vm.List work
	expect_ok 'work class=AppVM state=Halted\n'
	call -e dom0 admin.vm.List disp-test
	expect_ok 'disp-test class=DispVM state=Halted\n'
	call -e dom0 admin.vm.List fedora-39
	expect_ok 'fedora-39 class=TemplateVM state=Halted\n'
}

@test "vm.List: keyword adminvm destination is dom0 (raw request)" {
	need_raw "keyword adminvm"
	raw admin 'admin.vm.List+ dom0 keyword adminvm\0'
	expect_ok "$FIXTURE_VM_LIST"
}

@test "vm.List: fail-arg-not-empty, fail-payload (even one LF)" {
	call -e dom0 admin.vm.List dom0 work
	expect_silent
	callp '\n' dom0 admin.vm.List work
	expect_silent
}

@test "vm.List: fail-unknown-dest, fail-unknown-source" {
	call -e dom0 admin.vm.List no-such-qube
	expect_exc QubesVMNotFoundError "No such domain: 'no-such-qube'"
	call -e no-such-src admin.vm.List dom0
	expect_exc QubesVMNotFoundError "No such domain: 'no-such-src'"
}

@test "vm.List: non-dom0 caller without an allowing policy sees nothing" {
	call -e work admin.vm.List dom0
	expect_ok ''
	call -e work admin.vm.List work
	expect_ok ''
}

# ---------------------------------------------------------------------------
# admin.vm.CurrentState

@test "vm.CurrentState: halted qube has zero counters" {
	call -e dom0 admin.vm.CurrentState work
	expect_ok 'mem=0 mem_static_max=0 cputime=0 power_state=Halted'
}

@test "vm.CurrentState: dom0 is Running with host values" {
	call -e dom0 admin.vm.CurrentState dom0
	expect_reply_re '^0\\0mem=[0-9]+ mem_static_max=[0-9]+ cputime=[0-9]+ power_state=Running$'
}

@test "vm.CurrentState: fail-arg-not-empty, fail-payload, fail-unknown-dest" {
	call -e dom0 admin.vm.CurrentState work x
	expect_silent
	callp 'x' dom0 admin.vm.CurrentState work
	expect_silent
	call -e dom0 admin.vm.CurrentState nosuch
	expect_exc QubesVMNotFoundError "No such domain: 'nosuch'"
}

# ---------------------------------------------------------------------------
# admin.vm.Create.* - success paths

@test "Create.AppVM: explicit template; tagged created-by-dom0" {
	callp 'name=new-1 label=red' dom0 admin.vm.Create.AppVM dom0 fedora-39
	expect_ok
	call -e dom0 admin.vm.List new-1
	expect_ok 'new-1 class=AppVM state=Halted\n'
	call -e dom0 admin.vm.property.Get new-1 template
	expect_ok 'default=False type=vm fedora-39'
	call -e dom0 admin.vm.property.Get new-1 label
	expect_ok 'default=False type=label red'
	# lowest free qid: the fixture uses 1..8
	call -e dom0 admin.vm.property.Get new-1 qid
	expect_ok 'default=False type=int 9'
	call -e dom0 admin.vm.tag.List new-1
	expect_ok 'audiovm-dom0\ncreated-by-dom0\nguivm-dom0\n'
}

@test "Create.AppVM: default template, parameters in any order" {
	callp 'label=blue name=new-2' dom0 admin.vm.Create.AppVM dom0
	expect_ok
	call -e dom0 admin.vm.property.Get new-2 template
	expect_ok 'default=False type=vm fedora-39'
	call -e dom0 admin.vm.property.Get new-2 uuid
	expect_reply_re '^0\\0default=False type=str [0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$'
}

@test "Create: StandaloneVM, TemplateVM, DispVM (default DVM template)" {
	callp 'name=solo-2 label=gray' dom0 admin.vm.Create.StandaloneVM dom0
	expect_ok
	callp 'name=tpl-2 label=black' dom0 admin.vm.Create.TemplateVM dom0
	expect_ok
	callp 'name=disp-2 label=green' dom0 admin.vm.Create.DispVM dom0
	expect_ok
	callp 'name=on-tpl2 label=orange' dom0 admin.vm.Create.AppVM dom0 tpl-2
	expect_ok
	call -e dom0 admin.vm.List dom0
	expect_ok 'dom0 class=AdminVM state=Running\ndefault-dvm class=AppVM state=Halted\ndisp-2 class=DispVM state=Halted\ndisp-test class=DispVM state=Halted\nfedora-39 class=TemplateVM state=Halted\non-tpl2 class=AppVM state=Halted\npersonal class=AppVM state=Halted\nsolo-2 class=StandaloneVM state=Halted\nstandalone class=StandaloneVM state=Halted\nsys-firewall class=AppVM state=Halted\nsys-net class=AppVM state=Halted\ntpl-2 class=TemplateVM state=Halted\nwork class=AppVM state=Halted\n'
	call -e dom0 admin.vm.property.Get disp-2 template
	expect_ok 'default=False type=vm default-dvm'
	call -e dom0 admin.vm.property.Get disp-2 dispid
	expect_reply_re '^0\\0default=False type=int [0-9]+$'
	call -e dom0 admin.vm.property.Get disp-2 auto_cleanup
	expect_ok 'default=True type=bool False'
	call -e dom0 admin.vm.property.Get on-tpl2 template
	expect_ok 'default=False type=vm tpl-2'
	call -e dom0 admin.vm.property.Get tpl-2 icon
	expect_ok 'default=True type=str templatevm-black'
}

@test "Create.DispVM: explicit DVM template" {
	callp 'name=disp-3 label=red' dom0 admin.vm.Create.DispVM dom0 default-dvm
	expect_ok
	call -e dom0 admin.vm.List disp-3
	expect_ok 'disp-3 class=DispVM state=Halted\n'
}

@test "CreateInPool.AppVM: pool= and pool:private=" {
	callp 'name=pool-a label=red pool=varlibqubes' \
	    dom0 admin.vm.CreateInPool.AppVM dom0
	expect_ok
	callp 'name=pool-b label=red pool:private=varlibqubes' \
	    dom0 admin.vm.CreateInPool.AppVM dom0
	expect_ok
	call -e dom0 admin.vm.List pool-a
	expect_ok 'pool-a class=AppVM state=Halted\n'
	call -e dom0 admin.vm.List pool-b
	expect_ok 'pool-b class=AppVM state=Halted\n'
}

@test "Create from a non-dom0 source tags created-by-<source>" {
	callp 'name=made-by-work label=green' work admin.vm.Create.AppVM dom0
	expect_ok
	call -e dom0 admin.vm.tag.List made-by-work
	expect_ok 'audiovm-dom0\ncreated-by-work\nguivm-dom0\n'
}

@test "Create: the new qube's qubes.xml entry has a volume-config" {
	callp 'name=new-1 label=red' dom0 admin.vm.Create.AppVM dom0 fedora-39
	expect_ok
	domain_xml new-1 >"$T/dom"
	[[ -s $T/dom ]] || { echo "no <domain> for new-1 in qubes.xml" >&2; false; }
	grep -qF '<domain id="domain-9" class="AppVM">' "$T/dom"
	grep -qF '<property name="template">fedora-39</property>' "$T/dom"
	grep -qF '<property name="label">red</property>' "$T/dom"
	grep -qF '<tag name="created-by-dom0"/>' "$T/dom"
	grep -qF '<volume-config>' "$T/dom"
	grep -qF '<volume name="root" pool="varlibqubes" vid="appvms/new-1/root" revisions_to_keep="0" rw="True" snap_on_start="True" size="10737418240" source="vm-templates/fedora-39/root"/>' "$T/dom"
	grep -qF '<volume name="private" pool="varlibqubes" vid="appvms/new-1/private" revisions_to_keep="1" rw="True" save_on_stop="True" size="2147483648"/>' "$T/dom"
	grep -qF '<volume name="volatile" pool="varlibqubes" vid="appvms/new-1/volatile" revisions_to_keep="0" rw="True" size="10737418240"/>' "$T/dom"
	grep -qF '<volume name="kernel" pool="linux-kernel" vid="6.6.0-fake" revisions_to_keep="0"/>' "$T/dom"
}

@test "Create.TemplateVM: qubes.xml volumes live under vm-templates/" {
	callp 'name=tpl-2 label=black' dom0 admin.vm.Create.TemplateVM dom0
	expect_ok
	domain_xml tpl-2 >"$T/dom"
	grep -qF 'vid="vm-templates/tpl-2/root" revisions_to_keep="1" rw="True" save_on_stop="True" size="10737418240"/>' "$T/dom"
	grep -qF 'vid="vm-templates/tpl-2/private"' "$T/dom"
}

# ---------------------------------------------------------------------------
# admin.vm.Create.* - refusals, in the order of calls-core.md 7

@test "Create: fail-dest-not-dom0 (silent)" {
	callp 'name=x label=red' dom0 admin.vm.Create.AppVM work
	expect_silent
}

@test "Create: fail-class-without-template-with-arg" {
	callp 'name=x label=red' dom0 admin.vm.Create.StandaloneVM dom0 fedora-39
	expect_exc QubesValueError 'StandaloneVM cannot be based on template'
	callp 'name=x label=red' dom0 admin.vm.Create.TemplateVM dom0 fedora-39
	expect_exc QubesValueError 'TemplateVM cannot be based on template'
}

@test "Create: fail-unknown-template" {
	callp 'name=x label=red' dom0 admin.vm.Create.AppVM dom0 nosuch
	expect_exc QubesVMNotFoundError "No such domain: 'nosuch'"
}

@test "Create: fail-payload-not-ascii (silent)" {
	callp 'name=x label=red\xc3\xa9' dom0 admin.vm.Create.AppVM dom0
	expect_silent
	callp 'name=caf\xc3\xa9 label=red' dom0 admin.vm.Create.AppVM dom0
	expect_silent
}

@test "Create: fail-piece-without-equals (empty payload, double space, trailing space)" {
	call -e dom0 admin.vm.Create.AppVM dom0
	expect_silent
	callp 'name=x  label=red' dom0 admin.vm.Create.AppVM dom0
	expect_silent
	callp 'name=x label=red ' dom0 admin.vm.Create.AppVM dom0
	expect_silent
	callp 'name=x label=red foo' dom0 admin.vm.Create.AppVM dom0
	expect_silent
}

@test "Create: fail-duplicated-parameter (name, label, template with arg)" {
	callp 'name=x label=red name=y' dom0 admin.vm.Create.AppVM dom0
	expect_silent
	callp 'name=x label=red label=blue' dom0 admin.vm.Create.AppVM dom0
	expect_silent
	callp 'name=x label=red template=fedora-39' \
	    dom0 admin.vm.Create.AppVM dom0 fedora-39
	expect_silent
}

@test "Create: fail-unknown-parameter (silent)" {
	callp 'name=x label=red foo=bar' dom0 admin.vm.Create.AppVM dom0
	expect_silent
	callp 'name=x label=red template=fedora-39' dom0 admin.vm.Create.AppVM dom0
	expect_silent
}

@test "Create: fail-name-invalid (validate_name messages, in order)" {
	callp 'name=abcdefghijabcdefghijabcdefghij12 label=red' \
	    dom0 admin.vm.Create.AppVM dom0
	expect_exc QubesValueError 'VM name must be shorter than 32 characters'
	callp 'name=a/b label=red' dom0 admin.vm.Create.AppVM dom0
	expect_exc QubesValueError 'VM name contains illegal characters'
	callp 'name=1abc label=red' dom0 admin.vm.Create.AppVM dom0
	expect_exc QubesValueError 'VM name contains illegal characters'
	callp 'name=a.b label=red' dom0 admin.vm.Create.AppVM dom0
	expect_exc QubesValueError 'VM name contains illegal characters'
	callp 'name= label=red' dom0 admin.vm.Create.AppVM dom0
	expect_exc QubesValueError 'VM name contains illegal characters'
	callp 'name=Domain-0 label=red' dom0 admin.vm.Create.AppVM dom0
	expect_exc QubesValueError "VM name cannot be 'Domain-0'"
	callp 'name=none label=red' dom0 admin.vm.Create.AppVM dom0
	expect_exc QubesValueError "VM name cannot be 'none' nor 'default'"
	callp 'name=default label=red' dom0 admin.vm.Create.AppVM dom0
	expect_exc QubesValueError "VM name cannot be 'none' nor 'default'"
	callp 'name=abc-dm label=red' dom0 admin.vm.Create.AppVM dom0
	expect_exc QubesValueError 'VM name cannot end with -dm'
}

@test "Create: 31-character name is accepted" {
	callp 'name=abcdefghijabcdefghijabcdefghij1 label=red' \
	    dom0 admin.vm.Create.AppVM dom0
	expect_ok
	call -e dom0 admin.vm.List abcdefghijabcdefghijabcdefghij1
	expect_ok 'abcdefghijabcdefghijabcdefghij1 class=AppVM state=Halted\n'
}

@test "Create: fail-label (digits or bad chars silent, unknown label)" {
	callp 'name=x label=1' dom0 admin.vm.Create.AppVM dom0
	expect_silent
	callp 'name=x label=red\n' dom0 admin.vm.Create.AppVM dom0
	expect_silent
	callp 'name=x label=re/d' dom0 admin.vm.Create.AppVM dom0
	expect_silent
	callp 'name=x label=nosuch' dom0 admin.vm.Create.AppVM dom0
	expect_exc QubesLabelNotFoundError 'Label does not exist: nosuch'
}

@test "Create: fail-pool-in-plain-Create (silent)" {
	callp 'name=x label=red pool=varlibqubes' dom0 admin.vm.Create.AppVM dom0
	expect_silent
	callp 'name=x label=red pool:private=varlibqubes' \
	    dom0 admin.vm.Create.AppVM dom0
	expect_silent
}

@test "CreateInPool: fail-pool (second pool=, bad volume, repeated volume silent)" {
	callp 'name=x label=red pool=varlibqubes pool=varlibqubes' \
	    dom0 admin.vm.CreateInPool.AppVM dom0
	expect_silent
	callp 'name=x label=red pool:bogus=varlibqubes' \
	    dom0 admin.vm.CreateInPool.AppVM dom0
	expect_silent
	callp 'name=x label=red pool:private=varlibqubes pool:private=varlibqubes' \
	    dom0 admin.vm.CreateInPool.AppVM dom0
	expect_silent
}

@test "CreateInPool: fail-unknown-pool" {
	callp 'name=x label=red pool=nosuch' dom0 admin.vm.CreateInPool.AppVM dom0
	expect_exc QubesException 'Unknown storage pool nosuch'
	callp 'name=x label=red pool:private=nosuch' \
	    dom0 admin.vm.CreateInPool.AppVM dom0
	expect_exc QubesException 'Unknown storage pool nosuch'
}

@test "CreateInPool: fail-pool-and-pool-volume-together (silent)" {
	callp 'name=x label=red pool=varlibqubes pool:private=varlibqubes' \
	    dom0 admin.vm.CreateInPool.AppVM dom0
	expect_silent
}

@test "CreateInPool: fail-snapshot-volume-moved; the qube is not kept" {
	callp 'name=x label=red pool:root=varlibqubes' \
	    dom0 admin.vm.CreateInPool.AppVM dom0
	expect_exc QubesException 'Snapshot volume root must be in the same pool as its origin (root volume of template),cannot move to pool varlibqubes '
	call -e dom0 admin.vm.List x
	expect_exc QubesVMNotFoundError "No such domain: 'x'"
	expect_xml_lacks '<property name="name">x</property>'
}

@test "Create: fail-missing-name or fail-missing-label (silent)" {
	callp 'name=x' dom0 admin.vm.Create.AppVM dom0
	expect_silent
	callp 'label=red' dom0 admin.vm.Create.AppVM dom0
	expect_silent
}

@test "Create: fail-name-in-use" {
	callp 'name=work label=red' dom0 admin.vm.Create.AppVM dom0
	expect_exc QubesValueError 'VM work already exists'
	callp 'name=dom0 label=red' dom0 admin.vm.Create.AppVM dom0
	expect_exc QubesValueError 'VM dom0 already exists'
}

@test "Create: fail-template-wrong-class (AppVM on an AppVM)" {
	callp 'name=x label=red' dom0 admin.vm.Create.AppVM dom0 work
	expect_reply_re "^2\\\\0QubesPropertyValueError\\\\0\\\\0wrong VM class: domains\\[<AppVM at 0x[0-9a-f]+ name='work' qid=4 .*>\\] is of type AppVM and not TemplateVM\\\\0\$"
}

@test "Create.DispVM: fail-template-not-dvm" {
	callp 'name=x label=red' dom0 admin.vm.Create.DispVM dom0 work
	expect_exc QubesValueError 'template for DispVM (work) needs to be an AppVM with template_for_dispvms=True'
}

@test "Create.AdminVM: always refused" {
	callp 'name=x label=red' dom0 admin.vm.Create.AdminVM dom0
	expect_exc QubesPropertyValueError "property 'qid' on AdminVM instance cannot be set"
}

@test "Create: no default template -> error" {
	call -e dom0 admin.property.Set dom0 default_template
	expect_ok
	callp 'name=x label=red' dom0 admin.vm.Create.AppVM dom0
	expect_exc QubesValueError 'Template for the qube not specified, nor default template set.'
}

@test "Create: refused calls change nothing" {
	cp "$BASE/qubes.xml" "$T/before.xml"
	callp 'name=work label=red' dom0 admin.vm.Create.AppVM dom0
	callp 'name=x label=nosuch' dom0 admin.vm.Create.AppVM dom0
	callp 'name=x label=red foo=bar' dom0 admin.vm.Create.AppVM dom0
	call -e dom0 admin.vm.List dom0
	expect_ok "$FIXTURE_VM_LIST"
	expect_same "$T/before.xml" "$BASE/qubes.xml" qubes.xml
}

# ---------------------------------------------------------------------------
# admin.vm.Remove

@test "Remove: success; name gone from List and qubes.xml; qid reused" {
	callp 'name=new-1 label=red' dom0 admin.vm.Create.AppVM dom0
	expect_ok
	call -e dom0 admin.vm.Remove new-1
	expect_ok
	call -e dom0 admin.vm.List dom0
	expect_ok "$FIXTURE_VM_LIST"
	expect_xml_lacks '<property name="name">new-1</property>'
	call -e dom0 admin.vm.Remove new-1
	expect_exc QubesVMNotFoundError "No such domain: 'new-1'"
	callp 'name=new-1 label=yellow' dom0 admin.vm.Create.AppVM dom0
	expect_ok
	call -e dom0 admin.vm.property.Get new-1 qid
	expect_ok 'default=False type=int 9'
}

@test "Remove: fail-dom0" {
	call -e dom0 admin.vm.Remove dom0
	expect_exc QubesVMInUseError "'dom0' cannot be removed"
}

@test "Remove: fail-in-use (template, default_netvm, default_dispvm)" {
	call -e dom0 admin.vm.Remove fedora-39
	expect_exc QubesVMInUseError "Domain is in use: 'fedora-39';see 'journalctl -u qubesd -e' in dom0 for details"
	call -e dom0 admin.vm.Remove sys-firewall
	expect_exc QubesVMInUseError "Domain is in use: 'sys-firewall';see 'journalctl -u qubesd -e' in dom0 for details"
	call -e dom0 admin.vm.Remove default-dvm
	expect_exc QubesVMInUseError "Domain is in use: 'default-dvm';see 'journalctl -u qubesd -e' in dom0 for details"
	# explicit netvm of sys-firewall, and global clockvm
	call -e dom0 admin.vm.Remove sys-net
	expect_exc QubesVMInUseError "Domain is in use: 'sys-net';see 'journalctl -u qubesd -e' in dom0 for details"
	call -e dom0 admin.vm.List dom0
	expect_ok "$FIXTURE_VM_LIST"
}

@test "Remove: fail-in-use by a qube's default_dispvm, then allowed" {
	callp 'name=new-2 label=red' dom0 admin.vm.Create.AppVM dom0
	expect_ok
	callp 'new-2' dom0 admin.vm.property.Set work default_dispvm
	expect_ok
	call -e dom0 admin.vm.Remove new-2
	expect_exc QubesVMInUseError "Domain is in use: 'new-2';see 'journalctl -u qubesd -e' in dom0 for details"
	call -e dom0 admin.vm.property.Reset work default_dispvm
	expect_ok
	call -e dom0 admin.vm.Remove new-2
	expect_ok
}

@test "Remove: fail-not-found, fail-arg-not-empty, fail-payload" {
	call -e dom0 admin.vm.Remove nosuch
	expect_exc QubesVMNotFoundError "No such domain: 'nosuch'"
	call -e dom0 admin.vm.Remove personal x
	expect_silent
	callp 'x' dom0 admin.vm.Remove personal
	expect_silent
	call -e dom0 admin.vm.List personal
	expect_ok 'personal class=AppVM state=Halted\n'
}

@test "Remove: an unreferenced fixture qube and a DispVM" {
	call -e dom0 admin.vm.Remove disp-test
	expect_ok
	call -e dom0 admin.vm.Remove personal
	expect_ok
	call -e dom0 admin.vm.List dom0
	expect_ok 'dom0 class=AdminVM state=Running\ndefault-dvm class=AppVM state=Halted\nfedora-39 class=TemplateVM state=Halted\nstandalone class=StandaloneVM state=Halted\nsys-firewall class=AppVM state=Halted\nsys-net class=AppVM state=Halted\nwork class=AppVM state=Halted\n'
	expect_xml_lacks '<property name="name">personal</property>'
	expect_xml_lacks '<property name="name">disp-test</property>'
}
