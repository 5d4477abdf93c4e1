# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash disable=SC2154 # O and B: the caller's
# The mounts of the guest profilers (profile-guest.sh, insnprof-guest.sh).
# Sourced, never run; the caller sets O (the folder with fsbench,
# benchfs and trivial.bpf.o) and B (a directory for the tmpfs).

# A tmpfs at $B, and in it every configuration the profilers know:
# native ($B/native), overlayfs ($B/mnt/ovl) and fuse-bpf in $B/mnt/C,
# backed by $B/C.back: fbnd (no daemon), fbndc (no daemon, with
# backing_timeout=1000), fbd (benchfs as the daemon) and fbtriv (benchfs
# and a trivial program).
prof_mount() {
	local c
	mkdir -p "$B"
	mount -t tmpfs -o size=1g tmpfs "$B"
	mkdir -p "$B/native" "$B/ovl.lower" "$B/ovl.upper" "$B/ovl.work" "$B/mnt"
	for c in ovl fbnd fbndc fbd fbtriv; do mkdir -p "$B/mnt/$c" "$B/$c.back"; done
	mount -t overlay overlay \
		-o "lowerdir=$B/ovl.lower,upperdir=$B/ovl.upper,workdir=$B/ovl.work" "$B/mnt/ovl"
	exec 3<"$B/fbnd.back"
	mount -i -t fuse -o no_daemon,root_dir=3 fuse-bpf "$B/mnt/fbnd"
	exec 3<&-
	exec 3<"$B/fbndc.back"
	mount -i -t fuse -o no_daemon,root_dir=3,backing_timeout=1000 fuse-bpf "$B/mnt/fbndc"
	exec 3<&-
	"$O/benchfs" mount fb "$B/fbd.back" "$B/mnt/fbd" "$B/fbd.counts" >/dev/null
	"$O/benchfs" mount fb "$B/fbtriv.back" "$B/mnt/fbtriv" "$B/fbtriv.counts" \
		"$O/trivial.bpf.o" trivial_pre trivial_post >/dev/null
}

prof_umount() {
	umount "$B/mnt/fbtriv" "$B/mnt/fbd" "$B/mnt/fbndc" "$B/mnt/fbnd" "$B/mnt/ovl"
	umount "$B"
}

# A fresh run directory $d (through the configuration) and $s (where its
# files are made).
fresh() {
	local c=$1 w=$2
	case "$c" in
	native) d=$B/native/$w s=$d ;;
	ovl) d=$B/mnt/ovl/$w s=$d ;;
	*) d=$B/mnt/$c/$w s=$B/$c.back/$w ;;
	esac
	rm -rf "$s"
	mkdir "$s"
	sync
	echo 3 >/proc/sys/vm/drop_caches
	stat "$d" >/dev/null
}
