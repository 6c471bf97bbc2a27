#!/usr/bin/env bats
# qubes.xml persistence (qubes-xml.md 5-12, STYLE.md rules 16-17, 28):
# restart round trip, file format invariants, fault injection, a broken
# qube in the store, --init.

load helpers

setup() {
	init_tmp
}

teardown() {
	teardown_broker
}

# snapshot FILE: every listing the API offers, concatenated: vm.List,
# global GetAll, label List/Get/Index, and per qube List, property.GetAll,
# feature.List + every feature's value, tag.List.
snapshot() {
	local out=$1 name f l
	: >"$out"
	_snap() {
		printf '\n== %s\n' "$*" >>"$out"
		call "$@"
		cat "$REPLY_FILE" >>"$out"
	}
	_snap -e dom0 admin.vm.List dom0
	_snap -e dom0 admin.property.GetAll dom0
	_snap -e dom0 admin.label.List dom0
	for l in $(tail -c +3 "$REPLY_FILE"); do
		_snap -e dom0 admin.label.Get dom0 "$l"
		_snap -e dom0 admin.label.Index dom0 "$l"
	done
	call -e dom0 admin.vm.List dom0
	for name in $(tail -c +3 "$REPLY_FILE" | cut -d' ' -f1); do
		_snap -e dom0 admin.vm.List "$name"
		_snap -e dom0 admin.vm.property.GetAll "$name"
		_snap -e dom0 admin.vm.tag.List "$name"
		_snap -e dom0 admin.vm.feature.List "$name"
		for f in $(tail -c +3 "$REPLY_FILE"); do
			_snap -e dom0 admin.vm.feature.Get "$name" "$f"
		done
	done
}

# mixed_changes: qubes of every creatable class, property set/reset,
# features, tags, labels, a removal; every call must succeed.
mixed_changes() {
	callp 'name=a-app label=red' dom0 admin.vm.Create.AppVM dom0 fedora-39
	expect_ok
	callp 'name=b-solo label=gray' dom0 admin.vm.Create.StandaloneVM dom0
	expect_ok
	callp 'name=c-tpl label=black' dom0 admin.vm.Create.TemplateVM dom0
	expect_ok
	callp 'name=d-disp label=green' dom0 admin.vm.Create.DispVM dom0
	expect_ok
	callp 'name=e-on-tpl label=orange' dom0 admin.vm.Create.AppVM dom0 c-tpl
	expect_ok
	callp 'name=f-pool label=blue pool=varlibqubes' \
	    dom0 admin.vm.CreateInPool.AppVM dom0
	expect_ok
	callp 'name=g-by-work label=yellow' work admin.vm.Create.AppVM dom0
	expect_ok
	# properties
	callp '700' dom0 admin.vm.property.Set work memory
	expect_ok
	call -e dom0 admin.vm.property.Reset work vcpus
	expect_ok
	callp 'a=1\nb=2\\c "q" <x> & y' dom0 admin.vm.property.Set work kernelopts
	expect_ok
	call -e dom0 admin.vm.property.Set a-app netvm
	expect_ok
	callp '3' dom0 admin.vm.property.Set a-app label
	expect_ok
	callp 'True' dom0 admin.vm.property.Set b-solo provides_network
	expect_ok
	callp 'b-solo' dom0 admin.vm.property.Set e-on-tpl netvm
	expect_ok
	callp '3' dom0 admin.vm.property.Set c-tpl vcpus
	expect_ok
	callp 'True' dom0 admin.vm.property.Set b-solo template_for_dispvms
	expect_ok
	callp 'b-solo' dom0 admin.vm.property.Set d-disp template
	expect_ok
	callp 'd-disp' dom0 admin.vm.property.Set work default_dispvm
	expect_ok
	callp '10.137.0.200' dom0 admin.vm.property.Set f-pool ip
	expect_ok
	callp 'pv' dom0 admin.vm.property.Set f-pool virt_mode
	expect_ok
	callp 'sys-net' dom0 admin.vm.property.Set f-pool guivm
	expect_ok
	callp '1700000000' dom0 admin.vm.property.Set standalone backup_timestamp
	expect_ok
	callp 'standalone' dom0 admin.vm.property.Set dom0 default_dispvm
	expect_ok
	callp '7' dom0 admin.property.Set dom0 stats_interval
	expect_ok
	call -e dom0 admin.property.Set dom0 clockvm
	expect_ok
	call -e dom0 admin.property.Reset dom0 updatevm
	expect_ok
	callp 'default-dvm' dom0 admin.property.Set dom0 management_dispvm
	expect_ok
	callp 'False' dom0 admin.property.Set dom0 check_updates_vm
	expect_ok
	# features
	callp 'bar' dom0 admin.vm.feature.Set a-app foo
	expect_ok
	callp 'two\nlines\tand <xml> & "quotes"' dom0 admin.vm.feature.Set a-app multi
	expect_ok
	call -e dom0 admin.vm.feature.Set a-app empty
	expect_ok
	callp '1' dom0 admin.vm.feature.Set b-solo service.x
	expect_ok
	call -e dom0 admin.vm.feature.Remove fedora-39 gui
	expect_ok
	callp 'on' dom0 admin.vm.feature.Set dom0 dom0-flag
	expect_ok
	# tags
	call -e dom0 admin.vm.tag.Set a-app t1
	expect_ok
	call -e dom0 admin.vm.tag.Set a-app T0_x-y
	expect_ok
	call -e dom0 admin.vm.tag.Remove work project-x
	expect_ok
	# labels
	callp '0x008080' dom0 admin.label.Create dom0 teal
	expect_ok
	callp '0x112233' dom0 admin.label.Create dom0 tmp
	expect_ok
	call -e dom0 admin.label.Remove dom0 tmp
	expect_ok
	callp 'teal' dom0 admin.vm.property.Set f-pool label
	expect_ok
	# removal
	call -e dom0 admin.vm.Remove personal
	expect_ok
}

