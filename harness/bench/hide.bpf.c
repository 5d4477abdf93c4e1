// SPDX-License-Identifier: GPL-2.0
/*
 * The "realistic" fuse-bpf filter of the benchmark: names starting with
 * "secret" do not exist. The lookup prefilter fails them with -ENOENT;
 * the readdir prefilter asks for the postfilter, which removes them from
 * the struct fuse_dirent records read from the backing directory (built
 * only when the kernel's readdir postfilter has the dirents argument).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#define ENOENT	2

extern int bpf_fuse_buf_dynptr(struct fuse_bpf_rdonly_buf *buf,
			       struct bpf_dynptr *ptr) __ksym;

static __always_inline bool is_secret(const char *s)
{
	return s[0] == 's' && s[1] == 'e' && s[2] == 'c' && s[3] == 'r' &&
	       s[4] == 'e' && s[5] == 't';
}

SEC("struct_ops/hide_lookup")
int BPF_PROG(hide_lookup, const struct fuse_bpf_meta *meta,
	     struct fuse_bpf_buf *name)
{
	struct bpf_dynptr ptr;
	char buf[6];

	if (name->ro.size < sizeof(buf) ||
	    bpf_fuse_buf_dynptr(&name->ro, &ptr) ||
	    bpf_dynptr_read(buf, sizeof(buf), &ptr, 0, 0))
		return FUSE_BPF_CONTINUE;
	return is_secret(buf) ? -ENOENT : FUSE_BPF_CONTINUE;
}

#ifdef HAVE_READDIR_POST
/* The selftests' helper, which the sample daemon's filter uses too. */
#include "../../tools/testing/selftests/filesystems/fuse/progs/fuse_dirents.bpf.h"

SEC("struct_ops/hide_readdir_pre")
int BPF_PROG(hide_readdir_pre, const struct fuse_bpf_meta *meta,
	     struct fuse_bpf_readdir_in *in)
{
	return FUSE_BPF_POSTFILTER;
}

static __always_inline bool secret_dirent(const struct fuse_dirent *de)
{
	return de->namelen >= 6 && is_secret(de->name);
}

/* Leave "secret*" out of a listing. */
SEC("struct_ops/hide_readdir")
int BPF_PROG(hide_readdir, const struct fuse_bpf_meta *meta,
	     const struct fuse_read_in *in, struct fuse_bpf_buf *dirents)
{
	return fuse_dirents_remove(dirents, secret_dirent) ?:
	       FUSE_BPF_CONTINUE;
}
#endif

/* fuse_fd and ops_id are set by benchfs before loading (bind_map()). */
SEC(".struct_ops.link")
struct fuse_bpf_prefilters hide_pre = {
	.lookup = (void *)hide_lookup,
#ifdef HAVE_READDIR_POST
	.readdir = (void *)hide_readdir_pre,
#endif
};

#ifdef HAVE_READDIR_POST
SEC(".struct_ops.link")
struct fuse_bpf_postfilters hide_post = {
	.readdir = (void *)hide_readdir,
};
#endif

char _license[] SEC("license") = "GPL";
