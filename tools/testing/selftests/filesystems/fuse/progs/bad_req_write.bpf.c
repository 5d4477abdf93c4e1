// SPDX-License-Identifier: GPL-2.0
/*
 * The verifier must refuse this: a request program may not write the
 * request; replies go through bpf_fuse_req_out_dynptr().
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

SEC("struct_ops/write_request")
int BPF_PROG(write_request, struct fuse_bpf_request *req)
{
	req->uid = 0;
	return FUSE_BPF_REQ_SEND;
}

SEC(".struct_ops.link")
struct fuse_bpf_request_ops bad_write = {
	.request = (void *)write_request,
};

char _license[] SEC("license") = "GPL";
