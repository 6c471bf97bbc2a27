#!/bin/sh
# Refresh (or with --check, verify) qubes-rpc/links.txt, the list of
# /etc/qubes-rpc links ("<call> <executable>", one per implemented
# qrexec-reachable call), from the output of the api-table tool.
#
#   sh scripts/links-list.sh build/tests/tools/api-table [--check]
set -eu
tool=$1
mode=${2:-}
list=qubes-rpc/links.txt
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
{
	echo "# /etc/qubes-rpc/<call> -> /usr/lib/qubes-admin/<executable>"
	echo "# Generated from lib/api/*.def by scripts/links-list.sh"
	echo "# (api-table --links); do not edit.  Installed by"
	echo "# scripts/install-links.sh."
	"$tool" --links
} >"$tmp"
if [ "$mode" = --check ]; then
	if ! cmp -s "$list" "$tmp"; then
		echo "$list is stale: run 'sh scripts/links-list.sh $tool'" >&2
		exit 1
	fi
	exit 0
fi
cat "$tmp" >"$list"
