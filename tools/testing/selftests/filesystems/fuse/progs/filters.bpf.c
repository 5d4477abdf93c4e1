// SPDX-License-Identifier: GPL-2.0
/*
 * fuse-bpf filters for filter_test.c. Each struct_ops map is one policy;
 * a test attaches the ones it needs.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "filters.h"

#define EROFS	30
#define ENOENT	2
#define EPERM	1
#define ENOTEMPTY 39
#define O_ACCMODE 3

extern int bpf_fuse_buf_dynptr(struct fuse_bpf_rdonly_buf *buf,
			       struct bpf_dynptr *ptr) __ksym;
extern int bpf_fuse_buf_rw_dynptr(struct fuse_bpf_buf *buf, __u64 size,
				  struct bpf_dynptr *ptr) __ksym;

__u32 getattr_calls;
__u32 lookup_calls;
int last_post_error;

/* Does the name start with @prefix (@len bytes, no NUL)? */
static __always_inline bool name_starts(struct fuse_bpf_rdonly_buf *name,
					const char *prefix, __u32 len)
{
	struct bpf_dynptr ptr;
	char buf[16] = {};
	__u32 i;

	if (len > sizeof(buf) || bpf_fuse_buf_dynptr(name, &ptr))
		return false;
	if (bpf_dynptr_read(buf, len, &ptr, 0, 0))
		return false;
	for (i = 0; i < len && i < sizeof(buf); i++)
		if (buf[i] != prefix[i])
			return false;
	return true;
}

/* hide: names starting with "secret" do not exist */
SEC("struct_ops/hide_lookup")
int BPF_PROG(hide_lookup, const struct fuse_bpf_meta *meta,
	     struct fuse_bpf_buf *name)
{
	lookup_calls++;
	if (name_starts(&name->ro, "secret", 6))
		return -ENOENT;
	return FUSE_BPF_CONTINUE;
}

SEC(".struct_ops.link")
struct fuse_bpf_prefilters hide = {
	.lookup = (void *)hide_lookup,
};

/* readonly: every operation that would change the tree gets -EROFS */
SEC("struct_ops/ro_open")
int BPF_PROG(ro_open, const struct fuse_bpf_meta *meta,
	     struct fuse_open_in *in)
{
	return (in->flags & O_ACCMODE) ? -EROFS : FUSE_BPF_CONTINUE;
}

SEC("struct_ops/ro_setattr")
int BPF_PROG(ro_setattr, const struct fuse_bpf_meta *meta,
	     struct fuse_setattr_in *in)
{
	return -EROFS;
}

