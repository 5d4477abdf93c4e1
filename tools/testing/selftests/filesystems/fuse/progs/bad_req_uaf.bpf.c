// SPDX-License-Identifier: GPL-2.0
/* The verifier must refuse this: a backing used after its release. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

extern struct fuse_backing *
bpf_fuse_backing_acquire(struct fuse_bpf_request *req, __u32 id) __ksym;
extern void bpf_fuse_backing_release(struct fuse_backing *fb) __ksym;
extern int bpf_fuse_backing_getattr(struct fuse_bpf_request *req,
				    struct fuse_backing *fb, void *attr,
				    __u32 attr__sz) __ksym;

SEC("struct_ops.s/uaf_request")
int BPF_PROG(uaf_request, struct fuse_bpf_request *req)
{
	struct fuse_backing *fb = bpf_fuse_backing_acquire(req, 1);
	struct fuse_attr attr;

	if (!fb)
		return FUSE_BPF_REQ_SEND;
	bpf_fuse_backing_release(fb);
	return bpf_fuse_backing_getattr(req, fb, &attr, sizeof(attr));
}

SEC(".struct_ops.link")
struct fuse_bpf_request_ops bad_uaf = {
	.request = (void *)uaf_request,
};

char _license[] SEC("license") = "GPL";
