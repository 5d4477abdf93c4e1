/* SPDX-License-Identifier: GPL-2.0 */
/* Shared by progs/smoke.bpf.c and bpf_smoke_test.c. */
#ifndef __SMOKE_H
#define __SMOKE_H

/* The context passed to the syscall program by BPF_PROG_TEST_RUN. */
struct smoke_ctx {
	__u64 a;
	__u64 b;
};

#define SMOKE_MAGIC	0xf5eb9f00ULL

#endif /* __SMOKE_H */
