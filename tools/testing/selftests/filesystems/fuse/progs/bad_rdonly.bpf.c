// SPDX-License-Identifier: GPL-2.0
/* The verifier must refuse this: a postfilter asks to write a name. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

extern int bpf_fuse_buf_rw_dynptr(struct fuse_bpf_buf *buf, __u64 size,
				  struct bpf_dynptr *ptr) __ksym;

SEC("struct_ops/bad_unlink")
int BPF_PROG(bad_unlink, const struct fuse_bpf_meta *meta,
	     struct fuse_bpf_rdonly_buf *name)
{
	struct bpf_dynptr ptr;

	/* name is a struct fuse_bpf_rdonly_buf: not writable */
	if (!bpf_fuse_buf_rw_dynptr((struct fuse_bpf_buf *)name, 1, &ptr))
		bpf_dynptr_write(&ptr, 0, "x", 1, 0);
	return 0;
}

SEC(".struct_ops.link")
struct fuse_bpf_postfilters bad = {
	.unlink = (void *)bad_unlink,
};

char _license[] SEC("license") = "GPL";
