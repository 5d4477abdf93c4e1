// SPDX-License-Identifier: GPL-2.0
/* The verifier must refuse this: a held backing is never released. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

extern struct fuse_backing *
bpf_fuse_backing_acquire(struct fuse_bpf_request *req, __u32 id) __ksym;

SEC("struct_ops/leak_request")
int BPF_PROG(leak_request, struct fuse_bpf_request *req)
{
	struct fuse_backing *fb = bpf_fuse_backing_acquire(req, 1);

	return fb ? FUSE_BPF_REQ_SEND : FUSE_BPF_REQ_SEND;
}

SEC(".struct_ops.link")
struct fuse_bpf_request_ops bad_leak = {
	.request = (void *)leak_request,
};

char _license[] SEC("license") = "GPL";
