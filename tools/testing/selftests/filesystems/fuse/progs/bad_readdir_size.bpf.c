// SPDX-License-Identifier: GPL-2.0
/*
 * The verifier must refuse this: a READDIR prefilter writes the size of
 * its struct fuse_bpf_readdir_in, which READDIR does not honour (READ,
 * whose struct fuse_read_in has the same layout, does).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

SEC("struct_ops/bad_readdir")
int BPF_PROG(bad_readdir, const struct fuse_bpf_meta *meta,
	     struct fuse_bpf_readdir_in *in)
{
	in->in.size = 1;
	return 0;
}

SEC(".struct_ops.link")
struct fuse_bpf_prefilters bad = {
	.readdir = (void *)bad_readdir,
};

char _license[] SEC("license") = "GPL";