# expect_unique_qids: no two <domain>s in qubes.xml share a qid.
expect_unique_qids() {
	local dups
	dups=$(grep -o '<property name="qid">[0-9]*</property>' \
	    "$BASE/qubes.xml" | sort | uniq -d)
	if [[ -n $dups ]]; then
		echo "duplicate qids in qubes.xml: $dups" >&2
		grep -n 'domain id=\|name="qid"\|name="name"' "$BASE/qubes.xml" >&2
		return 1
	fi
}

# forbidden_props FILE: print every property qubes-xml.md 7.3 forbids.
forbidden_props() {
	grep -nE '<property name="(klass|icon|xid|stubdom_xid|start_time|dns|gateway|gateway6|visible_ip|visible_ip6|visible_gateway|visible_gateway6|visible_netmask|updateable)"' "$1" || true
	awk '/<domain[ >]/ { admin = ($0 ~ /class="AdminVM"/) }
	    admin && /<property name="(name|qid|uuid)"/ { print NR ": dom0: " $0 }
	    /<\/domain>/ { admin = 0 }' "$1"
}

# ---------------------------------------------------------------------------
# (1) restart round trip

@test "persistence: a restarted broker answers byte-identically" {
	make_base
	start_broker
	mixed_changes
	snapshot "$T/snap1"
	# sanity: the snapshot really shows the changes
	grep -qF 'd-disp class=DispVM state=Halted' "$T/snap1"
	grep -qF 'teal' "$T/snap1"
	refute grep -qF 'personal class=' "$T/snap1"
	expect_unique_qids
	stop_broker
	cp "$BASE/qubes.xml" "$T/saved.xml"
	start_broker
	snapshot "$T/snap2"
	expect_same "$T/snap1" "$T/snap2" "API state before/after restart"
	# loading does not rewrite the store
	expect_same "$T/saved.xml" "$BASE/qubes.xml" qubes.xml
}

@test "persistence: saving a reloaded store is a fixed point" {
	make_base
	start_broker
	mixed_changes
	stop_broker
	start_broker
	cp "$BASE/qubes.xml" "$T/saved.xml"
	# setting a property to its current value rewrites the whole file
	callp 'blue' dom0 admin.vm.property.Set work label
	expect_ok
	expect_same "$T/saved.xml" "$BASE/qubes.xml" "qubes.xml after a no-op save"
}

