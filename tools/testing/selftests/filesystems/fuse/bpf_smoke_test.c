// SPDX-License-Identifier: GPL-2.0
/*
 * BPF smoke test: load the skeleton of progs/smoke.bpf.c and run its
 * syscall program with BPF_PROG_TEST_RUN.
 */
#include <linux/types.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "../../kselftest_harness.h"
#include "progs/smoke.h"
#include "smoke.skel.h"

FIXTURE(smoke) {
	struct smoke *skel;
};

FIXTURE_SETUP(smoke)
{
	self->skel = smoke__open_and_load();
	ASSERT_NE(NULL, self->skel) TH_LOG("cannot load progs/smoke.bpf.o");
}

FIXTURE_TEARDOWN(smoke)
{
	smoke__destroy(self->skel);
}

TEST_F(smoke, syscall_prog)
{
	struct smoke_ctx ctx = { .a = 6, .b = 7 };
	struct bpf_test_run_opts opts = {
		.sz = sizeof(opts),
		.ctx_in = &ctx,
		.ctx_size_in = sizeof(ctx),
	};
	int fd = bpf_program__fd(self->skel->progs.smoke);

	ASSERT_EQ(0, bpf_prog_test_run_opts(fd, &opts));
	EXPECT_EQ(13, opts.retval);
	EXPECT_EQ(42 + SMOKE_MAGIC, self->skel->bss->result);
	EXPECT_LT(0, self->skel->bss->task_size);
	EXPECT_EQ(1, self->skel->bss->calls);

	ctx.a = 1000;
	ASSERT_EQ(0, bpf_prog_test_run_opts(fd, &opts));
	EXPECT_EQ(1007, opts.retval);
	EXPECT_EQ(7000 + SMOKE_MAGIC, self->skel->bss->result);
	EXPECT_EQ(2, self->skel->bss->calls);
}

TEST_HARNESS_MAIN
