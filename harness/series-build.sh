#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# series-build.sh: check that every patch of the series builds on its own.
# Takes the series make series made (build/series/tree, branch "series"
# on top of the tag "base"), checks each commit out in turn in a work
# tree of its own and builds the VM kernel there (tinyconfig +
# harness/configs/vm.config, so CONFIG_FUSE_BPF=y once the patch that adds
# it is in), incrementally, and with W=1 for fs/fuse. Also builds the last
# one with CONFIG_FUSE_BPF=n. Prints one line per patch; exits 1 on the
# first patch that does not build or warns in fs/fuse.
. "$(dirname "$0")/lib.sh"

series=$BUILD/series/tree
work=$BUILD/series-build/tree
O=$BUILD/series-build/out
log=$BUILD/series-build/build.log
[ -d "$series/.git" ] || die "no series in $series: run 'make series' first"
mapfile -t commits < <(git -C "$series" rev-list --reverse base..series)
[ ${#commits[@]} -gt 0 ] || die "the series in $series has no patches"

mkdir -p "$BUILD/series-build"
# The work clone borrows the objects of the base tree, which stays, and
# fetches those of the series: make series replaces build/series every
# time. A clone that borrowed from an earlier build/series is redone.
if [ -d "$work/.git" ] &&
	! git -C "$work" fetch -q "$series" +series:refs/remotes/series 2>/dev/null; then
	note "$work borrowed from an earlier series: cloning it again"
	rm -rf "$work"
fi
if [ ! -d "$work/.git" ]; then
	git clone -q --shared --no-checkout "$TREE" "$work"
	git -C "$work" fetch -q "$series" +series:refs/remotes/series
fi
: >"$log"

configure() {
	make -s -C "$work" O="$O" tinyconfig >>"$log" 2>&1
	KCONFIG_CONFIG="$O/.config" "$work/scripts/kconfig/merge_config.sh" \
		-m -O "$O" "$O/.config" "$REPO/harness/configs/vm.config" \
		>>"$log" 2>&1
	make -s -C "$work" O="$O" olddefconfig >>"$log" 2>&1
}

# Build; then fs/fuse again with W=1, whose warnings fail the patch.
build() {
	local what=$1 w
	make -s -C "$work" O="$O" -j"$NPROC" bzImage >>"$log" 2>&1 ||
		die "$what does not build (see $log)"
	touch "$work"/fs/fuse/*.c
	w=$(make -s -C "$work" O="$O" -j"$NPROC" W=1 fs/fuse/ 2>&1 |
		grep -E 'warning:|error:' || true)
	[ -z "$w" ] || { printf '%s\n' "$w" >&2; die "$what: W=1 warnings in fs/fuse"; }
}

n=0
for c in "${commits[@]}"; do
	n=$((n + 1))
	subject=$(git -C "$work" log -1 --format=%s "$c")
	git -C "$work" checkout -q --detach "$c"
	mkdir -p "$O"
	configure
	fb=$(grep -q '^CONFIG_FUSE_BPF=y' "$O/.config" && echo "FUSE_BPF=y" || echo "no FUSE_BPF")
	build "patch $n ($subject)"
	printf 'patch %d/%d builds (%s): %s\n' "$n" ${#commits[@]} "$fb" "$subject"
done

# The whole series with the option off.
sed -i 's/^CONFIG_FUSE_BPF=y/# CONFIG_FUSE_BPF is not set/' "$O/.config"
make -s -C "$work" O="$O" olddefconfig >>"$log" 2>&1
grep -q '^# CONFIG_FUSE_BPF is not set' "$O/.config" ||
	die "could not turn CONFIG_FUSE_BPF off"
build "the series with CONFIG_FUSE_BPF=n"
echo "the series builds with CONFIG_FUSE_BPF=n"
