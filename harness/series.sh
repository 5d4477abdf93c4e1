#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the mailing-list series from the repository:
#   harness/series/cover.txt     cover letter: subject line, blank, body
#   harness/series/NN-*.txt      one per patch, in order: subject line,
#                                blank, commit message, then a line
#                                "Files:" and one path or glob per line
# Every series file of the repository must fall in exactly one patch.
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
declare -A used=()

rm -rf "$out"
mkdir -p "$out"
git clone -q --shared --no-checkout "$TREE" "$out/tree"
g() { git -C "$out/tree" -c user.name="$name" -c user.email="$email" "$@"; }
g checkout -q -b series base

for msg in "$sdir"/[0-9][0-9]-*.txt; do
	mapfile -t pats < <(sed -n '/^Files:$/,$p' "$msg" | tail -n +2 | grep -v '^$')
	[ ${#pats[@]} -gt 0 ] || die "$msg has no Files: section"
	n=0
	for f in "${files[@]}"; do
		for pat in "${pats[@]}"; do
			# shellcheck disable=SC2053
			[[ $f == $pat ]] || continue
			[ -z "${used[$f]:-}" ] ||
				die "$f is in two patches: ${used[$f]} and $(basename "$msg")"
			used[$f]=$(basename "$msg")
			n=$((n + 1))
			if [[ $f == *.diff ]]; then
				g apply --whitespace=nowarn "$REPO/$f" ||
					die "$f does not apply to the base"
			else
				mkdir -p "$(dirname "$out/tree/$f")"
				cp "$REPO/$f" "$out/tree/$f"
			fi
			break
		done
	done
	[ $n -gt 0 ] || die "$(basename "$msg") matches no file"
	g add -A
	sed '/^Files:$/,$d' "$msg" >"$out/msg"
	printf '\nSigned-off-by: %s\n' "$ident" >>"$out/msg"
	g commit -q --cleanup=strip -F "$out/msg"
done

missing=0
for f in "${files[@]}"; do
	if [ -z "${used[$f]:-}" ]; then
		note "not in any patch of harness/series: $f"
		missing=1
	fi
done
[ $missing = 0 ] || die "every series file must belong to a patch"

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
