#!/bin/sh
# Refresh (or with --check, verify) the call table in README.md from the
# output of the api-table tool.
set -eu
tool=$1
mode=${2:-}
tmp=$(mktemp)
trap 'rm -f "$tmp" "$tmp.new"' EXIT
"$tool" --readme > "$tmp"
awk -v table="$tmp" '
	/<!-- BEGIN CALL TABLE -->/ { print; while ((getline l < table) > 0) print l; skip = 1; next }
	/<!-- END CALL TABLE -->/ { skip = 0 }
	!skip { print }
' README.md > "$tmp.new"
if [ "$mode" = --check ]; then
	if ! cmp -s README.md "$tmp.new"; then
		echo "README.md call table is stale: run 'make readme'" >&2
		exit 1
	fi
	exit 0
fi
mv "$tmp.new" README.md