/* libbpf wants one program per member */
#define RO_NAME(op)							\
SEC("struct_ops/ro_" #op)						\
int BPF_PROG(ro_##op, const struct fuse_bpf_meta *meta,			\
	     struct fuse_bpf_buf *name)					\
{									\
	return -EROFS;							\
}

RO_NAME(unlink)
RO_NAME(rmdir)
RO_NAME(removexattr)

SEC("struct_ops/ro_mkdir")
int BPF_PROG(ro_mkdir, const struct fuse_bpf_meta *meta,
	     struct fuse_mkdir_in *in, struct fuse_bpf_buf *name)
{
	return -EROFS;
}

SEC("struct_ops/ro_mknod")
int BPF_PROG(ro_mknod, const struct fuse_bpf_meta *meta,
	     struct fuse_mknod_in *in, struct fuse_bpf_buf *name)
{
	return -EROFS;
}

SEC("struct_ops/ro_rename")
int BPF_PROG(ro_rename, const struct fuse_bpf_meta *meta,
	     struct fuse_rename2_in *in, struct fuse_bpf_buf *oldname,
	     struct fuse_bpf_buf *newname)
{
	return -EROFS;
}

SEC("struct_ops/ro_symlink")
int BPF_PROG(ro_symlink, const struct fuse_bpf_meta *meta,
	     struct fuse_bpf_buf *name, struct fuse_bpf_buf *target)
{
	return -EROFS;
}

SEC("struct_ops/ro_setxattr")
int BPF_PROG(ro_setxattr, const struct fuse_bpf_meta *meta,
	     struct fuse_setxattr_in *in, struct fuse_bpf_buf *name,
	     struct fuse_bpf_buf *value)
{
	return -EROFS;
}

SEC(".struct_ops.link")
struct fuse_bpf_prefilters readonly = {
	.open = (void *)ro_open,
	.setattr = (void *)ro_setattr,
	.unlink = (void *)ro_unlink,
	.rmdir = (void *)ro_rmdir,
	.removexattr = (void *)ro_removexattr,
	.mkdir = (void *)ro_mkdir,
	.mknod = (void *)ro_mknod,
	.rename = (void *)ro_rename,
	.symlink = (void *)ro_symlink,
	.setxattr = (void *)ro_setxattr,
};

/* redirect: "alias" is served by the backing "target" */
SEC("struct_ops/redirect_lookup")
int BPF_PROG(redirect_lookup, const struct fuse_bpf_meta *meta,
	     struct fuse_bpf_buf *name)
{
	struct bpf_dynptr ptr;

	if (name->ro.size != 5 || !name_starts(&name->ro, "alias", 5))
		return FUSE_BPF_CONTINUE;
	if (bpf_fuse_buf_rw_dynptr(name, 6, &ptr))
		return -EPERM;
	bpf_dynptr_write(&ptr, 0, "target", 6, 0);
	return FUSE_BPF_CONTINUE;
}

SEC(".struct_ops.link")
struct fuse_bpf_prefilters redirect = {
	.lookup = (void *)redirect_lookup,
};

/* post: getattr and unlink go through postfilters */
SEC("struct_ops/post_getattr_pre")
int BPF_PROG(post_getattr_pre, const struct fuse_bpf_meta *meta,
	     struct fuse_getattr_in *in)
{
	getattr_calls++;
	return FUSE_BPF_POSTFILTER;
}

SEC("struct_ops/post_rmdir_pre")
int BPF_PROG(post_rmdir_pre, const struct fuse_bpf_meta *meta,
	     struct fuse_bpf_buf *name)
{
	return FUSE_BPF_POSTFILTER;
}

SEC("struct_ops/post_statfs_pre")
int BPF_PROG(post_statfs_pre, const struct fuse_bpf_meta *meta)
{
	return FUSE_BPF_POSTFILTER;
}

SEC(".struct_ops.link")
struct fuse_bpf_prefilters post_pre = {
	.getattr = (void *)post_getattr_pre,
	.rmdir = (void *)post_rmdir_pre,
	.statfs = (void *)post_statfs_pre,
};

SEC("struct_ops/post_getattr")
int BPF_PROG(post_getattr, const struct fuse_bpf_meta *meta,
	     const struct fuse_getattr_in *in, struct fuse_attr_out *out)
{
	out->attr.size = FILTERS_FAKE_SIZE;
	out->attr.uid = FILTERS_FAKE_UID;
	return FUSE_BPF_CONTINUE;
}

/* Removing a non-empty directory fails with EPERM, not ENOTEMPTY. */
SEC("struct_ops/post_rmdir")
int BPF_PROG(post_rmdir, const struct fuse_bpf_meta *meta,
	     struct fuse_bpf_rdonly_buf *name)
{
	last_post_error = meta->error;
	return meta->error == -ENOTEMPTY ? -EPERM : FUSE_BPF_CONTINUE;
}

SEC("struct_ops/post_statfs")
int BPF_PROG(post_statfs, const struct fuse_bpf_meta *meta,
	     struct fuse_statfs_out *out)
{
	out->st.namelen = FILTERS_FAKE_NAMELEN;
	return FUSE_BPF_CONTINUE;
}

SEC(".struct_ops.link")
struct fuse_bpf_postfilters post = {
	.getattr = (void *)post_getattr,
	.rmdir = (void *)post_rmdir,
	.statfs = (void *)post_statfs,
};

/* garbage: a return value that is not one */
SEC("struct_ops/garbage_getattr")
int BPF_PROG(garbage_getattr, const struct fuse_bpf_meta *meta,
	     struct fuse_getattr_in *in)
{
	/* not on the root, which the mount itself needs */
	return meta->nodeid == 1 ? FUSE_BPF_CONTINUE : FILTERS_GARBAGE;
}

SEC(".struct_ops.link")
struct fuse_bpf_prefilters garbage = {
	.getattr = (void *)garbage_getattr,
};

/* user: getattr goes to the daemon, lookups of "ask*" to its prefilter,
 * rmdir to its postfilter
 */
SEC("struct_ops/user_getattr")
int BPF_PROG(user_getattr, const struct fuse_bpf_meta *meta,
	     struct fuse_getattr_in *in)
{
	/* only the root: the daemon never saw the nodes below */
	return meta->nodeid == 1 ? FUSE_BPF_USER : FUSE_BPF_CONTINUE;
}

SEC("struct_ops/user_lookup")
int BPF_PROG(user_lookup, const struct fuse_bpf_meta *meta,
	     struct fuse_bpf_buf *name)
{
	return name_starts(&name->ro, "ask", 3) ? FUSE_BPF_USER_PREFILTER :
						   FUSE_BPF_CONTINUE;
}

SEC("struct_ops/user_rmdir")
int BPF_PROG(user_rmdir, const struct fuse_bpf_meta *meta,
	     struct fuse_bpf_buf *name)
{
	return FUSE_BPF_USER_POSTFILTER;
}

SEC(".struct_ops.link")
struct fuse_bpf_prefilters user = {
	.getattr = (void *)user_getattr,
	.lookup = (void *)user_lookup,
	.rmdir = (void *)user_rmdir,
};

/* count: every getattr continues, counted */
SEC("struct_ops/count_getattr")
int BPF_PROG(count_getattr, const struct fuse_bpf_meta *meta,
	     struct fuse_getattr_in *in)
{
	getattr_calls++;
	return FUSE_BPF_CONTINUE;
}

SEC(".struct_ops.link")
struct fuse_bpf_prefilters count = {
	.getattr = (void *)count_getattr,
};

char _license[] SEC("license") = "GPL";
