// SPDX-License-Identifier: GPL-2.0
/*
 * fsfuzz.c's filters: a prefilter and a postfilter for every operation,
 * made from the one list of operations (linux/fuse_bpf_ops.h). Each
 * counts its calls and lets the operation through unchanged: with
 * @post_mode the prefilter asks for the postfilter (the whole pipeline,
 * arguments set up for it), else it continues to the backing directly.
 * So a differential run with them attached must see exactly what it sees
 * without them.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

enum {
#define FUSE_BPF_OP(op, pre, pre_args, post, post_args) FUZZ_OP_##op,
#include "../../../../../../include/linux/fuse_bpf_ops.h"
#undef FUSE_BPF_OP
	FUZZ_NR_OPS,
};

const volatile bool post_mode = true;
__u64 pre_calls[FUZZ_NR_OPS];
__u64 post_calls[FUZZ_NR_OPS];

/* the arguments are not needed: no BPF_PROG() */
#define FUSE_BPF_OP(op, pre, pre_args, post, post_args)			\
SEC("struct_ops/pre_" #op)						\
int pre_##op(unsigned long long *ctx)					\
{									\
	__sync_fetch_and_add(&pre_calls[FUZZ_OP_##op], 1);		\
	return post_mode ? FUSE_BPF_POSTFILTER : FUSE_BPF_CONTINUE;	\
}									\
									\
SEC("struct_ops/post_" #op)						\
int post_##op(unsigned long long *ctx)					\
{									\
	__sync_fetch_and_add(&post_calls[FUZZ_OP_##op], 1);		\
	return FUSE_BPF_CONTINUE;					\
}
#include "../../../../../../include/linux/fuse_bpf_ops.h"
#undef FUSE_BPF_OP

SEC(".struct_ops.link")
struct fuse_bpf_prefilters pass = {
#define FUSE_BPF_OP(op, pre, pre_args, post, post_args) .op = (void *)pre_##op,
#include "../../../../../../include/linux/fuse_bpf_ops.h"
#undef FUSE_BPF_OP
};

SEC(".struct_ops.link")
struct fuse_bpf_postfilters pass_post = {
#define FUSE_BPF_OP(op, pre, pre_args, post, post_args) .op = (void *)post_##op,
#include "../../../../../../include/linux/fuse_bpf_ops.h"
#undef FUSE_BPF_OP
};

char _license[] SEC("license") = "GPL";
