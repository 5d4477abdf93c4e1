// SPDX-License-Identifier: GPL-2.0
/*
 * The verifier must refuse this: the request kfuncs are for request
 * programs only, not for the filters of backed nodes.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

extern int bpf_fuse_req_in_dynptr(struct fuse_bpf_request *req, __u32 i,
				  struct bpf_dynptr *ptr) __ksym;

SEC("struct_ops/kfunc_getattr")
int BPF_PROG(kfunc_getattr, const struct fuse_bpf_meta *meta,
	     struct fuse_getattr_in *in)
{
	struct bpf_dynptr ptr;

	return bpf_fuse_req_in_dynptr((struct fuse_bpf_request *)meta, 0, &ptr);
}

SEC(".struct_ops.link")
struct fuse_bpf_prefilters bad_req_kfunc = {
	.getattr = (void *)kfunc_getattr,
};

char _license[] SEC("license") = "GPL";