# ---------------------------------------------------------------------------
# (2) file format invariants

@test "persistence: qubes.xml is well-formed, mode 0660, no run-time properties" {
	make_base
	start_broker
	mixed_changes
	[[ $(stat -c %a "$BASE/qubes.xml") == 660 ]] || {
		echo "qubes.xml mode $(stat -c %a "$BASE/qubes.xml")" >&2
		false
	}
	if have_xmllint; then
		xmllint --noout "$BASE/qubes.xml"
	else
		echo "# xmllint not installed: well-formedness not checked" >&3
	fi
	forbidden_props "$BASE/qubes.xml" >"$T/forbidden"
	if [[ -s $T/forbidden ]]; then
		echo "qubes.xml holds properties that must never be written:" >&2
		cat "$T/forbidden" >&2
		false
	fi
	# no XML declaration, root without attributes, final newline
	[[ $(head -n 1 "$BASE/qubes.xml") == '<qubes>' ]]
	[[ $(tail -c 1 "$BASE/qubes.xml" | od -An -tx1) == ' 0a' ]]
	# values are stored, not defaults; special characters escaped
	domain_xml work >"$T/dom"
	grep -qF '<property name="memory">700</property>' "$T/dom"
	refute grep -qF '<property name="vcpus">' "$T/dom"
	grep -qF '<property name="default_dispvm">d-disp</property>' "$T/dom"
	domain_xml a-app >"$T/dom"
	grep -qF '<property name="netvm"></property>' "$T/dom"
	grep -qF '<property name="label">yellow</property>' "$T/dom"
	grep -qF '<feature name="foo">bar</feature>' "$T/dom"
	grep -qF '<tag name="t1"/>' "$T/dom"
	grep -qF '<tag name="created-by-dom0"/>' "$T/dom"
	domain_xml g-by-work >"$T/dom"
	grep -qF '<tag name="created-by-work"/>' "$T/dom"
	expect_xml_has '<property name="stats_interval">7</property>'
	expect_xml_has '<property name="clockvm"></property>'
	expect_xml_lacks '<property name="updatevm">'
	expect_xml_has '<label id="label-10" color="0x008080">teal</label>'
	expect_xml_lacks '>tmp</label>'
	expect_xml_lacks '<property name="name">personal</property>'
	if have_xmllint; then
		# every qube but dom0 has a uuid and a volume-config
		[[ $(xpath 'count(//domain[@class!="AdminVM"][not(properties/property[@name="uuid"])])') == 0 ]]
		[[ $(xpath 'count(//domain[@class!="AdminVM"][not(volume-config/volume)])') == 0 ]]
		[[ $(xpath 'count(//domain[@class="AdminVM"]/volume-config)') == 0 ]]
		# the kernelopts value round-trips through the XML escaping
		[[ $(xpath 'string(//domain[properties/property[@name="name"]="work"]/properties/property[@name="kernelopts"])') == $'a=1\nb=2\\c "q" <x> & y' ]]
	fi
}

# same_domain NAME: qube NAME's <domain> element in qubes.xml equals the
# one in $T/orig.xml line for line, except that the order of the <tag>
# lines is insignificant (a set, qubes-xml.md 7.5).
same_domain() {
	domain_xml "$1" "$T/orig.xml" >"$T/a"
	domain_xml "$1" >"$T/b"
	[[ -s $T/a ]]
	grep -v '<tag ' "$T/a" >"$T/a1" || true
	grep -v '<tag ' "$T/b" >"$T/b1" || true
	expect_same "$T/a1" "$T/b1" "<domain> of $1"
	grep '<tag ' "$T/a" | sort >"$T/a2" || true
	grep '<tag ' "$T/b" | sort >"$T/b2" || true
	expect_same "$T/a2" "$T/b2" "<tag>s of $1"
}

