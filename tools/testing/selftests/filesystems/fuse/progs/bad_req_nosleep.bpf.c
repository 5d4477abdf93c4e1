// SPDX-License-Identifier: GPL-2.0
/*
 * The verifier must refuse this: a sleepable kfunc called from a request
 * callback that is not sleepable (SEC("struct_ops/") and not
 * SEC("struct_ops.s/")).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

extern struct fuse_backing *
bpf_fuse_backing_acquire(struct fuse_bpf_request *req, __u32 id) __ksym;
extern void bpf_fuse_backing_release(struct fuse_backing *fb) __ksym;
extern int bpf_fuse_backing_getattr(struct fuse_bpf_request *req,
				    struct fuse_backing *fb, void *attr,
				    __u32 attr__sz) __ksym;

SEC("struct_ops/nosleep_request")
int BPF_PROG(nosleep_request, struct fuse_bpf_request *req)
{
	struct fuse_backing *fb = bpf_fuse_backing_acquire(req, 1);
	struct fuse_attr attr;
	int err;

	if (!fb)
		return FUSE_BPF_REQ_SEND;
	err = bpf_fuse_backing_getattr(req, fb, &attr, sizeof(attr));
	bpf_fuse_backing_release(fb);
	return err;
}

SEC(".struct_ops.link")
struct fuse_bpf_request_ops bad_nosleep = {
	.request = (void *)nosleep_request,
};

char _license[] SEC("license") = "GPL";
