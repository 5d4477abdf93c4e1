// SPDX-License-Identifier: GPL-2.0
/*
 * Proves the vmlinux.h -> .bpf.o -> skeleton pipeline: a syscall program
 * run with BPF_PROG_TEST_RUN computes from its context into globals.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

#include "smoke.h"

__u64 result;
__u64 task_size;
__u32 calls;

SEC("syscall")
int smoke(struct smoke_ctx *ctx)
{
	result = ctx->a * ctx->b + SMOKE_MAGIC;
	/* a CO-RE relocation against the kernel's BTF */
	task_size = bpf_core_type_size(struct task_struct);
	calls++;
	return ctx->a + ctx->b;
}

char _license[] SEC("license") = "GPL";
