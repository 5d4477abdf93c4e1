// SPDX-License-Identifier: GPL-2.0
/*
 * The verifier must refuse this: the fuse-bpf kfuncs are for fuse
 * filters only, not for other program types.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

extern int bpf_fuse_buf_dynptr(struct fuse_bpf_rdonly_buf *buf,
			       struct bpf_dynptr *ptr) __ksym;

SEC("syscall")
int not_a_filter(void *ctx)
{
	struct fuse_bpf_rdonly_buf buf = {};
	struct bpf_dynptr ptr;

	return bpf_fuse_buf_dynptr(&buf, &ptr);
}

char _license[] SEC("license") = "GPL";
