// SPDX-License-Identifier: GPL-2.0
#include <test_progs.h>
#include "kfunc_dynptr_uninit.skel.h"

void test_kfunc_dynptr_uninit(void)
{
	RUN_TESTS(kfunc_dynptr_uninit);
}
