// SPDX-License-Identifier: GPL-2.0
/*
 * The verifier must refuse this: a prefilter writes a field of its
 * in-argument that the operation does not use (the caller's buffer size
 * of a getxattr, which the kernel keeps to itself).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

SEC("struct_ops/bad_getxattr")
int BPF_PROG(bad_getxattr, const struct fuse_bpf_meta *meta,
	     struct fuse_getxattr_in *in, struct fuse_bpf_buf *name)
{
	in->size = 1 << 20;
	return 0;
}

SEC(".struct_ops.link")
struct fuse_bpf_prefilters bad = {
	.getxattr = (void *)bad_getxattr,
};

char _license[] SEC("license") = "GPL";
