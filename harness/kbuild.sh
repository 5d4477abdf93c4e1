#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the VM kernel out of tree: tinyconfig + harness/configs/vm.config
# (+ debug.config when DEBUG=1) + any extra fragments in $FRAGMENTS.
# Output: build/kernel (build/kernel-debug with DEBUG=1).
. "$(dirname "$0")/lib.sh"

O=$(kernel_out)
build_lock "kernel-$(basename "$O")"
frags=("$REPO/harness/configs/vm.config")
[ "${DEBUG:-0}" = 1 ] && frags+=("$REPO/harness/configs/debug.config")
for f in ${FRAGMENTS:-}; do frags+=("$f"); done

mkdir -p "$O"
sum=$(cat "${frags[@]}" | sha256sum | cut -d' ' -f1)
if [ ! -f "$O/.config" ] || [ "$(cat "$O/.fbt-config" 2>/dev/null)" != "$sum" ]; then
	note "configuring $O"
	make -s -C "$TREE" O="$O" tinyconfig >/dev/null
	KCONFIG_CONFIG="$O/.config" "$TREE/scripts/kconfig/merge_config.sh" \
		-m -O "$O" "$O/.config" "${frags[@]}" >"$O/merge.log" 2>&1 ||
		die "merging config fragments failed (see $O/merge.log)"
	make -s -C "$TREE" O="$O" olddefconfig >/dev/null
	# Every =y the fragments ask for must have survived olddefconfig.
	bad=0
	while IFS= read -r line; do
		case "$line" in CONFIG_*=y) ;; *) continue ;; esac
		if ! grep -qx "$line" "$O/.config"; then
			note "config: $line did not take (missing dependency?)"
			bad=1
		fi
	done < <(cat "${frags[@]}")
	[ $bad = 0 ] || die "kernel config incomplete (see above)"
	echo "$sum" >"$O/.fbt-config"
fi

note "building kernel in $O"
make -s -C "$TREE" O="$O" -j"$NPROC" ${KBUILD_ARGS:-} bzImage ||
	die "kernel build failed"
ln -sf "$O/arch/x86/boot/bzImage" "$O/bzImage"
# The uapi headers of the series, for the selftests (KHDR_INCLUDES).
make -s -C "$TREE" O="$O" headers >/dev/null || die "make headers failed"
