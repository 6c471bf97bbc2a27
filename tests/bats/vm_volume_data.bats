#!/usr/bin/env bats
# Volume data operations (storage.md 7): admin.vm.volume.Revert, Resize,
# Clear, CloneFrom, CloneTo on the admin socket; internal.vm.volume.
# ImportBegin / ImportEnd on the internal socket; admin.vm.volume.Import /
# ImportWithSize through the streaming service executable
# (services/qubes-admin-vm-volume-import) and the qrexec simulator.
#
# The fixture's qubes use the file pool "varlibqubes" under $BASE
# (work:private is save_on_stop, a 2 GiB sparse image; work:root is a
# snapshot of the template; kernel is in the linux-kernel pool).  Qubes
# are Halted with libvirt's test:///default driver until started;
# make_running_qube creates and starts the qube "runner" for the
# running-qube paths.
#
# The broker runs with --debug so that fired events show in its log
# ("ev_fire: event <subject> <name>"), which the event checks read.

load helpers

setup() {
	init_tmp
	make_base
	start_broker --debug
	IMG=$BASE/appvms/work/private.img
	IMPORT_IMG=$BASE/appvms/work/private-import.img
	RPC=$T/rpc
	mkdir -p "$RPC"
	ln -s "$SERVICES_DIR/qubes-admin-vm-volume-import" \
	    "$RPC/admin.vm.volume.Import"
	ln -s "$SERVICES_DIR/qubes-admin-vm-volume-import" \
	    "$RPC/admin.vm.volume.ImportWithSize"
	IMP_IN=/dev/null
	unset IMP_ARGV0
	# 4096 bytes: data, a zero stretch (seeked over), data
	{
		head -c 1000 /dev/urandom
		head -c 2096 /dev/zero
		head -c 1000 /dev/urandom
	} >"$T/data4096"
}

teardown() {
	teardown_broker
}

# ---------------------------------------------------------------------------
# helpers

# sum FILE: a digest of FILE's content (size and bytes).  The images are
# 2 GiB and sparse: sparsesum reads only their data extents, where
# sha256sum would read 2 GiB of zeros (seconds per call).
sum() {
	local out
	out=$("$SPARSESUM" "$1") || return 1
	printf '%s\n' "${out%% *}"
}

