// SPDX-License-Identifier: GPL-2.0
/*
 * The "trivial" fuse-bpf filter of the benchmark: every prefilter and
 * every postfilter member (all 33 operations) is set and returns
 * FUSE_BPF_CONTINUE, so the cost measured is that of calling a BPF
 * program per operation. With a read and a write prefilter, reads and
 * writes take the filtered (synchronous) path. libbpf wants one program
 * per struct_ops member.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#define PRE(op)								\
SEC("struct_ops/pre_" #op)						\
int BPF_PROG(pre_##op)							\
{									\
	return FUSE_BPF_CONTINUE;					\
}

#define POST(op)							\
SEC("struct_ops/post_" #op)						\
int BPF_PROG(post_##op)							\
{									\
	return FUSE_BPF_CONTINUE;					\
}

#define OPS(X)								\
	X(lookup) X(getattr) X(setattr) X(access) X(statfs) X(open)	\
	X(opendir) X(flush) X(fsync) X(fsyncdir) X(readdir) X(mknod)	\
	X(mkdir) X(symlink) X(link) X(unlink) X(rmdir) X(rename)	\
	X(readlink) X(tmpfile) X(getxattr) X(listxattr) X(setxattr)	\
	X(removexattr) X(lseek) X(fallocate) X(copy_file_range)	\
	X(read) X(write) X(release) X(releasedir) X(lock) X(ioctl)

OPS(PRE)
OPS(POST)

#define SET_PRE(op)	.op = (void *)pre_##op,
#define SET_POST(op)	.op = (void *)post_##op,

/* fuse_fd and ops_id are set by benchfs before loading (bind_map()). */
SEC(".struct_ops.link")
struct fuse_bpf_prefilters trivial_pre = {
	OPS(SET_PRE)
};

SEC(".struct_ops.link")
struct fuse_bpf_postfilters trivial_post = {
	OPS(SET_POST)
};

char _license[] SEC("license") = "GPL";