@test "persistence: untouched fixture qubes are written back as loaded" {
	make_base
	cp "$BASE/qubes.xml" "$T/orig.xml"
	start_broker
	callp 'v' dom0 admin.vm.feature.Set work f
	expect_ok
	for name in standalone disp-test fedora-39 sys-net sys-firewall \
	    default-dvm personal; do
		same_domain "$name"
	done
}

# ---------------------------------------------------------------------------
# (3) fault injection: QUBES_BROKER_FAIL_WRITE_AT

FAILED_SAVE_RE='^2\\0QubesException\\0\\0Failed to save qubes\.xml: .*\\0$'

# start_failing STEP: fixture store, saved copies, broker whose every
# qubes.xml save fails at STEP.
start_failing() {
	make_base
	cp "$BASE/qubes.xml" "$T/before.xml"
	ls -A "$BASE" >"$T/ls-before"
	QUBES_BROKER_FAIL_WRITE_AT=$1 start_broker
}

# expect_store_untouched: qubes.xml byte-identical, no stray files
# (qubes.xml~XXXXXXXX temporaries, lock files) in the base dir.
expect_store_untouched() {
	expect_same "$T/before.xml" "$BASE/qubes.xml" qubes.xml
	ls -A "$BASE" >"$T/ls-after"
	expect_same "$T/ls-before" "$T/ls-after" "base dir listing"
	refute compgen -G "$BASE/qubes.xml~*"
}

# failed_set STEP: with saves failing at STEP a property.Set answers
# QubesException and changes nothing, in memory or on disk.
failed_set() {
	start_failing "$1"
	callp 'purple' dom0 admin.vm.property.Set work label
	expect_reply_re "$FAILED_SAVE_RE"
	call -e dom0 admin.vm.property.Get work label
	expect_ok 'default=False type=label blue'
	call -e dom0 admin.vm.property.Get work icon
	expect_ok 'default=True type=str appvm-blue'
	expect_store_untouched
}

@test "fault injection: rename fails -> QubesException, state unchanged" {
	failed_set rename
}

@test "fault injection: fsync fails -> QubesException, state unchanged" {
	failed_set fsync
}

@test "fault injection: write fails -> QubesException, state unchanged" {
	failed_set write
}

@test "fault injection: create fails -> QubesException, state unchanged" {
	failed_set create
}

@test "fault injection: the broker keeps serving after repeated failed saves" {
	start_failing rename
	callp 'purple' dom0 admin.vm.property.Set work label
	expect_reply_re "$FAILED_SAVE_RE"
	callp '1000' dom0 admin.vm.property.Set work memory
	expect_reply_re "$FAILED_SAVE_RE"
	call -e dom0 admin.vm.property.Reset work vcpus
	expect_reply_re "$FAILED_SAVE_RE"
	call -e dom0 admin.vm.property.Get work memory
	expect_ok 'default=False type=int 600'
	call -e dom0 admin.vm.property.Get work vcpus
	expect_ok 'default=False type=int 4'
	call -e dom0 admin.vm.List dom0
	expect_ok "$FIXTURE_VM_LIST"
	expect_store_untouched
}

@test "fault injection: a failed Create is undone" {
	start_failing rename
	callp 'name=new-1 label=red' dom0 admin.vm.Create.AppVM dom0
	expect_reply_re "$FAILED_SAVE_RE"
	call -e dom0 admin.vm.List dom0
	expect_ok "$FIXTURE_VM_LIST"
	expect_store_untouched
}

@test "fault injection: a failed Remove is undone" {
	start_failing rename
	call -e dom0 admin.vm.Remove personal
	expect_reply_re "$FAILED_SAVE_RE"
	call -e dom0 admin.vm.List personal
	expect_ok 'personal class=AppVM state=Halted\n'
	expect_store_untouched
}

@test "fault injection: a failed feature.Set is undone" {
	start_failing fsync
	callp 'v' dom0 admin.vm.feature.Set work f
	expect_reply_re "$FAILED_SAVE_RE"
	call -e dom0 admin.vm.feature.List work
	expect_ok ''
	expect_store_untouched
}