# imp SRC TARGET CALL+ARG: run the import executable as qrexec would
# (link named CALL, argv[1] = ARG when non-empty, only the qrexec
# variables plus QUBESD_INTERNAL_SOCKET), stdin from $IMP_IN; stdout ->
# $REPLY_FILE, stderr -> $T/imp.err, status -> IMP_RC.
imp() {
	local src=$1 target=$2 descr=$3 call arg
	local -a argv=()
	call=${descr%%+*}
	arg=
	[[ $descr == *+* ]] && arg=${descr#*+}
	[[ -n $arg ]] && argv=("$arg")
	IMP_RC=0
	env -i PATH=/usr/bin:/bin \
	    "QUBESD_INTERNAL_SOCKET=$RUN/qubesd.internal.sock" \
	    "QREXEC_REMOTE_DOMAIN=$src" "QREXEC_SERVICE_FULL_NAME=$descr" \
	    "QREXEC_SERVICE_ARGUMENT=$arg" QREXEC_REQUESTED_TARGET_TYPE=name \
	    "QREXEC_REQUESTED_TARGET=$target" \
	    "${IMP_ARGV0:-$RPC/$call}" "${argv[@]}" <"$IMP_IN" \
	    >"$REPLY_FILE" 2>"$T/imp.err" || IMP_RC=$?
}

# impd SIZE-LINE DATA-FILE SRC TARGET CALL+ARG: imp with stdin = the
# size line (escaped, e.g. '4096\n'; '' for none) followed by DATA-FILE.
impd() {
	local line=$1 data=$2
	shift 2
	{
		unescape "$line"
		cat "$data"
	} >"$T/imp.in"
	IMP_IN=$T/imp.in imp "$@"
}

expect_imp_rc() {
	if [[ $IMP_RC -ne $1 ]]; then
		echo "exit status $IMP_RC, expected $1; stderr:" >&2
		cat "$T/imp.err" >&2
		echo "stdout: $(escape_file "$REPLY_FILE")" >&2
		return 1
	fi
}

# requests the broker has logged so far
broker_requests() {
	grep -cE 'log_call: |framing error' "$BROKER_LOG" || true
}

# events NAME...: the broker fired exactly these events on work since the
# last call of events_mark, in this order.
events_mark() {
	EV_FROM=$(wc -l <"$BROKER_LOG")
}

expect_events() {
	local got want
	got=$(tail -n +"$((EV_FROM + 1))" "$BROKER_LOG" |
	    sed -n 's/.*ev_fire: event \([^ ]*\) \(.*\)$/\1 \2/p' |
	    tr '\n' ' ')
	want="$* "
	[[ $# -gt 0 ]] || want=
	if [[ $got != "$want" ]]; then
		echo "events: got '$got', expected '$want'" >&2
		return 1
	fi
}

# a refusal reason the broker logged for the last request
expect_logged() {
	if ! tail -n 5 "$BROKER_LOG" | grep -qF -- "$1"; then
		echo "broker log lacks '$1':" >&2
		tail -n 5 "$BROKER_LOG" >&2
		return 1
	fi
}

# the Running qube "runner" (started on libvirt's test driver)
make_running_qube() {
	callp 'name=runner label=red' dom0 admin.vm.Create.AppVM dom0 fedora-39
	expect_ok
	callp '' dom0 admin.vm.property.Set runner netvm
	expect_ok
	call -e dom0 admin.vm.Start runner
	expect_ok
	call -e dom0 admin.vm.List runner
	# Transient: the template's qrexec feature, no qrexec daemon here
	expect_reply_re 'state=Transient'
}

# ---------------------------------------------------------------------------
# the digest the "image intact" checks below rely on

@test "sum: tells content apart at any offset, ignores allocation" {
	local a b
	a=$(sum "$IMG")
	[[ $a =~ ^[0-9a-f]{64}$ ]]
	# a hole and written zeros read the same
	dd if=/dev/zero of="$IMG" bs=4096 seek=1000 count=4 conv=notrunc \
	    status=none
	[[ $(sum "$IMG") == "$a" ]]
	# one byte near the end of the 2 GiB image changes it
	printf 'x' | dd of="$IMG" bs=1 seek=2147483000 conv=notrunc status=none
	b=$(sum "$IMG")
	[[ $b != "$a" ]]
	# so do the same bytes one block further and a different size
	printf '\0' | dd of="$IMG" bs=1 seek=2147483000 conv=notrunc status=none
	printf 'x' | dd of="$IMG" bs=1 seek=2147479000 conv=notrunc status=none
	[[ $(sum "$IMG") != "$a" && $(sum "$IMG") != "$b" ]]
	printf '\0' | dd of="$IMG" bs=1 seek=2147479000 conv=notrunc status=none
	[[ $(sum "$IMG") == "$a" ]]
	truncate -s 2147487744 "$IMG"
	[[ $(sum "$IMG") != "$a" ]]
	# a missing file is an error, not a digest
	run sum "$T/nonexistent"
	[[ $status -ne 0 && $output == "sparsesum: $T/nonexistent: No such file or directory" ]]
}

# ---------------------------------------------------------------------------
# admin.vm.volume.Revert

@test "Revert: unknown volume, '..', '/', dom0: silent close" {
	callp 'old' dom0 admin.vm.volume.Revert work nosuch
	expect_silent
	callp 'old' dom0 admin.vm.volume.Revert work ..
	expect_silent
	callp 'old' dom0 admin.vm.volume.Revert work ../work/private
	expect_silent
	callp 'old' dom0 admin.vm.volume.Revert work appvms/work/private
	expect_silent
	callp 'old' dom0 admin.vm.volume.Revert dom0 private
	expect_silent
}

@test "Revert: a revision that is not listed, non-ASCII: silent close" {
	# no private-cow.img.old: no revision at all
	callp 'old' dom0 admin.vm.volume.Revert work private
	expect_silent
	expect_logged 'no such revision'
	: >"$BASE/appvms/work/private-cow.img.old"
	callp 'older' dom0 admin.vm.volume.Revert work private
	expect_silent
	expect_logged 'no such revision'
	callp 'ol\0d' dom0 admin.vm.volume.Revert work private
	expect_silent
	expect_logged 'no such revision'
	callp 'old\xff' dom0 admin.vm.volume.Revert work private
	expect_silent
	expect_logged 'not ASCII'
}

@test "Revert: a listed revision (stripped) reaches the file driver, which aborts" {
	: >"$BASE/appvms/work/private-cow.img.old"
	cp "$BASE/qubes.xml" "$T/before.xml"
	# str.strip(): FS..US and \v count as whitespace
	callp '\x1c \told\n\x0b' dom0 admin.vm.volume.Revert work private
	expect_silent
	# past the revision check: refused by the driver (NotImplementedError)
	expect_logged 'file pool cannot revert'
	expect_same "$T/before.xml" "$BASE/qubes.xml" qubes.xml
}

# ---------------------------------------------------------------------------
# admin.vm.volume.Resize

@test "Resize: grows the image and the stored size; saved" {
	events_mark
	callp '4294967296' dom0 admin.vm.volume.Resize work private
	expect_ok
	[[ $(stat -c %s "$IMG") -eq 4294967296 ]]
	domain_xml work | grep -F 'name="private"' | grep -qF 'size="4294967296"'
	# the same size again is no shrink
	callp '4294967296' dom0 admin.vm.volume.Resize work private
	expect_ok
	expect_events
}

@test "Resize: whitespace is stripped as bytes.strip() does" {
	callp ' \t4294967296\r\n\x0b\x0c' dom0 admin.vm.volume.Resize work private
	expect_ok
	[[ $(stat -c %s "$IMG") -eq 4294967296 ]]
	# bytes.strip() keeps FS (0x1c), unlike str.strip()
	callp '\x1c8589934592' dom0 admin.vm.volume.Resize work private
	expect_silent
	[[ $(stat -c %s "$IMG") -eq 4294967296 ]]
}

@test "Resize: non-decimal, negative, leading zeros, empty, 20 digits: silent close" {
	local p before
	before=$(sum "$BASE/qubes.xml")
	for p in 'abc' '-1' '-4294967296' '+4294967296' '04294967296' '' \
	    '\n' '0x100000000' '4294967296.0' '4 294 967 296' \
	    '99999999999999999999' '4294967296\0' '\xd9\xa4'; do
		callp "$p" dom0 admin.vm.volume.Resize work private
		expect_silent
	done
	[[ $(stat -c %s "$IMG") -eq 2147483648 ]]
	[[ $(sum "$BASE/qubes.xml") == "$before" ]]
}

@test "Resize: shrinking is refused with the reference message" {
	callp '1024' dom0 admin.vm.volume.Resize work private
	expect_exc StoragePoolException 'For your own safety, shrinking of private is disabled. If you really know what you are doing, use `truncate` on appvms/work/private manually.'
	callp '0' dom0 admin.vm.volume.Resize work private
	expect_exc StoragePoolException 'For your own safety, shrinking of private is disabled. If you really know what you are doing, use `truncate` on appvms/work/private manually.'
	[[ $(stat -c %s "$IMG") -eq 2147483648 ]]
}

@test "Resize: huge size (19 digits) closes silently, image unchanged" {
	callp '9999999999999999999' dom0 admin.vm.volume.Resize work private
	expect_silent
	[[ $(stat -c %s "$IMG") -eq 2147483648 ]]
}

@test "Resize: snapshot volume, kernel volume, unknown volume" {
	callp '21474836480' dom0 admin.vm.volume.Resize work root
	expect_exc StoragePoolException 'Cannot resize volume based on a template - resizethe template instead'
	callp '21474836480' dom0 admin.vm.volume.Resize work kernel
	expect_silent
	callp '21474836480' dom0 admin.vm.volume.Resize work nosuch
	expect_silent
	callp '21474836480' dom0 admin.vm.volume.Resize work ..
	expect_silent
	callp '21474836480' dom0 admin.vm.volume.Resize dom0 private
	expect_silent
}

@test "Resize: a running qube: grown, saved, online resize reported as failed" {
	make_running_qube
	callp '4294967296' dom0 admin.vm.volume.Resize runner private
	expect_exc StoragePoolException 'Online resize of volume appvms/runner/private failed (you need to resize filesystem manually): qubes.ResizeDisk cannot be called by this broker'
	[[ $(stat -c %s "$BASE/appvms/runner/private.img") -eq 4294967296 ]]
	domain_xml runner | grep -F 'name="private"' | grep -qF 'size="4294967296"'
}

# ---------------------------------------------------------------------------
# admin.vm.volume.Clear

@test "Clear: zeroes a save_on_stop volume at its current size; events; saved" {
	head -c 65536 /dev/urandom | dd of="$IMG" conv=notrunc status=none
	[[ $(stat -c %b "$IMG") -gt 0 ]]
	events_mark
	call -e dom0 admin.vm.volume.Clear work private
	expect_ok
	[[ $(stat -c %s "$IMG") -eq 2147483648 ]]
	# a fresh sparse file: no data blocks, reads as zeros
	[[ $(stat -c %b "$IMG") -eq 0 ]]
	cmp -n 65536 "$IMG" /dev/zero
	[[ ! -e $IMPORT_IMG ]]
	expect_events work domain-volume-import-begin \
	    work domain-volume-import-end
}

@test "Clear: no payload, unknown volume, not save_on_stop, kernel" {
	callp 'x' dom0 admin.vm.volume.Clear work private
	expect_silent
	call -e dom0 admin.vm.volume.Clear work nosuch
	expect_silent
	call -e dom0 admin.vm.volume.Clear work ../personal/private
	expect_silent
	call -e dom0 admin.vm.volume.Clear work root
	expect_exc StoragePoolException 'Can not import into save_on_stop=False volume appvms/work/root'
	call -e dom0 admin.vm.volume.Clear work volatile
	expect_exc StoragePoolException 'Can not import into save_on_stop=False volume appvms/work/volatile'
	call -e dom0 admin.vm.volume.Clear work kernel
	expect_silent
}

@test "Clear: no halted check (a running qube's volume is cleared)" {
	make_running_qube
	call -e dom0 admin.vm.volume.Clear runner private
	expect_ok
}

# ---------------------------------------------------------------------------
# admin.vm.volume.CloneFrom / CloneTo

@test "CloneFrom: a 32-character token; no payload; nothing saved" {
	local before
	before=$(sum "$BASE/qubes.xml")
	call -e dom0 admin.vm.volume.CloneFrom work private
	expect_reply_re '^0\\0[A-Za-z0-9]{32}$'
	tail -c +3 "$REPLY_FILE" >"$T/tok1"
	call -e dom0 admin.vm.volume.CloneFrom work private
	tail -c +3 "$REPLY_FILE" >"$T/tok2"
	refute cmp -s "$T/tok1" "$T/tok2"
	[[ $(sum "$BASE/qubes.xml") == "$before" ]]
	callp 'x' dom0 admin.vm.volume.CloneFrom work private
	expect_silent
	call -e dom0 admin.vm.volume.CloneFrom work nosuch
	expect_silent
	call -e dom0 admin.vm.volume.CloneFrom work ..
	expect_silent
	call -e dom0 admin.vm.volume.CloneFrom dom0 private
	expect_silent
}

@test "CloneTo: copies the data; the token is one-time" {
	head -c 65536 /dev/urandom | dd of="$IMG" conv=notrunc status=none
	call -e dom0 admin.vm.volume.CloneFrom work private
	tail -c +3 "$REPLY_FILE" >"$T/tok"
	# str.strip(): surrounding whitespace is dropped
	{ printf ' '; cat "$T/tok"; printf '\n'; } >"$T/tokn"
	call dom0 admin.vm.volume.CloneTo personal private <"$T/tokn"
	expect_ok
	[[ $(sum "$IMG") == $(sum "$BASE/appvms/personal/private.img") ]]
	# used: gone
	call dom0 admin.vm.volume.CloneTo personal private <"$T/tok"
	expect_silent
	expect_logged 'no such clone token'
}

@test "CloneTo: an unknown target volume does not consume the token" {
	call -e dom0 admin.vm.volume.CloneFrom work private
	tail -c +3 "$REPLY_FILE" >"$T/tok"
	call dom0 admin.vm.volume.CloneTo personal nosuch <"$T/tok"
	expect_silent
	call dom0 admin.vm.volume.CloneTo personal .. <"$T/tok"
	expect_silent
	call dom0 admin.vm.volume.CloneTo dom0 private <"$T/tok"
	expect_silent
	call dom0 admin.vm.volume.CloneTo personal private <"$T/tok"
	expect_ok
}

@test "CloneTo: unknown, malformed, non-ASCII tokens: silent close, no change" {
	local p before
	call -e dom0 admin.vm.volume.CloneFrom work private
	tail -c +3 "$REPLY_FILE" >"$T/tok"
	before=$(sum "$BASE/appvms/personal/private.img")
	for p in '' 'x' 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' \
	    'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' '\xff' '\0'; do
		callp "$p" dom0 admin.vm.volume.CloneTo personal private
		expect_silent
	done
	# the token with a byte more, a byte less, a NUL inside
	{ cat "$T/tok"; printf 'x'; } >"$T/bad1"
	call dom0 admin.vm.volume.CloneTo personal private <"$T/bad1"
	expect_silent
	head -c 31 "$T/tok" >"$T/bad2"
	call dom0 admin.vm.volume.CloneTo personal private <"$T/bad2"
	expect_silent
	{ cat "$T/tok"; printf '\0'; } >"$T/bad3"
	call dom0 admin.vm.volume.CloneTo personal private <"$T/bad3"
	expect_silent
	[[ $(sum "$BASE/appvms/personal/private.img") == "$before" ]]
	# none of that consumed the real token
	call dom0 admin.vm.volume.CloneTo personal private <"$T/tok"
	expect_ok
}

@test "CloneTo: an expired token (QUBES_BROKER_CLONE_TOKEN_TTL=0)" {
	stop_broker
	QUBES_BROKER_CLONE_TOKEN_TTL=0 start_broker --debug
	call -e dom0 admin.vm.volume.CloneFrom work private
	expect_reply_re '^0\\0[A-Za-z0-9]{32}$'
	tail -c +3 "$REPLY_FILE" >"$T/tok"
	call dom0 admin.vm.volume.CloneTo personal private <"$T/tok"
	expect_silent
	expect_logged 'no such clone token (or expired)'
}

@test "CloneTo: tokens do not survive a broker restart" {
	call -e dom0 admin.vm.volume.CloneFrom work private
	tail -c +3 "$REPLY_FILE" >"$T/tok"
	stop_broker
	start_broker --debug
	call dom0 admin.vm.volume.CloneTo personal private <"$T/tok"
	expect_silent
}

@test "CloneTo: a source qube removed after CloneFrom: silent close" {
	callp 'name=gone label=red' dom0 admin.vm.Create.AppVM dom0 fedora-39
	expect_ok
	call -e dom0 admin.vm.volume.CloneFrom gone private
	tail -c +3 "$REPLY_FILE" >"$T/tok"
	call -e dom0 admin.vm.Remove gone
	expect_ok
	call dom0 admin.vm.volume.CloneTo personal private <"$T/tok"
	expect_silent
	expect_logged 'source volume is gone'
}

@test "CloneTo: a snapshot source into the file pool is refused" {
	call -e dom0 admin.vm.volume.CloneFrom work root
	tail -c +3 "$REPLY_FILE" >"$T/tok"
	call dom0 admin.vm.volume.CloneTo personal private <"$T/tok"
	expect_exc StoragePoolException 'Can not import snapshot volume appvms/work/root in to pool appvms/personal/private '
}

# ---------------------------------------------------------------------------
# internal.vm.volume.ImportBegin / ImportEnd (internal socket)

@test "ImportBegin/End: reply bytes, events, nothing saved" {
	local before
	before=$(sum "$BASE/qubes.xml")
	events_mark
	CALL_SOCK=$RUN/qubesd.internal.sock callp '4096' gui-vm \
	    internal.vm.volume.ImportBegin work private
	expect_exc QubesVMNotFoundError "No such domain: 'gui-vm'"
	CALL_SOCK=$RUN/qubesd.internal.sock callp '4096' personal \
	    internal.vm.volume.ImportBegin work private
	expect_ok "4096 $IMPORT_IMG"
	[[ $(stat -c %s "$IMPORT_IMG") -eq 4096 ]]
	CALL_SOCK=$RUN/qubesd.internal.sock callp 'ok' personal \
	    internal.vm.volume.ImportEnd work private
	expect_ok
	[[ ! -e $IMPORT_IMG && $(stat -c %s "$IMG") -eq 4096 ]]
	expect_events work domain-volume-import-begin \
	    work domain-volume-import-end
	# ImportEnd never saves
	[[ $(sum "$BASE/qubes.xml") == "$before" ]]
}

@test "ImportBegin: empty payload imports at the current size" {
	call_on internal -e personal internal.vm.volume.ImportBegin work private
	expect_ok "2147483648 $IMPORT_IMG"
	CALL_SOCK=$RUN/qubesd.internal.sock callp 'fail' personal \
	    internal.vm.volume.ImportEnd work private
	expect_exc QubesException 'Data import failed: '
	[[ ! -e $IMPORT_IMG ]]
}

@test "ImportBegin: size validator (not stripped), unknown volume, dom0" {
	local p
	for p in ' 4096' '4096\n' '04096' '-1' 'abc' '99999999999999999999' \
	    '\xff'; do
		CALL_SOCK=$RUN/qubesd.internal.sock callp "$p" personal \
		    internal.vm.volume.ImportBegin work private
		expect_silent
	done
	[[ ! -e $IMPORT_IMG ]]
	CALL_SOCK=$RUN/qubesd.internal.sock callp '4096' personal \
	    internal.vm.volume.ImportBegin work nosuch
	expect_silent
	CALL_SOCK=$RUN/qubesd.internal.sock callp '4096' personal \
	    internal.vm.volume.ImportBegin dom0 private
	expect_silent
	# not a save_on_stop volume
	CALL_SOCK=$RUN/qubesd.internal.sock callp '4096' personal \
	    internal.vm.volume.ImportBegin work root
	expect_exc StoragePoolException 'Can not import into save_on_stop=False volume appvms/work/root'
}

@test "ImportEnd: fail reasons, non-ASCII, unknown volume" {
	call_on internal -e personal internal.vm.volume.ImportBegin work private
	events_mark
	CALL_SOCK=$RUN/qubesd.internal.sock callp 'fail\nnot enough data (copied 1 bytes, expected 2 bytes)' \
	    personal internal.vm.volume.ImportEnd work private
	expect_exc QubesException 'Data import failed: not enough data (copied 1 bytes, expected 2 bytes)'
	expect_events work domain-volume-import-end
	[[ ! -e $IMPORT_IMG && $(stat -c %s "$IMG") -eq 2147483648 ]]
	# "ok" only when exactly "ok"
	call_on internal -e personal internal.vm.volume.ImportBegin work private
	CALL_SOCK=$RUN/qubesd.internal.sock callp 'ok\n' personal \
	    internal.vm.volume.ImportEnd work private
	expect_exc QubesException 'Data import failed: '
	call_on internal -e personal internal.vm.volume.ImportBegin work private
	CALL_SOCK=$RUN/qubesd.internal.sock callp 'fail\n\xff' personal \
	    internal.vm.volume.ImportEnd work private
	expect_silent
	[[ ! -e $IMPORT_IMG ]]
	CALL_SOCK=$RUN/qubesd.internal.sock callp 'ok' personal \
	    internal.vm.volume.ImportEnd work nosuch
	expect_silent
}

@test "ImportBegin/End are internal only; Import is on no socket" {
	callp '4096' personal internal.vm.volume.ImportBegin work private
	expect_silent
	call -e personal admin.vm.volume.Import work private
	expect_silent
	call_on internal -e personal admin.vm.volume.Import work private
	expect_silent
	[[ ! -e $IMPORT_IMG ]]
}

# ---------------------------------------------------------------------------
# admin.vm.volume.Import / ImportWithSize (the service executable)

@test "Import: ImportWithSize writes exactly the data, Import reuses the size" {
	local before
	before=$(sum "$BASE/qubes.xml")
	impd '4096\n' "$T/data4096" mgmt work admin.vm.volume.ImportWithSize+private
	# mgmt is no qube: the broker answers QubesVMNotFoundError
	expect_imp_rc 1
	expect_exc QubesVMNotFoundError 'No such domain: '"'"'mgmt'"'"
	impd '4096\n' "$T/data4096" personal work admin.vm.volume.ImportWithSize+private
	expect_imp_rc 0
	expect_ok
	cmp "$T/data4096" "$IMG"
	[[ ! -e $IMPORT_IMG ]]
	# the zero stretch was seeked over: the image stays sparse-capable
	head -c 4096 /dev/urandom >"$T/data2"
	impd '' "$T/data2" personal work admin.vm.volume.Import+private
	expect_imp_rc 0
	expect_ok
	cmp "$T/data2" "$IMG"
	# an empty size line is a plain Import
	impd '\n' "$T/data4096" personal work admin.vm.volume.ImportWithSize+private
	expect_imp_rc 0
	expect_ok
	cmp "$T/data4096" "$IMG"
	[[ ! -s $T/imp.err ]]
}

@test "Import: size 0 and a size that needs no data line" {
	: >"$T/empty"
	impd '0\n' "$T/empty" personal work admin.vm.volume.ImportWithSize+private
	expect_imp_rc 0
	expect_ok
	[[ $(stat -c %s "$IMG") -eq 0 ]]
}

@test "Import: too much data leaves the old image intact" {
	local before
	head -c 65536 /dev/urandom | dd of="$IMG" conv=notrunc status=none
	before=$(sum "$IMG")
	{ cat "$T/data4096"; printf 'x'; } >"$T/data4097"
	events_mark
	impd '4096\n' "$T/data4097" personal work admin.vm.volume.ImportWithSize+private
	expect_imp_rc 0
	expect_exc QubesException 'Data import failed: too much data (expected 4096 bytes)'
	[[ $(sum "$IMG") == "$before" && ! -e $IMPORT_IMG ]]
	expect_events work domain-volume-import-begin \
	    work domain-volume-import-end
}

@test "Import: not enough data leaves the old image intact" {
	local before
	before=$(sum "$IMG")
	head -c 4095 "$T/data4096" >"$T/data4095"
	impd '4096\n' "$T/data4095" personal work admin.vm.volume.ImportWithSize+private
	expect_imp_rc 0
	expect_exc QubesException 'Data import failed: not enough data (copied 4095 bytes, expected 4096 bytes)'
	[[ $(sum "$IMG") == "$before" && ! -e $IMPORT_IMG ]]
	# Import with the current size (2 GiB) and 4096 bytes
	impd '' "$T/data4096" personal work admin.vm.volume.Import+private
	expect_imp_rc 0
	expect_exc QubesException 'Data import failed: not enough data (copied 4096 bytes, expected 2147483648 bytes)'
	[[ $(sum "$IMG") == "$before" && ! -e $IMPORT_IMG ]]
}

@test "Import: a bad size line exits 2 before contacting the broker" {
	local p before
	printf 'y%.0s' {1..100} >"$T/ydata"
	: >"$T/empty"
	before=$(broker_requests)
	impd '4096' "$T/empty" personal work admin.vm.volume.ImportWithSize+private
	expect_imp_rc 2
	[[ ! -s $REPLY_FILE && $(broker_requests) -eq $before ]]
	for p in '4096' '' '12345678901234567890123\n' '4096\r\n' '40\t96\n' \
	    '\xff\n' '\0\n'; do
		before=$(broker_requests)
		impd "$p" "$T/ydata" personal work admin.vm.volume.ImportWithSize+private
		expect_imp_rc 2
		[[ ! -s $REPLY_FILE ]]
		[[ $(broker_requests) -eq $before ]]
	done
	[[ $(stat -c %s "$IMG") -eq 2147483648 ]]
}

@test "Import: negative, huge, non-decimal sizes are refused (status 1)" {
	local p before
	for p in '-1\n' 'abc\n' '04096\n' ' 4096\n' '4096 \n' '0x1000\n' \
	    '99999999999999999999\n'; do
		before=$(broker_requests)
		impd "$p" "$T/data4096" personal work admin.vm.volume.ImportWithSize+private
		expect_imp_rc 1
		[[ ! -s $REPLY_FILE ]]
		grep -qF 'size must be 1-19 digits' "$T/imp.err"
		[[ $(broker_requests) -eq $before ]]
	done
	# 19 digits pass the syntax; the file driver cannot create that
	impd '9999999999999999999\n' "$T/data4096" personal work admin.vm.volume.ImportWithSize+private
	expect_imp_rc 1
	[[ ! -s $REPLY_FILE ]]
	[[ $(stat -c %s "$IMG") -eq 2147483648 && ! -e $IMPORT_IMG ]]
}

@test "Import: ImportWithSize of another size: data must match it, then the image takes it" {
	impd '8192\n' "$T/data4096" personal work admin.vm.volume.ImportWithSize+private
	expect_imp_rc 0
	expect_exc QubesException 'Data import failed: not enough data (copied 4096 bytes, expected 8192 bytes)'
	[[ $(stat -c %s "$IMG") -eq 2147483648 ]]
	cat "$T/data4096" "$T/data4096" >"$T/data8192"
	impd '8192\n' "$T/data8192" personal work admin.vm.volume.ImportWithSize+private
	expect_imp_rc 0
	expect_ok
	cmp "$T/data8192" "$IMG"
}

@test "Import: unknown volume, '..', '/', no argument, dom0" {
	local before
	impd '' "$T/data4096" personal work admin.vm.volume.Import+nosuch
	expect_imp_rc 1
	[[ ! -s $REPLY_FILE ]]
	before=$(broker_requests)
	impd '' "$T/data4096" personal work admin.vm.volume.Import+..
	expect_imp_rc 1
	grep -qF 'volume name must match' "$T/imp.err"
	impd '' "$T/data4096" personal work 'admin.vm.volume.Import+a/b'
	expect_imp_rc 1
	grep -qF 'outside [A-Za-z0-9_.+-]' "$T/imp.err"
	impd '' "$T/data4096" personal work admin.vm.volume.Import+
	expect_imp_rc 1
	grep -qF 'volume name must match' "$T/imp.err"
	[[ $(broker_requests) -eq $before ]]
	impd '' "$T/data4096" personal dom0 admin.vm.volume.Import+private
	expect_imp_rc 1
	[[ ! -s $REPLY_FILE ]]
	[[ $(stat -c %s "$IMG") -eq 2147483648 ]]
}

@test "Import: the broker's error is relayed with status 1 (not save_on_stop)" {
	impd '4096\n' "$T/data4096" personal work admin.vm.volume.ImportWithSize+root
	expect_imp_rc 1
	expect_exc StoragePoolException 'Can not import into save_on_stop=False volume appvms/work/root'
	impd '' "$T/data4096" personal work admin.vm.volume.Import+kernel
	expect_imp_rc 1
	[[ ! -s $REPLY_FILE ]]
}

@test "Import: a running qube is refused (QubesVMNotHaltedError)" {
	local before
	make_running_qube
	before=$(sum "$BASE/appvms/runner/private.img")
	impd '4096\n' "$T/data4096" personal runner admin.vm.volume.ImportWithSize+private
	expect_imp_rc 1
	expect_exc QubesVMNotHaltedError "Domain is not powered off: 'runner'"
	[[ $(sum "$BASE/appvms/runner/private.img") == "$before" ]]
	[[ ! -e $BASE/appvms/runner/private-import.img ]]
}

@test "Import: unknown basename, mismatched invocation" {
	ln -s "$SERVICES_DIR/qubes-admin-vm-volume-import" "$RPC/admin.vm.volume.Export"
	IMP_ARGV0=$RPC/admin.vm.volume.Export impd '' "$T/data4096" personal \
	    work admin.vm.volume.Export+private
	expect_imp_rc 1
	grep -qx 'Invoked with unknown basename admin.vm.volume.Export, cannot continue' "$T/imp.err"
	[[ ! -s $REPLY_FILE ]]
	# link name and full name disagree
	IMP_ARGV0=$RPC/admin.vm.volume.Import impd '4096\n' "$T/data4096" \
	    personal work admin.vm.volume.ImportWithSize+private
	expect_imp_rc 1
	grep -qF 'differs from the executable name' "$T/imp.err"
	# the plain forwarding executable does not serve Import
	ln -s "$SERVICES_DIR/qubes-admin-vm-volume" "$T/admin.vm.volume.Import"
	IMP_ARGV0=$T/admin.vm.volume.Import impd '' "$T/data4096" personal \
	    work admin.vm.volume.Import+private
	expect_imp_rc 1
	grep -qF 'not served by a qrexec service' "$T/imp.err"
	[[ $(stat -c %s "$IMG") -eq 2147483648 ]]
}

# start_import_on_fifo SIZE: start ImportWithSize of work:private reading
# from the fifo $T/fifo (writer on fd 5); waits until ImportBegin made
# the import target.  Sets IMP_PID.
start_import_on_fifo() {
	local i
	mkfifo "$T/fifo"
	env -i PATH=/usr/bin:/bin \
	    "QUBESD_INTERNAL_SOCKET=$RUN/qubesd.internal.sock" \
	    QREXEC_REMOTE_DOMAIN=personal \
	    QREXEC_SERVICE_FULL_NAME=admin.vm.volume.ImportWithSize+private \
	    QREXEC_SERVICE_ARGUMENT=private QREXEC_REQUESTED_TARGET_TYPE=name \
	    QREXEC_REQUESTED_TARGET=work \
	    "$RPC/admin.vm.volume.ImportWithSize" private <"$T/fifo" \
	    >"$REPLY_FILE" 2>"$T/imp.err" 3>&- &
	IMP_PID=$!
	exec 5>"$T/fifo"
	printf '%s\n' "$1" >&5
	head -c 100000 /dev/urandom >&5
	for ((i = 0; i < WAIT_TICKS; i++)); do
		[[ -e $IMPORT_IMG ]] && break
		sleep "$WAIT_TICK"
	done
	[[ -e $IMPORT_IMG ]]
	# let the service take what was written
	sleep 0.2
}

@test "Import: kill -9 half-way leaves the old image intact; a new import works" {
	local before xml
	head -c 65536 /dev/urandom | dd of="$IMG" conv=notrunc status=none
	before=$(sum "$IMG")
	xml=$(sum "$BASE/qubes.xml")
	start_import_on_fifo 1048576
	kill -KILL "$IMP_PID"
	wait "$IMP_PID" || true
	exec 5>&-
	[[ $(sum "$IMG") == "$before" ]]
	[[ $(stat -c %s "$IMG") -eq 2147483648 ]]
	[[ $(sum "$BASE/qubes.xml") == "$xml" ]]
	# the dead import's target is never committed; a new import works
	impd '4096\n' "$T/data4096" personal work admin.vm.volume.ImportWithSize+private
	expect_imp_rc 0
	expect_ok
	cmp "$T/data4096" "$IMG"
	[[ ! -e $IMPORT_IMG ]]
}

@test "Import: SIGTERM half-way ends the import as failed; old image intact" {
	local before rc=0
	before=$(sum "$IMG")
	start_import_on_fifo 1048576
	kill -TERM "$IMP_PID"
	wait "$IMP_PID" || rc=$?
	exec 5>&-
	[[ $rc -eq 0 ]]
	expect_exc QubesException 'Data import failed: error copying data'
	[[ $(sum "$IMG") == "$before" && ! -e $IMPORT_IMG ]]
}

@test "Import: the caller going away (end of input) half-way" {
	local before rc=0
	before=$(sum "$IMG")
	start_import_on_fifo 1048576
	exec 5>&-
	wait "$IMP_PID" || rc=$?
	[[ $rc -eq 0 ]]
	expect_exc QubesException 'Data import failed: not enough data (copied 100000 bytes, expected 1048576 bytes)'
	[[ $(sum "$IMG") == "$before" && ! -e $IMPORT_IMG ]]
}

@test "Import: the broker down: status 125, nothing on stdout" {
	stop_broker
	impd '4096\n' "$T/data4096" personal work admin.vm.volume.ImportWithSize+private
	expect_imp_rc 125
	[[ ! -s $REPLY_FILE ]]
	start_broker --debug
}

@test "Import: through the qrexec simulator and installed links" {
	[[ -n ${TOOLS_DIR:-} && -x $TOOLS_DIR/api-table ]] ||
	    skip "TOOLS_DIR/api-table not built"
	grep -E '^admin\.vm\.volume\.(Import|ImportWithSize|Clear) ' \
	    "$REPO_ROOT/qubes-rpc/links.txt" >"$T/links"
	[[ $(wc -l <"$T/links") -eq 3 ]]
	sh "$REPO_ROOT/scripts/install-links.sh" "$T/root" "$SERVICES_DIR" \
	    /usr/lib/qubes-admin "$T/links" 2>/dev/null
	[[ $(readlink "$T/root/etc/qubes-rpc/admin.vm.volume.Import") == \
	    /usr/lib/qubes-admin/qubes-admin-vm-volume-import ]]
	[[ $(readlink "$T/root/etc/qubes-rpc/admin.vm.volume.ImportWithSize") == \
	    /usr/lib/qubes-admin/qubes-admin-vm-volume-import ]]
	mkdir -p "$T/policy/include"
	cat >"$T/policy/30-test.policy" <<-'EOF'
	admin.vm.volume.ImportWithSize  +private  personal  work  allow target=dom0
	admin.vm.volume.Import          *         personal  work  deny
	EOF
	call_on internal -e dom0 internal.GetSystemInfo dom0
	tail -c +3 "$REPLY_FILE" >"$T/sysinfo.json"
	{ printf '4096\n'; cat "$T/data4096"; } >"$T/imp.in"
	SIM_RC=0
	QREXEC_SIM_ROOT=$T/root POLICY_DIR=$T/policy SYSINFO=$T/sysinfo.json \
	    QUBESD_INTERNAL_SOCKET=$RUN/qubesd.internal.sock \
	    bash "$REPO_ROOT/tests/tools/qrexec-sim.sh" personal work \
	    admin.vm.volume.ImportWithSize+private <"$T/imp.in" \
	    >"$REPLY_FILE" 2>"$T/sim.err" || SIM_RC=$?
	if [[ $SIM_RC -eq 77 ]]; then
		skip "$(head -n 1 "$T/sim.err")"
	fi
	[[ $SIM_RC -eq 0 ]] || { cat "$T/sim.err" >&2; false; }
	expect_ok
	cmp "$T/data4096" "$IMG"
	# denied by the policy: 126, nothing imported
	SIM_RC=0
	QREXEC_SIM_ROOT=$T/root POLICY_DIR=$T/policy SYSINFO=$T/sysinfo.json \
	    QUBESD_INTERNAL_SOCKET=$RUN/qubesd.internal.sock \
	    bash "$REPO_ROOT/tests/tools/qrexec-sim.sh" personal work \
	    admin.vm.volume.Import+private </dev/null \
	    >"$REPLY_FILE" 2>"$T/sim.err" || SIM_RC=$?
	[[ $SIM_RC -eq 126 ]]
	cmp "$T/data4096" "$IMG"
}

@test "CloneTo: a volume cloned onto itself keeps its data" {
	local before
	head -c 65536 /dev/urandom | dd of="$IMG" conv=notrunc status=none
	before=$(sum "$IMG")
	call -e dom0 admin.vm.volume.CloneFrom work private
	tail -c +3 "$REPLY_FILE" >"$T/tok"
	call dom0 admin.vm.volume.CloneTo work private <"$T/tok"
	expect_ok
	[[ $(sum "$IMG") == "$before" ]]
	[[ $(stat -c %s "$IMG") -eq 2147483648 ]]
	[[ -z $(find "$BASE/appvms/work" -name '*clone~*') ]]
}

@test "Import: a second import while one is copying is refused" {
	local before
	head -c 65536 /dev/urandom | dd of="$IMG" conv=notrunc status=none
	before=$(sum "$IMG")
	start_import_on_fifo 1048576
	impd '4096\n' "$T/data4096" personal work admin.vm.volume.ImportWithSize+private
	expect_imp_rc 1
	expect_exc StoragePoolException 'Import operation in progress on appvms/work/private'
	kill -KILL "$IMP_PID"
	wait "$IMP_PID" || true
	exec 5>&-
	[[ $(sum "$IMG") == "$before" ]]
	# the copier is gone: its leftover target is replaced
	impd '4096\n' "$T/data4096" personal work admin.vm.volume.ImportWithSize+private
	expect_imp_rc 0
	cmp "$T/data4096" "$IMG"
}
