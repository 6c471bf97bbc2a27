#!/usr/bin/env bats
# Policy Admin API (policy.md 11): the qubes-policy-admin executable, run
# as qrexec runs it, on a temporary policy directory.

setup() {
	PA=${SERVICES_DIR:?}/qubes-policy-admin
	[ -x "$PA" ] || skip "qubes-policy-admin not built"
	P=$BATS_TEST_TMPDIR/policy.d
	mkdir -p "$P/include"
	cat > "$P/90-admin-default.policy" <<'POL'
!include-service admin.vm.List * include/admin-global-ro
!include-service admin.vm.property.Get * include/admin-local-rwx
POL
	printf '!include include/admin-global-rwx\n' > "$P/include/admin-global-ro"
	: > "$P/include/admin-global-rwx"
	: > "$P/include/admin-local-rwx"
	export QUBES_POLICY_DIR=$P QUBES_POLICY_ADMIN_LOG=$BATS_TEST_TMPDIR/log
	export QREXEC_REMOTE_DOMAIN=mgmt
}

# pa CALL+ARG FORMAT: run the service with stdin = printf FORMAT (so
# "\n" is a newline); $out holds stdout, $rc the exit status
pa() {
	set +e
	out=$(printf -- "$2" | QREXEC_SERVICE_FULL_NAME=$1 "$PA"; echo "|$?")
	set -e
	rc=${out##*|}
	out=${out%|*}
	out=${out%$'\n'}	# the message's own final newline
}

token_of() {
	printf 'sha256:%s' "$(sha256sum < "$1" | cut -d' ' -f1)"
}

@test "policy.List lists main files without extension, sorted" {
	: > "$P/30-a.policy"
	: > "$P/not-a-policy.txt"
	pa policy.List+ ""
	[ "$rc" = 0 ]
	[ "$out" = "$(printf '30-a\n90-admin-default\n')" ]
}

@test "policy.include.List lists every include file" {
	pa policy.include.List+ ""
	[ "$rc" = 0 ]
	[ "$out" = "$(printf 'admin-global-ro\nadmin-global-rwx\nadmin-local-rwx\n')" ]
}

@test "Replace new, Get with token, Replace with token, stale token" {
	pa policy.Replace+30-user 'new\nqubes.Gpg * work vault allow\n'
	[ "$rc" = 0 ] && [ -z "$out" ]
	[ "$(stat -c %a "$P/30-user.policy")" = 664 ]
	pa policy.Get+30-user ""
	[ "$rc" = 0 ]
	[ "$out" = "$(printf 'sha256:9b96109c0413c8be6bcd8c7259b743f577bbfaaed5b5a0dc97a8e2d6cad36d3d\nqubes.Gpg * work vault allow')" ]
	pa policy.Replace+30-user 'sha256:9b96109c0413c8be6bcd8c7259b743f577bbfaaed5b5a0dc97a8e2d6cad36d3d\nqubes.Gpg * work vault allow\nqubes.Gpg * @anyvm vault deny\n'
	[ "$rc" = 0 ]
	[ "$(token_of "$P/30-user.policy")" = sha256:d0012693ef3d2249fa73b3b6e2f9a6135b65960586863c4d7f861a80d1974d9d ]
	before=$(cat "$P/30-user.policy")
	pa policy.Replace+30-user 'sha256:9b96109c0413c8be6bcd8c7259b743f577bbfaaed5b5a0dc97a8e2d6cad36d3d\nx\n'
	[ "$rc" = 2 ]
	[ "$out" = "Internal error. See /var/log/qubes/policy-admin.log in dom0 for details." ]
	[ "$(cat "$P/30-user.policy")" = "$before" ]
	grep -q "Token mismatch" "$QUBES_POLICY_ADMIN_LOG"
	pa policy.Replace+30-user 'new\nx\n'
	[ "$rc" = 2 ]
}

@test "Replace: the whole policy is validated before writing" {
	pa policy.Replace+30-user 'any\nqubes.Gpg * work vault allow,target=x\n'
	[ "$rc" = 1 ]
	[ "$out" = "Policy change validation failed: $P/30-user.policy:1: invalid action: allow,target=x" ]
	[ ! -e "$P/30-user.policy" ]
	pa policy.Replace+30-user 'any\n!include include/nonexistent\n'
	[ "$rc" = 1 ]
	[ "$out" = "Policy change validation failed: $P/30-user.policy:1: not a file: $P/include/nonexistent" ]
	# an include file reached through !include-service has the service form
	pa policy.include.Replace+admin-local-rwx 'any\nqubes.A * @anyvm @anyvm deny\n'
	[ "$rc" = 1 ]
	[ "$out" = "Policy change validation failed: $P/include/admin-local-rwx:1: invalid action: @anyvm" ]
	pa policy.include.Replace+admin-local-rwx 'any\ntest-mgmt @tag:created-by-test-mgmt allow target=dom0\n'
	[ "$rc" = 0 ]
	grep -q created-by-test-mgmt "$P/include/admin-local-rwx"
	ls -A "$P" "$P/include" | grep -v -q '^\.' || true
	[ -z "$(find "$P" -name '.*' -type f)" ]
}

@test "Replace: a self-including file is refused, nothing written" {
	pa policy.Replace+30-loop 'any\n!include 30-loop.policy\n'
	[ "$rc" = 1 ]
	[[ "$out" == "Policy change validation failed: "* ]]
	[ ! -e "$P/30-loop.policy" ]
}

@test "Replace: upper-case main-directory names are refused (divergence)" {
	pa policy.Replace+Foo 'any\nx * @anyvm @anyvm deny\n'
	[ "$rc" = 1 ]
	[[ "$out" == "Invalid policy file name: Foo"* ]]
	[ ! -e "$P/Foo.policy" ]
	pa policy.List+ ""
	[ "$rc" = 0 ]
}

@test "Remove: token, still-included file refused, missing file" {
	pa policy.include.Remove+admin-global-rwx "any"
	[ "$rc" = 1 ]
	[ "$out" = "Policy change validation failed: $P/include/admin-global-ro:1: including a file that will be removed: $P/include/admin-global-rwx" ]
	[ -e "$P/include/admin-global-rwx" ]
	printf 'x * @anyvm @anyvm deny\n' > "$P/30-x.policy"
	pa policy.Remove+30-x 'any\n'
	[ "$rc" = 1 ] && [ "$out" = "Unrecognized token" ]
	pa policy.Remove+30-x "$(token_of "$P/30-x.policy")"
	[ "$rc" = 0 ] && [ ! -e "$P/30-x.policy" ]
	pa policy.Remove+30-x "any"
	[ "$rc" = 1 ] && [ "$out" = "Not found: $P/30-x.policy" ]
	pa policy.Remove+30-x "sha256:00"
	[ "$rc" = 2 ]
}

@test "request checks in order: argument, method, argument, payload" {
	pa 'policy.Get+a/b' ""
	[ "$rc" = 1 ]
	[ "$out" = "$(printf 'Invalid argument: "a/b"\nValid characters are letters, numbers, dot, plus, hyphen and underline')" ]
	pa policy.Foo+ ""
	[ "$rc" = 1 ] && [ "$out" = "unrecognized method: policy.Foo" ]
	pa policy.List+x ""
	[ "$rc" = 1 ] && [ "$out" = "Unexpected argument" ]
	pa policy.Get+x "y"
	[ "$rc" = 1 ] && [ "$out" = "Unexpected payload" ]
	pa policy.Replace+x "any"
	[ "$rc" = 1 ] && [ "$out" = "Payload needs to include first line with token" ]
	pa policy.Replace+x 'junk\nx'
	[ "$rc" = 1 ] && [ "$out" = "Unrecognized token" ]
	for bad in .hidden_evil_policy .. ''; do
		pa "policy.include.Get+$bad" ""
		[ "$rc" = 1 ]
		[ "$out" = "$(printf 'Invalid policy file name: %s\nNames must contain only alphanumeric characters, underscore and hyphen.' "$bad")" ]
	done
}

@test "a symlink leading out of the directory is refused" {
	echo secret > "$BATS_TEST_TMPDIR/outside"
	ln -s "$BATS_TEST_TMPDIR/outside" "$P/include/evil"
	pa policy.include.Get+evil ""
	[ "$rc" = 1 ]
	[ "$out" = "Expecting a path inside $P/include" ]
}

@test "policy.GetFiles lists the files with rules for a service" {
	printf 'qubes.Gpg * work vault allow\n' > "$P/30-user.policy"
	pa policy.GetFiles+qubes.Gpg ""
	[ "$rc" = 0 ] && [ "$out" = 30-user ]
	pa policy.GetFiles+ ""
	[ "$rc" = 1 ] && [ "$out" = "Service cannot be empty." ]
	pa policy.GetFiles+a+b ""
	[ "$rc" = 1 ] && [ "$out" = "Service 'a+b' contains invalid characters: ('+',)" ]
}

@test "every request is logged with the caller" {
	pa policy.List+ ""
	grep -q "policy.List+ (mgmt)" "$QUBES_POLICY_ADMIN_LOG"
}
