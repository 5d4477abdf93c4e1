// SPDX-License-Identifier: GPL-2.0
/* The verifier must refuse this: a postfilter writes an in-argument. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

SEC("struct_ops/bad_access")
int BPF_PROG(bad_access, const struct fuse_bpf_meta *meta,
	     struct fuse_access_in *in)
{
	in->mask = 0;
	return 0;
}

SEC(".struct_ops.link")
struct fuse_bpf_postfilters bad = {
	.access = (void *)bad_access,
};

char _license[] SEC("license") = "GPL";
