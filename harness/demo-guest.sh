#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Runs inside the VM (see demo.sh): show the kernel and fuse at work.
set -euo pipefail

step() { printf '\n=== %s\n' "$*"; }

step "kernel"
uname -a
grep -w fuse /proc/filesystems
[ -e /sys/kernel/btf/vmlinux ] && echo "BTF: /sys/kernel/btf/vmlinux present"

step "classic FUSE: libfuse passthrough_ll over a tmpfs directory"
mkdir -p /tmp/src/dir /tmp/mnt
echo "hello from the backing directory" >/tmp/src/hello.txt
"$FBT_DEMO/passthrough_ll" -o source=/tmp/src /tmp/mnt
grep ' /tmp/mnt ' /proc/mounts
ls -l /tmp/mnt
cat /tmp/mnt/hello.txt
echo "written through the mount" >/tmp/mnt/new.txt
echo "backing directory now holds: $(ls /tmp/src | tr '\n' ' ')"
cat /tmp/src/new.txt
conn=$(stat -c %d /tmp/mnt)
echo "fusectl connection $conn: $(cat /sys/fs/fuse/connections/$conn/waiting) requests waiting"
umount /tmp/mnt

step "fuse-bpf: a no-daemon mount of a tmpfs directory (CONFIG_FUSE_BPF)"
mkdir -p /tmp/backing/docs /tmp/fb
echo "served by the kernel from the backing file" >/tmp/backing/docs/readme
exec 3</tmp/backing
mount -i -t fuse -o no_daemon,root_dir=3 fuse-bpf /tmp/fb
exec 3<&-
grep ' /tmp/fb ' /proc/mounts
ls -l /tmp/fb /tmp/fb/docs
cat /tmp/fb/docs/readme
echo "created through fuse-bpf" >/tmp/fb/docs/new
mkdir /tmp/fb/dir && mv /tmp/fb/docs/new /tmp/fb/dir/moved
echo "backing tree now:"
find /tmp/backing | sort
echo "st_ino on the mount and on the backing: $(stat -c %i /tmp/fb/dir/moved) $(stat -c %i /tmp/backing/dir/moved)"
echo "statfs type: $(stat -f -c %t /tmp/fb) (65735546 is FUSE_SUPER_MAGIC)"
umount /tmp/fb

step "fuse kselftests installed"
ls "$KOUT/kselftest_install/filesystems/fuse" 2>/dev/null || echo "(none built)"
echo
echo "demo finished"
