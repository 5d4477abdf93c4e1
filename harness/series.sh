#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the mailing-list series from the repository:
#   harness/series/cover.txt     cover letter: subject line, blank, body
#   harness/series/NN-*.txt      one per patch, in order (two-digit NN,
#                                each number once): subject line, blank,
#                                commit message, then a line "Files:"
#                                and below it what the patch takes
#
# Below "Files:", one line each (lines starting with # are comments):
#   PATH          the patch takes the file whole: an added file is copied,
#                 a .diff applied. PATH may be a glob (* also matches /).
#   PATH REGEX    the patch takes the parts of the file with a line in
#                 which REGEX (a Python regular expression: the rest of
#                 the line) is found.
# A file is cut into parts this way:
#   - a .diff: the runs of changed lines between its context lines; a run
#     that only adds lines is cut further, as an added file;
#   - an added C file (.c, .h) or such a run in a .diff of one: before a
#     line that starts with "/*" or "#endif", follows a blank line and
#     is outside braces: a part is a commented block of declarations or
#     definitions, and the include guard's #endif a part of its own;
#   - any other file (Makefile, Kconfig): before every line that does
#     not continue the one before with a backslash.
#   Blank lines go with the part after them; a part of added blank lines
#   and closing braces only, with the part before it in the same hunk.
# Every series file must be taken whole by one patch, or each of its
# parts by exactly one: a part no patch takes, or two patches take, is
# an error (so a new hunk or declaration never lands in a patch silently),
# and so is a line that takes nothing. The tree after the last patch
# must be byte-identical to the base plus every series file (checked).
# build/series/parts.txt lists the parts each patch takes.
# Output: build/series/patches/*.patch, then checked with git am on a
# fresh clone of the base.
. "$(dirname "$0")/lib.sh"

sdir=$REPO/harness/series
out=$BUILD/series
ident=$(cat "$sdir/identity")
name=${ident% <*}
email=${ident##*<}
email=${email%>}

mapfile -t files < <(series_files)
[ ${#files[@]} -gt 0 ] || die "the repository holds no series files"
# Files git does not track yet go into the series too (a new file is
# part of the work before its commit): say which, so none slips in.
untracked=$(git -C "$REPO" ls-files --others --exclude-standard | grep -v '^harness/' || true)
[ -z "$untracked" ] || note "series: files not committed yet, taken as they are:" $untracked

rm -rf "$out"
mkdir -p "$out"
git clone -q --shared --no-checkout "$TREE" "$out/tree"
g() { git -C "$out/tree" -c user.name="$name" -c user.email="$email" "$@"; }
g checkout -q -b series base

# Which patch takes what: build/series/plan/NN.ops, NN.msg and the
# content of the split files, at each patch that takes a part of them.
printf '%s\n' "${files[@]}" >"$out/files"
python3 "$REPO/harness/series-split.py" "$REPO" "$sdir" "$out" "$out/tree" ||
	die "cannot split the series (see above)"

for ops in "$out"/plan/[0-9][0-9].ops; do
	n=$(basename "$ops" .ops)
	while read -r op f; do
		case $op in
		apply)
			g apply --whitespace=nowarn "$REPO/$f" ||
				die "$f does not apply to the base"
			;;
		copy)
			mkdir -p "$(dirname "$out/tree/$f")"
			cp "$REPO/$f" "$out/tree/$f"
			;;
		write)
			mkdir -p "$(dirname "$out/tree/$f")"
			if [ -e "$out/tree/$f" ]; then
				cat "$out/plan/$n/$f" >"$out/tree/$f"
			else
				cp -p "$out/plan/$n/$f" "$out/tree/$f"
			fi
			;;
		esac
	done <"$ops"
	g add -A
	cp "$out/plan/$n.msg" "$out/msg"
	printf '\nSigned-off-by: %s\n' "$ident" >>"$out/msg"
	g commit -q --cleanup=strip -F "$out/msg"
done

# After the last patch the tree must be the base plus every series file,
# byte for byte, however the files were split.
g checkout -q -b whole base
for f in "${files[@]}"; do
	if [[ $f == *.diff ]]; then
		g apply --whitespace=nowarn "$REPO/$f" || die "$f does not apply to the base"
	else
		mkdir -p "$(dirname "$out/tree/$f")"
		cp "$REPO/$f" "$out/tree/$f"
	fi
done
g add -A
g commit -q -m "base plus every series file"
g checkout -q series
if ! g diff --quiet series whole; then
	g diff --stat series whole >&2
	die "the tree after the last patch is not the base plus the series files"
fi

g format-patch -q --cover-letter --thread -o "$out/patches" \
	--subject-prefix="RFC PATCH" base..series
cover=$(ls "$out/patches"/0000-*.patch)
subject=$(head -n 1 "$sdir/cover.txt")
python3 - "$cover" "$subject" "$sdir/cover.txt" <<'PY'
import sys
path, subject, body = sys.argv[1], sys.argv[2], sys.argv[3]
text = open(path).read()
blurb = open(body).read().split('\n', 2)[2] if '\n' in open(body).read() else ''
text = text.replace('*** SUBJECT HERE ***', subject)
text = text.replace('*** BLURB HERE ***', blurb.rstrip('\n'))
open(path, 'w').write(text)
PY

# The series must apply with git am to a clean base.
git clone -q --shared --no-checkout "$TREE" "$out/am-check"
git -C "$out/am-check" checkout -q -b am base
if ! git -C "$out/am-check" -c user.name="$name" -c user.email="$email" \
	am -q $(ls "$out/patches"/0*-*.patch | grep -v /0000-cover-letter); then
	die "the series does not apply with git am onto the base (see $out/am-check)"
fi
note "series: $(ls "$out/patches" | wc -l) files in $out/patches (with the cover letter); git am onto the base: clean"
rm -rf "$out/am-check"
