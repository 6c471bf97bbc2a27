#!/bin/sh
# mkbase.sh SCENARIO_DIR BASEDIR - instantiate a conformance fixture.
#
# Creates BASEDIR (it must not exist, or be an empty directory), writes
# BASEDIR/qubes.xml from SCENARIO_DIR/fixture/qubes.xml with every "@BASE@"
# replaced by the absolute path of BASEDIR, and creates what
# SCENARIO_DIR/fixture/files.txt lists (paths relative to BASEDIR; "#" and
# blank lines ignored):
#	dir/		a directory
#	file		an empty file
#	file SIZE	a sparse file of SIZE bytes (no data blocks)
set -eu

prog=mkbase.sh
die() {
	echo "$prog: $*" >&2
	exit 2
}

[ $# -eq 2 ] || die "usage: $prog SCENARIO_DIR BASEDIR"
scen=$1
case $2 in
/*)	base=$2 ;;
'')	die "empty BASEDIR" ;;
*)	base=$(pwd)/$2 ;;
esac
# no trailing slashes (the path is substituted into qubes.xml)
while :; do
	case $base in
	?*/) base=${base%/} ;;
	*) break ;;
	esac
done

xml=$scen/fixture/qubes.xml
files=$scen/fixture/files.txt
[ -f "$xml" ] || die "no fixture/qubes.xml in $scen"

if [ -e "$base" ] || [ -L "$base" ]; then
	if [ ! -d "$base" ] || [ -n "$(ls -A "$base")" ]; then
		die "$base exists and is not an empty directory"
	fi
else
	mkdir -p "$base"
fi

if [ -f "$files" ]; then
	lineno=0
	while IFS= read -r line || [ -n "$line" ]; do
		lineno=$((lineno + 1))
		set -f
		# shellcheck disable=SC2086
		set -- $line
		set +f
		[ $# -eq 0 ] && continue
		case $1 in '#'*) continue ;; esac
		[ $# -le 2 ] || die "files.txt:$lineno: too many fields"
		path=$1
		case /${path%/}/ in
		//*|*/./*|*/../*|*//*|*\\*)
			die "files.txt:$lineno: bad path '$path'" ;;
		esac
		case $path in
		*/)
			[ $# -eq 1 ] ||
			    die "files.txt:$lineno: a directory takes no size"
			mkdir -p "$base/${path%/}"
			continue ;;
		esac
		target=$base/$path
		mkdir -p "$(dirname "$target")"
		: >"$target"
		if [ $# -eq 2 ]; then
			case $2 in
			*[!0-9]*|'')
				die "files.txt:$lineno: bad size '$2'" ;;
			esac
			truncate -s "$2" "$target"
		fi
	done <"$files"
fi

# ENVIRON, not -v: awk would interpret backslashes in a -v value.
MKBASE_DIR=$base awk '
{
	out = ""
	line = $0
	while ((i = index(line, "@BASE@")) > 0) {
		out = out substr(line, 1, i - 1) ENVIRON["MKBASE_DIR"]
		line = substr(line, i + 6)
	}
	print out line
}' "$xml" >"$base/qubes.xml"
chmod 660 "$base/qubes.xml"
