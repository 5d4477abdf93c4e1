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

step "fuse-bpf with a daemon: samples/fuse/fuse_bpf_mirror (libfuse 3.14 + a BPF policy)"
S=/tmp/src M=/tmp/mirror
mkdir -p $S $M
mount -t tmpfs demo $S
mkdir $S/docs $S/ro $S/private
echo "hello from the source tree" >$S/docs/a
echo "nobody should see this" >$S/docs/secret_b
echo "read-only data" >$S/ro/f
echo "only uid 1000 reads this" >$S/private/f
echo "+ fuse_bpf_mirror --hide=secret --readonly=ro --owner=private:1000 $S $M"
"$FBT_SAMPLE" --hide=secret --readonly=ro --owner=private:1000 $S $M &
mirror=$!
for _ in $(seq 50); do grep -q " $M fuse" /proc/mounts && break; sleep 0.1; done
grep " $M " /proc/mounts
echo "+ ls -a $M $M/docs  (secret_b is hidden by the BPF policy)"
ls -a $M $M/docs
cat $M/docs/a
echo "written through the mount" >$M/docs/n
echo "source now has docs/n: $(cat $S/docs/n)"
echo "+ echo x >$M/ro/f"
echo x >$M/ro/f || true
echo "+ uid 1000 and uid 65534 read $M/private/f"
setpriv --reuid=1000 --regid=1000 --clear-groups cat $M/private/f
setpriv --reuid=65534 --regid=65534 --clear-groups cat $M/private/f || true
echo "+ the daemon's request counters: backed operations never reached it"
grep -E '^(LOOKUP|OPEN|READ|WRITE|CREATE|READDIR|backed_node_requests|bpf:)' $M/.fuse-bpf-status
kill -TERM $mirror
wait $mirror && echo "daemon exited cleanly on SIGTERM"
if grep -q " $M " /proc/mounts; then echo "still mounted"; else echo "mount gone"; fi
umount $S

step "fuse kselftests installed"
ls "$KOUT/kselftest_install/filesystems/fuse" 2>/dev/null || echo "(none built)"
echo
echo "demo finished"