@test "fault injection: a failed tag.Set is undone" {
	start_failing write
	call -e dom0 admin.vm.tag.Set work newtag
	expect_reply_re "$FAILED_SAVE_RE"
	call -e dom0 admin.vm.tag.Get work newtag
	expect_ok '0'
	expect_store_untouched
}

@test "fault injection: a failed label.Create is undone" {
	start_failing create
	callp '0x008080' dom0 admin.label.Create dom0 teal
	expect_reply_re "$FAILED_SAVE_RE"
	call -e dom0 admin.label.Get dom0 teal
	expect_exc QubesValueError ''
	expect_store_untouched
}

@test "fault injection: a failed global property.Set is undone" {
	start_failing rename
	callp '9' dom0 admin.property.Set dom0 stats_interval
	expect_reply_re "$FAILED_SAVE_RE"
	call -e dom0 admin.property.Get dom0 stats_interval
	expect_ok 'default=True type=int 3'
	expect_store_untouched
}

@test "fault injection: a healthy restart after failures sees the old store" {
	make_base
	QUBES_BROKER_FAIL_WRITE_AT=rename start_broker
	callp 'purple' dom0 admin.vm.property.Set work label
	expect_reply_re '^2\\0QubesException\\0'
	stop_broker
	start_broker
	call -e dom0 admin.vm.property.Get work label
	expect_ok 'default=False type=label blue'
	callp 'purple' dom0 admin.vm.property.Set work label
	expect_ok
	expect_xml_has '<property name="label">purple</property>'
}

# ---------------------------------------------------------------------------
# (4) a broken qube in the store

# break_personal: give "personal" (qid 5, referenced by nobody) an
# unknown property.
break_personal() {
	awk '{ print }
	    /<property name="name">personal<\/property>/ {
		print "        <property name=\"bogus\">1</property>" }' \
	    "$BASE/qubes.xml" >"$T/broken.xml"
	cat "$T/broken.xml" >"$BASE/qubes.xml"
	grep -qF '<property name="bogus">1</property>' "$BASE/qubes.xml"
}

@test "broken qube: the others load; it is left out and logged by name" {
	make_base
	break_personal
	start_broker
	call -e dom0 admin.vm.List dom0
	expect_ok 'dom0 class=AdminVM state=Running\ndefault-dvm class=AppVM state=Halted\ndisp-test class=DispVM state=Halted\nfedora-39 class=TemplateVM state=Halted\nstandalone class=StandaloneVM state=Halted\nsys-firewall class=AppVM state=Halted\nsys-net class=AppVM state=Halted\nwork class=AppVM state=Halted\n'
	call -e dom0 admin.vm.List personal
	expect_exc QubesVMNotFoundError "No such domain: 'personal'"
	grep -q 'personal' "$BROKER_LOG" || {
		echo "the log does not name the broken qube" >&2
		dump_log
		false
	}
	grep -q 'bogus' "$BROKER_LOG"
}

@test "broken qube: its <domain> survives writes unchanged; name stays reserved" {
	make_base
	break_personal
	domain_xml personal >"$T/bad-before"
	[[ -s $T/bad-before ]]
	start_broker
	callp 'v' dom0 admin.vm.feature.Set work f
	expect_ok
	callp 'name=new-1 label=red' dom0 admin.vm.Create.AppVM dom0
	expect_ok
	# qids 1..8 are taken (5 by the left-out qube)
	call -e dom0 admin.vm.property.Get new-1 qid
	expect_ok 'default=False type=int 9'
	expect_unique_qids
	domain_xml personal >"$T/bad-after"
	expect_same "$T/bad-before" "$T/bad-after" "<domain> of the broken qube"
	expect_xml_has '<feature name="f">v</feature>'
	if have_xmllint; then
		xmllint --noout "$BASE/qubes.xml"
	fi
	# its name and qid are not handed out again
	callp 'name=personal label=red' dom0 admin.vm.Create.AppVM dom0
	expect_exc QubesValueError 'VM personal already exists'
	call -e dom0 admin.vm.Remove disp-test
	expect_ok
	callp 'name=new-2 label=red' dom0 admin.vm.Create.AppVM dom0
	expect_ok
	call -e dom0 admin.vm.property.Get new-2 qid
	expect_ok 'default=False type=int 8'
	expect_unique_qids
	# and after a restart it is still there, still left out
	stop_broker
	start_broker
	call -e dom0 admin.vm.List personal
	expect_exc QubesVMNotFoundError "No such domain: 'personal'"
	domain_xml personal >"$T/bad-after"
	expect_same "$T/bad-before" "$T/bad-after" "<domain> of the broken qube"
}

