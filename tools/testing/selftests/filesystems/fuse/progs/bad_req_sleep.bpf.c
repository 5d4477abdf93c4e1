// SPDX-License-Identifier: GPL-2.0
/*
 * The verifier must refuse this: only the request callback may sleep,
 * the reply callback runs where it may not.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

SEC("struct_ops.s/sleepy_reply")
int BPF_PROG(sleepy_reply, struct fuse_bpf_request *req)
{
	return FUSE_BPF_REQ_SEND;
}

SEC(".struct_ops.link")
struct fuse_bpf_request_ops bad_sleep = {
	.reply = (void *)sleepy_reply,
};

char _license[] SEC("license") = "GPL";
