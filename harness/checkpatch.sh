#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# scripts/checkpatch.pl --strict over every patch of build/series.
# Fails when any patch has an error.
. "$(dirname "$0")/lib.sh"

patches=("$BUILD"/series/patches/0*-*.patch)
[ -f "${patches[0]}" ] || die "no series: run 'make series'"
errors=0
for p in "${patches[@]}"; do
	case "$p" in */0000-cover-letter.patch) continue ;; esac
	res=$(cd "$TREE" && perl scripts/checkpatch.pl --strict --showfile "$p" 2>&1) || true
	sum=$(printf '%s\n' "$res" | grep -E '^total:' || echo "total: ? (checkpatch failed)")
	printf '%-60s %s\n' "$(basename "$p")" "$sum"
	if ! printf '%s\n' "$sum" | grep -q '^total: 0 errors'; then
		printf '%s\n' "$res" | grep -E -A4 '^(\S+:[0-9]+: )?(ERROR|WARNING|CHECK):' | sed 's/^/    /' || true
		errors=1
	elif printf '%s\n' "$sum" | grep -qv ' 0 warnings, 0 checks'; then
		printf '%s\n' "$res" | grep -E -A4 '^(\S+:[0-9]+: )?(WARNING|CHECK):' | sed 's/^/    /' || true
	fi
done
[ $errors = 0 ] || die "checkpatch found errors"