@test "broken store: missing file or malformed XML refuses to start" {
	mkdir -p "$BASE"
	expect_broker_refuses
	grep -q 'qubes.xml' "$BROKER_LOG"
	printf '<qubes><labels>' >"$BASE/qubes.xml"
	expect_broker_refuses
	cp "$BASE/qubes.xml" "$T/bad.xml"
	expect_same "$T/bad.xml" "$BASE/qubes.xml" "malformed qubes.xml"
}

# ---------------------------------------------------------------------------
# (5) --init

@test "--init on an empty dir creates dom0, 8 labels, 2 pools" {
	mkdir -p "$T/empty"
	start_broker_init "$T/empty"
	[[ -f $T/empty/qubes.xml ]]
	[[ $(stat -c %a "$T/empty/qubes.xml") == 660 ]]
	call -e dom0 admin.vm.List dom0
	expect_ok 'dom0 class=AdminVM state=Running\n'
	call -e dom0 admin.label.List dom0
	expect_ok 'red\norange\nyellow\ngreen\ngray\nblue\npurple\nblack\n'
	call -e dom0 admin.label.Get dom0 gray
	expect_ok '0x555555'
	call -e dom0 admin.vm.property.Get dom0 label
	expect_ok 'default=False type=label black'
	call -e dom0 admin.property.Get dom0 default_pool_kernel
	expect_ok 'default=False type=str linux-kernel'
	call -e dom0 admin.property.Get dom0 default_pool
	expect_ok 'default=True type=str varlibqubes'
	call -e dom0 admin.property.Get dom0 default_kernel
	expect_ok 'default=True type=str '
	expect_xml_has '<pool name="varlibqubes" '
	expect_xml_has '<pool name="linux-kernel" '
	expect_xml_has 'driver="linux-kernel"'
	if have_xmllint; then
		xmllint --noout "$BASE/qubes.xml"
		[[ $(xpath 'count(//pools/pool)') == 2 ]]
		[[ $(xpath 'count(//labels/label)') == 8 ]]
		[[ $(xpath 'count(//domains/domain)') == 1 ]]
		[[ $(xpath 'string(//domain/@class)') == AdminVM ]]
	fi
	# the new store is usable
	callp 'name=tpl label=black' dom0 admin.vm.Create.TemplateVM dom0
	expect_ok
	callp 'name=app label=red' dom0 admin.vm.Create.AppVM dom0 tpl
	expect_ok
}

@test "--init does not overwrite an existing store" {
	mkdir -p "$T/empty"
	start_broker_init "$T/empty"
	callp '0x008080' dom0 admin.label.Create dom0 teal
	expect_ok
	callp 'name=tpl label=black' dom0 admin.vm.Create.TemplateVM dom0
	expect_ok
	stop_broker
	cp "$BASE/qubes.xml" "$T/saved.xml"
	start_broker_init "$T/empty"
	expect_same "$T/saved.xml" "$BASE/qubes.xml" qubes.xml
	call -e dom0 admin.label.Index dom0 teal
	expect_ok '9'
	call -e dom0 admin.vm.List tpl
	expect_ok 'tpl class=TemplateVM state=Halted\n'
}

@test "--init also leaves the fixture store alone" {
	make_base
	cp "$BASE/qubes.xml" "$T/orig.xml"
	start_broker --init
	call -e dom0 admin.vm.List dom0
	expect_ok "$FIXTURE_VM_LIST"
	expect_same "$T/orig.xml" "$BASE/qubes.xml" qubes.xml
}
