// SPDX-License-Identifier: GPL-2.0
/*
 * A kfunc other than the verifier's own dynptr constructors that
 * initializes a dynptr (a "struct bpf_dynptr *ptr__uninit" argument)
 * makes a local dynptr: readable at once, and holding no reference.
 */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>
#include "bpf_misc.h"
#include "bpf_kfuncs.h"
#include "../bpf_testmod/bpf_testmod_kfunc.h"

SEC("tc")
__success __retval(0)
int kfunc_dynptr_uninit_read(struct __sk_buff *skb)
{
	struct bpf_dynptr ptr;
	char buf[8] = {};
	char *p;

	if (bpf_kfunc_dynptr_init_test(&ptr))
		return 1;
	if (bpf_dynptr_size(&ptr) != sizeof(buf) || !bpf_dynptr_is_rdonly(&ptr))
		return 2;
	if (bpf_dynptr_read(buf, sizeof(buf), &ptr, 0, 0))
		return 3;
	if (buf[0] != 't' || buf[6] != 'd' || buf[7])
		return 4;
	p = bpf_dynptr_slice(&ptr, 0, NULL, 4);
	if (!p || p[3] != 't')
		return 5;
	/* read-only, as the kfunc made it */
	if (!bpf_dynptr_write(&ptr, 0, buf, 1, 0))
		return 6;
	return 0;
}

SEC("tc")
__failure __msg("arg 1 is an unacquired reference")
int kfunc_dynptr_uninit_no_ref(struct __sk_buff *skb)
{
	struct bpf_dynptr ptr;

	bpf_kfunc_dynptr_init_test(&ptr);
	/* a local dynptr is not a ring buffer record */
	bpf_ringbuf_discard_dynptr(&ptr, 0);
	return 0;
}

SEC("tc")
__failure __msg("Expected an initialized dynptr as arg #2")
int kfunc_dynptr_uninit_before(struct __sk_buff *skb)
{
	struct bpf_dynptr ptr;
	char buf[1];

	bpf_dynptr_read(buf, sizeof(buf), &ptr, 0, 0);
	bpf_kfunc_dynptr_init_test(&ptr);
	return 0;
}

SEC("tc")
__success __retval(0)
int kfunc_dynptr_uninit_clone(struct __sk_buff *skb)
{
	struct bpf_dynptr ptr, clone;
	char c = 0;

	bpf_kfunc_dynptr_init_test(&ptr);
	if (bpf_dynptr_clone(&ptr, &clone))
		return 1;
	if (bpf_dynptr_read(&c, 1, &clone, 1, 0) || c != 'e')
		return 2;
	return 0;
}

SEC("tc")
__failure __msg("dynptr_view_test cannot initialize a local dynptr: it takes another dynptr")
int kfunc_dynptr_uninit_view(struct __sk_buff *skb)
{
	struct bpf_dynptr ptr, view;

	bpf_kfunc_dynptr_init_test(&ptr);
	/* a view of another dynptr could outlive it */
	bpf_kfunc_dynptr_view_test(&ptr, &view);
	return 0;
}

SEC("tc")
__failure __msg("cannot initialize a local dynptr: an argument holds a reference")
int kfunc_dynptr_uninit_ctx_view(struct __sk_buff *skb)
{
	struct bpf_testmod_ctx *ctx;
	struct bpf_dynptr view;
	int err = 0;

	ctx = bpf_testmod_ctx_create(&err);
	if (!ctx)
		return 0;
	/* a view of an object whose reference the program then drops */
	bpf_kfunc_dynptr_ctx_view_test(ctx, &view);
	bpf_testmod_ctx_release(ctx);
	return 0;
}

char _license[] SEC("license") = "GPL";
