// SPDX-License-Identifier: GPL-2.0
/* The verifier must refuse this: reading past a dynptr slice. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

extern int bpf_fuse_buf_dynptr(struct fuse_bpf_rdonly_buf *buf,
			       struct bpf_dynptr *ptr) __ksym;
extern void *bpf_dynptr_slice(const struct bpf_dynptr *p, __u32 offset,
			      void *buffer, __u32 buffer__szk) __ksym;

char out;

SEC("struct_ops/bad_lookup")
int BPF_PROG(bad_lookup, const struct fuse_bpf_meta *meta,
	     struct fuse_bpf_buf *name)
{
	struct bpf_dynptr ptr;
	char *p;

	bpf_fuse_buf_dynptr(&name->ro, &ptr);
	p = bpf_dynptr_slice(&ptr, 0, NULL, 4);
	if (p)
		out = p[8];	/* past the 4 bytes of the slice */
	return 0;
}

SEC(".struct_ops.link")
struct fuse_bpf_prefilters bad = {
	.lookup = (void *)bad_lookup,
};

char _license[] SEC("license") = "GPL";
