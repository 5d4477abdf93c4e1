# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash disable=SC2154 # O and B: the caller's
# The mounts of the guest profilers (profile-guest.sh, insnprof-guest.sh).
# Sourced, never run; the caller sets O (the folder with fsbench,
# benchfs and trivial.bpf.o) and B (a directory for the tmpfs).

# A tmpfs at $B, and in it the configurations of CONFIGS (the caller's
# array): native ($B/native), overlayfs ($B/mnt/ovl) and the FUSE ones in
# $B/mnt/C, backed by $B/C.back: pt (6.12 passthrough, benchfs as the
# daemon), fbnd (fuse-bpf, no daemon), fbndc (no daemon, with
# backing_timeout=1000), fbd (benchfs as the daemon), fbtriv (benchfs
# and a trivial program), and rqnobpf, rqbpf and rqsend (the classic
# daemon samples/fuse/fuse_bpf_reqcache, timeouts 0, without its request
# program, with it, and with a program that answers nothing, --send-all;
# $O/fuse_bpf_reqcache); and the hide policy of bench/hide-bench.sh:
# mhide (samples/fuse/fuse_bpf_mirror --hide=secret, $O/fuse_bpf_mirror:
# each workload's directory is a top-level entry, a backed subtree with
# the policy's filters), rqhide and rqhidenobpf (fuse_bpf_reqcache
# --hide=secret, with and without its program), whose workloads get
# $(prof_hidden C) hidden files. Only those asked for are
# mounted, so that a kernel without fuse-bpf profiles the others.
prof_mount() {
	local c
	mkdir -p "$B"
	mount -t tmpfs -o size=1g tmpfs "$B"
	mkdir -p "$B/native" "$B/mnt"
	for c in "${CONFIGS[@]}"; do
		[ "$c" = native ] && continue
		mkdir -p "$B/mnt/$c" "$B/$c.back"
		case "$c" in
		ovl)
			mkdir -p "$B/ovl.lower" "$B/ovl.upper" "$B/ovl.work"
			mount -t overlay overlay \
				-o "lowerdir=$B/ovl.lower,upperdir=$B/ovl.upper,workdir=$B/ovl.work" \
				"$B/mnt/ovl" ;;
		fbnd | fbndc)
			local opt=no_daemon,root_dir=3
			[ "$c" = fbndc ] && opt+=,backing_timeout=1000
			exec 3<"$B/$c.back"
			mount -i -t fuse -o "$opt" fuse-bpf "$B/mnt/$c"
			exec 3<&- ;;
		pt | fbd)
			local kind=fb
			[ "$c" = pt ] && kind=pt
			"$O/benchfs" mount "$kind" "$B/$c.back" "$B/mnt/$c" \
				"$B/$c.counts" >/dev/null ;;
		fbtriv)
			"$O/benchfs" mount fb "$B/fbtriv.back" "$B/mnt/fbtriv" \
				"$B/fbtriv.counts" "$O/trivial.bpf.o" trivial_pre \
				trivial_post >/dev/null ;;
		mhide | rqhide | rqhidenobpf)
			local d=$O/fuse_bpf_reqcache o=--hide=secret
			[ "$c" = mhide ] && d=$O/fuse_bpf_mirror
			if [ "$c" = rqhidenobpf ]; then
				"$d" "$o" --no-bpf "$B/$c.back" "$B/mnt/$c" &
			else
				"$d" "$o" "$B/$c.back" "$B/mnt/$c" &
			fi
			until grep -q " $B/mnt/$c fuse" /proc/self/mounts; do
				sleep 0.05
			done ;;
		rqnobpf | rqbpf | rqsend)
			local opt=--no-bpf
			[ "$c" = rqbpf ] && opt=--timeout=0
			[ "$c" = rqsend ] && opt=--send-all
			"$O/fuse_bpf_reqcache" "$opt" "$B/$c.back" "$B/mnt/$c" &
			until grep -q " $B/mnt/$c fuse" /proc/self/mounts; do
				sleep 0.05
			done ;;
		*)
			echo "unknown configuration $c" >&2
			return 1 ;;
		esac
	done
}

# prof_hidden C: the hidden files fsbench makes for configuration C
# (FSBENCH_HIDDEN): 10 where a --hide policy hides them, else none
prof_hidden() {
	case "$1" in
	mhide | rqhide | rqhidenobpf) echo 10 ;;
	*) echo 0 ;;
	esac
}

prof_umount() {
	local c
	for c in "${CONFIGS[@]}"; do
		[ "$c" = native ] || umount "$B/mnt/$c"
	done
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
