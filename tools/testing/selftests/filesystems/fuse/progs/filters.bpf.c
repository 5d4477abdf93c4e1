// SPDX-License-Identifier: GPL-2.0
/*
 * fuse-bpf filters for filter_test.c. Each struct_ops map is one policy;
 * a test attaches the ones it needs.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "filters.h"
#include "fuse_dirents.bpf.h"

#define EROFS	30
#define ENOENT	2
#define EPERM	1
#define EIO	5
#define ENOTEMPTY 39
#define EFBIG	27
#define ENOLCK	37
#define EACCES	13
#define O_ACCMODE 3
#define S_IFMT	0170000
#define S_IFREG	0100000
#define F_WRLCK	1
#define FS_IOC_FSSETXATTR 0x401c5820
#define FUSE_LK_FLOCK	(1 << 0)
#define FATTR_MODE	(1 << 0)
#define FATTR_GID	(1 << 2)
#define S_ISGID	02000

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

/* ... and do not show in a listing: the postfilter removes them. */
SEC("struct_ops/hide_readdir_pre")
int BPF_PROG(hide_readdir_pre, const struct fuse_bpf_meta *meta,
	     struct fuse_bpf_readdir_in *in)
{
	return FUSE_BPF_POSTFILTER;
}

SEC(".struct_ops.link")
struct fuse_bpf_prefilters hide = {
	.lookup = (void *)hide_lookup,
	.readdir = (void *)hide_readdir_pre,
};

__u32 readdir_calls;
__u32 readdir_removed;

static __always_inline bool secret_dirent(const struct fuse_dirent *de)
{
	if (de->namelen < 6 || de->name[0] != 's' || de->name[1] != 'e' ||
	    de->name[2] != 'c' || de->name[3] != 'r' || de->name[4] != 'e' ||
	    de->name[5] != 't')
		return false;
	readdir_removed++;
	return true;
}

/* Leave "secret*" out of a listing. */
SEC("struct_ops/hide_readdir")
int BPF_PROG(hide_readdir, const struct fuse_bpf_meta *meta,
	     const struct fuse_read_in *in, struct fuse_bpf_buf *dirents)
{
	readdir_calls++;
	return fuse_dirents_remove(dirents, secret_dirent) ?:
	       FUSE_BPF_CONTINUE;
}

SEC(".struct_ops.link")
struct fuse_bpf_postfilters hide_post = {
	.readdir = (void *)hide_readdir,
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

/* and the xattr "user.alias" is the backing "user.real" */
SEC("struct_ops/redirect_getxattr")
int BPF_PROG(redirect_getxattr, const struct fuse_bpf_meta *meta,
	     struct fuse_getxattr_in *in, struct fuse_bpf_buf *name)
{
	struct bpf_dynptr ptr;

	if (name->ro.size != 10 || !name_starts(&name->ro, "user.alias", 10))
		return FUSE_BPF_CONTINUE;
	if (bpf_fuse_buf_rw_dynptr(name, 9, &ptr))
		return -EPERM;
	bpf_dynptr_write(&ptr, 0, "user.real", 9, 0);
	return FUSE_BPF_CONTINUE;
}

SEC(".struct_ops.link")
struct fuse_bpf_prefilters redirect = {
	.lookup = (void *)redirect_lookup,
	.getxattr = (void *)redirect_getxattr,
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

SEC("struct_ops/post_lookup_pre")
int BPF_PROG(post_lookup_pre, const struct fuse_bpf_meta *meta,
	     struct fuse_bpf_buf *name)
{
	return FUSE_BPF_POSTFILTER;
}

SEC(".struct_ops.link")
struct fuse_bpf_prefilters post_pre = {
	.lookup = (void *)post_lookup_pre,
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

/* Regular files of FILTERS_HIDE_SIZE bytes are not found. */
SEC("struct_ops/post_lookup")
int BPF_PROG(post_lookup, const struct fuse_bpf_meta *meta,
	     struct fuse_bpf_rdonly_buf *name, const struct fuse_entry_out *out)
{
	if (!meta->error && (out->attr.mode & S_IFMT) == S_IFREG &&
	    out->attr.size == FILTERS_HIDE_SIZE)
		return -ENOENT;
	return FUSE_BPF_CONTINUE;
}

SEC(".struct_ops.link")
struct fuse_bpf_postfilters post = {
	.lookup = (void *)post_lookup,
	.getattr = (void *)post_getattr,
	.rmdir = (void *)post_rmdir,
	.statfs = (void *)post_statfs,
};

/*
 * rewrite: postfilters rewriting what the backing returned: a link target
 * "visible" reads "target", the value of user.x reads FILTERS_XATTR_VALUE,
 * and names starting with "user.hidden" are not listed.
 */
SEC("struct_ops/rw_readlink_pre")
int BPF_PROG(rw_readlink_pre, const struct fuse_bpf_meta *meta)
{
	return FUSE_BPF_POSTFILTER;
}

SEC("struct_ops/rw_getxattr_pre")
int BPF_PROG(rw_getxattr_pre, const struct fuse_bpf_meta *meta,
	     struct fuse_getxattr_in *in, struct fuse_bpf_buf *name)
{
	return FUSE_BPF_POSTFILTER;
}

SEC("struct_ops/rw_listxattr_pre")
int BPF_PROG(rw_listxattr_pre, const struct fuse_bpf_meta *meta,
	     struct fuse_getxattr_in *in)
{
	return FUSE_BPF_POSTFILTER;
}

SEC(".struct_ops.link")
struct fuse_bpf_prefilters rewrite_pre = {
	.readlink = (void *)rw_readlink_pre,
	.getxattr = (void *)rw_getxattr_pre,
	.listxattr = (void *)rw_listxattr_pre,
};

SEC("struct_ops/rw_readlink")
int BPF_PROG(rw_readlink, const struct fuse_bpf_meta *meta,
	     struct fuse_bpf_buf *target)
{
	struct bpf_dynptr d;

	if (target->ro.size != 7 || !name_starts(&target->ro, "visible", 7))
		return FUSE_BPF_CONTINUE;
	if (bpf_fuse_buf_rw_dynptr(target, 6, &d) ||
	    bpf_dynptr_write(&d, 0, "target", 6, 0))
		return -EIO;
	return FUSE_BPF_CONTINUE;
}

SEC("struct_ops/rw_getxattr")
int BPF_PROG(rw_getxattr, const struct fuse_bpf_meta *meta,
	     const struct fuse_getxattr_in *in,
	     struct fuse_bpf_rdonly_buf *name, struct fuse_bpf_buf *value)
{
	const char new[] = FILTERS_XATTR_VALUE;
	struct bpf_dynptr d;

	if (meta->error || name->size != 6 || !name_starts(name, "user.x", 6))
		return FUSE_BPF_CONTINUE;
	if (bpf_fuse_buf_rw_dynptr(value, sizeof(new) - 1, &d) ||
	    bpf_dynptr_write(&d, 0, (void *)new, sizeof(new) - 1, 0))
		return -EIO;
	return FUSE_BPF_CONTINUE;
}

#define XLIST_MAX	128
#define HIDDEN		"user.hidden"
#define HIDDEN_LEN	(sizeof(HIDDEN) - 1)

/* Compact the NUL-terminated names in place, leaving out user.hidden*. */
SEC("struct_ops/rw_listxattr")
int BPF_PROG(rw_listxattr, const struct fuse_bpf_meta *meta,
	     const struct fuse_getxattr_in *in, struct fuse_bpf_buf *list)
{
	__u32 size = list->ro.size, start = 0, wr = 0, len;
	struct bpf_dynptr d, shrunk;
	char name[XLIST_MAX];
	char c;
	int i, j;

	if (meta->error || !size)
		return FUSE_BPF_CONTINUE;
	if (size > XLIST_MAX || bpf_fuse_buf_rw_dynptr(list, size, &d))
		return -EIO;
	bpf_for(i, 0, XLIST_MAX) {
		if (i >= size)
			break;
		if (bpf_dynptr_read(&c, 1, &d, i, 0))
			return -EIO;
		if (c)
			continue;
		/* the name [start, i] with its NUL */
		len = i + 1 - start;
		if (len > sizeof(name) || bpf_dynptr_read(name, len, &d, start, 0))
			return -EIO;
		start = i + 1;
		if (len > HIDDEN_LEN) {
			bool hidden = true;

			for (j = 0; j < HIDDEN_LEN; j++)
				if (name[j] != HIDDEN[j])
					hidden = false;
			if (hidden)
				continue;
		}
		if (bpf_dynptr_write(&d, wr, name, len, 0))
			return -EIO;
		wr += len;
	}
	if (bpf_fuse_buf_rw_dynptr(list, wr, &shrunk))
		return -EIO;
	return FUSE_BPF_CONTINUE;
}

SEC(".struct_ops.link")
struct fuse_bpf_postfilters rewrite_post = {
	.readlink = (void *)rw_readlink,
	.getxattr = (void *)rw_getxattr,
	.listxattr = (void *)rw_listxattr,
};

/*
 * rw: reads are cut to FILTERS_READ_CAP bytes a call, and a read at
 * FILTERS_SHORT_OFF is told of one byte less; writes ending past
 * FILTERS_WRITE_LIMIT are cut short at it, or fail with EFBIG at or past
 * it; POSIX write locks fail with ENOLCK; releases are counted.
 */
__u32 read_calls;
__u64 read_bytes;
__u32 release_calls;
__u32 lock_calls;

SEC("struct_ops/rw_read")
int BPF_PROG(rw_read, const struct fuse_bpf_meta *meta,
	     struct fuse_read_in *in)
{
	if (in->size > FILTERS_READ_CAP)
		in->size = FILTERS_READ_CAP;
	return FUSE_BPF_POSTFILTER;
}

SEC("struct_ops/rw_write")
int BPF_PROG(rw_write, const struct fuse_bpf_meta *meta,
	     struct fuse_write_in *in)
{
	if (in->offset >= FILTERS_WRITE_LIMIT)
		return -EFBIG;
	if (in->offset + in->size > FILTERS_WRITE_LIMIT)
		in->size = FILTERS_WRITE_LIMIT - in->offset;
	return FUSE_BPF_CONTINUE;
}

SEC("struct_ops/rw_release")
int BPF_PROG(rw_release, const struct fuse_bpf_meta *meta,
	     struct fuse_release_in *in)
{
	release_calls++;
	return FUSE_BPF_CONTINUE;
}

SEC("struct_ops/rw_lock")
int BPF_PROG(rw_lock, const struct fuse_bpf_meta *meta,
	     struct fuse_lk_in *in)
{
	lock_calls++;
	if (!(in->lk_flags & FUSE_LK_FLOCK) && in->lk.type == F_WRLCK)
		return -ENOLCK;
	return FUSE_BPF_CONTINUE;
}

/* and no file attribute may be set */
SEC("struct_ops/rw_ioctl")
int BPF_PROG(rw_ioctl, const struct fuse_bpf_meta *meta,
	     struct fuse_ioctl_in *in)
{
	return in->cmd == FS_IOC_FSSETXATTR ? -EPERM : FUSE_BPF_CONTINUE;
}

SEC(".struct_ops.link")
struct fuse_bpf_prefilters rw = {
	.read = (void *)rw_read,
	.write = (void *)rw_write,
	.release = (void *)rw_release,
	.lock = (void *)rw_lock,
	.ioctl = (void *)rw_ioctl,
};

SEC("struct_ops/rw_read_post")
int BPF_PROG(rw_read_post, const struct fuse_bpf_meta *meta,
	     const struct fuse_read_in *in, struct fuse_bpf_read_out *out)
{
	read_calls++;
	if (meta->error)
		return FUSE_BPF_CONTINUE;
	read_bytes += out->size;
	if (in->offset == FILTERS_SHORT_OFF && out->size)
		out->size -= 1;
	return FUSE_BPF_CONTINUE;
}

SEC(".struct_ops.link")
struct fuse_bpf_postfilters rw_post = {
	.read = (void *)rw_read_post,
};

/*
 * user_rw: reads of the first page go to the daemon, writes and releases
 * to its postfilter, opens to its prefilter, ioctls to the daemon.
 */
SEC("struct_ops/user_rw_read")
int BPF_PROG(user_rw_read, const struct fuse_bpf_meta *meta,
	     struct fuse_read_in *in)
{
	return in->offset < 4096 ? FUSE_BPF_USER : FUSE_BPF_CONTINUE;
}

SEC("struct_ops/user_rw_write")
int BPF_PROG(user_rw_write, const struct fuse_bpf_meta *meta,
	     struct fuse_write_in *in)
{
	return FUSE_BPF_USER_POSTFILTER;
}

SEC("struct_ops/user_rw_release")
int BPF_PROG(user_rw_release, const struct fuse_bpf_meta *meta,
	     struct fuse_release_in *in)
{
	return FUSE_BPF_USER_POSTFILTER;
}

SEC("struct_ops/user_rw_open")
int BPF_PROG(user_rw_open, const struct fuse_bpf_meta *meta,
	     struct fuse_open_in *in)
{
	return FUSE_BPF_USER_PREFILTER;
}

SEC("struct_ops/user_rw_ioctl")
int BPF_PROG(user_rw_ioctl, const struct fuse_bpf_meta *meta,
	     struct fuse_ioctl_in *in)
{
	return FUSE_BPF_USER;
}

SEC(".struct_ops.link")
struct fuse_bpf_prefilters user_rw = {
	.ioctl = (void *)user_rw_ioctl,
	.read = (void *)user_rw_read,
	.write = (void *)user_rw_write,
	.release = (void *)user_rw_release,
	.open = (void *)user_rw_open,
};

/* garbage: a return value that is not one */
SEC("struct_ops/garbage_getattr")
int BPF_PROG(garbage_getattr, const struct fuse_bpf_meta *meta,
	     struct fuse_getattr_in *in)
{
	/* not on the root, which the mount itself needs */
	return meta->nodeid == 1 ? FUSE_BPF_CONTINUE : FILTERS_GARBAGE;
}

/* errnos no caller may see: -ECHILD and the kernel's -ERESTARTSYS */
SEC("struct_ops/garbage_access")
int BPF_PROG(garbage_access, const struct fuse_bpf_meta *meta,
	     struct fuse_access_in *in)
{
	/* searching a directory but the root */
	if (meta->nodeid == 1 || !(in->mask & 1 /* MAY_EXEC */))
		return FUSE_BPF_CONTINUE;
	return -10 /* ECHILD */;
}

SEC("struct_ops/garbage_lookup")
int BPF_PROG(garbage_lookup, const struct fuse_bpf_meta *meta,
	     struct fuse_bpf_buf *name)
{
	if (name->ro.size == 7 && name_starts(&name->ro, "restart", 7))
		return -512 /* ERESTARTSYS */;
	return FUSE_BPF_CONTINUE;
}

SEC(".struct_ops.link")
struct fuse_bpf_prefilters garbage = {
	.getattr = (void *)garbage_getattr,
	.access = (void *)garbage_access,
	.lookup = (void *)garbage_lookup,
};

/* user: getattr goes to the daemon, lookups of "ask*" to its prefilter,
 * rmdir and readdir to its postfilter
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

SEC("struct_ops/user_readdir")
int BPF_PROG(user_readdir, const struct fuse_bpf_meta *meta,
	     struct fuse_bpf_readdir_in *in)
{
	return FUSE_BPF_USER_POSTFILTER;
}

SEC(".struct_ops.link")
struct fuse_bpf_prefilters user = {
	.getattr = (void *)user_getattr,
	.lookup = (void *)user_lookup,
	.rmdir = (void *)user_rmdir,
	.readdir = (void *)user_readdir,
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

/* nosearch: callers other than root may not search directories */
__u32 access_calls;

SEC("struct_ops/nosearch_access")
int BPF_PROG(nosearch_access, const struct fuse_bpf_meta *meta,
	     struct fuse_access_in *in)
{
	access_calls++;
	if (meta->uid && (in->mask & 1 /* MAY_EXEC */))
		return -EACCES;
	return FUSE_BPF_CONTINUE;
}

SEC(".struct_ops.link")
struct fuse_bpf_prefilters nosearch = {
	.access = (void *)nosearch_access,
};

/*
 * exec_too: every access check asks for search/execute as well, by
 * changing the fixed in-argument and letting the check go on. The
 * backing call is to check what the filter left.
 */
SEC("struct_ops/exec_too_access")
int BPF_PROG(exec_too_access, const struct fuse_bpf_meta *meta,
	     struct fuse_access_in *in)
{
	access_calls++;
	in->mask |= 1 /* MAY_EXEC */;
	return FUSE_BPF_CONTINUE;
}

SEC(".struct_ops.link")
struct fuse_bpf_prefilters exec_too = {
	.access = (void *)exec_too_access,
};

/* count_lookups: every lookup continues, counted */
SEC("struct_ops/count_lookup")
int BPF_PROG(count_lookup, const struct fuse_bpf_meta *meta,
	     struct fuse_bpf_buf *name)
{
	lookup_calls++;
	return FUSE_BPF_CONTINUE;
}

SEC(".struct_ops.link")
struct fuse_bpf_prefilters count_lookups = {
	.lookup = (void *)count_lookup,
};

/*
 * Filters that try to give a caller more than it may have: what they
 * change must be checked against the caller, or not be done at all.
 */

/* sgid_root: a chown's group becomes root's, a chmod sets S_ISGID */
SEC("struct_ops/sgid_root_setattr")
int BPF_PROG(sgid_root_setattr, const struct fuse_bpf_meta *meta,
	     struct fuse_setattr_in *in)
{
	if (in->valid & FATTR_GID)
		in->gid = 0;
	if (in->valid & FATTR_MODE)
		in->mode |= S_ISGID;
	return FUSE_BPF_CONTINUE;
}

SEC(".struct_ops.link")
struct fuse_bpf_prefilters sgid_root = {
	.setattr = (void *)sgid_root_setattr,
};

/* flush_fail: every flush fails, before the backing file is flushed */
SEC("struct_ops/flush_fail_flush")
int BPF_PROG(flush_fail_flush, const struct fuse_bpf_meta *meta,
	     struct fuse_flush_in *in)
{
	return -EIO;
}

SEC(".struct_ops.link")
struct fuse_bpf_prefilters flush_fail = {
	.flush = (void *)flush_fail_flush,
};

/* flush_user: every flush goes to the server */
SEC("struct_ops/flush_user_flush")
int BPF_PROG(flush_user_flush, const struct fuse_bpf_meta *meta,
	     struct fuse_flush_in *in)
{
	return FUSE_BPF_USER;
}

SEC(".struct_ops.link")
struct fuse_bpf_prefilters flush_user = {
	.flush = (void *)flush_user_flush,
};

/* hide_nonroot: names starting with "secret" exist for uid 0 only */
SEC("struct_ops/hide_nonroot_lookup")
int BPF_PROG(hide_nonroot_lookup, const struct fuse_bpf_meta *meta,
	     struct fuse_bpf_buf *name)
{
	lookup_calls++;
	if (meta->uid && name_starts(&name->ro, "secret", 6))
		return -ENOENT;
	return FUSE_BPF_CONTINUE;
}

SEC(".struct_ops.link")
struct fuse_bpf_prefilters hide_nonroot = {
	.lookup = (void *)hide_nonroot_lookup,
};

/*
 * shrink_symlink: a link target is opened for writing at its size, as a
 * filter editing it in place does, then cut to its first
 * FILTERS_SHRUNK_LEN bytes.
 */
SEC("struct_ops/shrink_symlink_symlink")
int BPF_PROG(shrink_symlink_symlink, const struct fuse_bpf_meta *meta,
	     struct fuse_bpf_buf *name, struct fuse_bpf_buf *target)
{
	struct bpf_dynptr d, shrunk;

	if (target->ro.size <= FILTERS_SHRUNK_LEN)
		return FUSE_BPF_CONTINUE;
	if (bpf_fuse_buf_rw_dynptr(target, target->ro.size, &d) ||
	    bpf_fuse_buf_rw_dynptr(target, FILTERS_SHRUNK_LEN, &shrunk))
		return -EIO;
	return FUSE_BPF_CONTINUE;
}

SEC(".struct_ops.link")
struct fuse_bpf_prefilters shrink_symlink = {
	.symlink = (void *)shrink_symlink_symlink,
};

/* noread: files open, but every read is refused */
SEC("struct_ops/noread_read")
int BPF_PROG(noread_read, const struct fuse_bpf_meta *meta,
	     struct fuse_read_in *in)
{
	return -EACCES;
}

SEC(".struct_ops.link")
struct fuse_bpf_prefilters noread = {
	.read = (void *)noread_read,
};

/*
 * ask_noread: lookups of "ask*" go to the server (FUSE_BPF_USER), others
 * to the backing; every read is refused, so a node that escapes the
 * filters shows.
 */
__u32 ask_lookup_calls;
__u32 ask_read_calls;

SEC("struct_ops/ask_noread_lookup")
int BPF_PROG(ask_noread_lookup, const struct fuse_bpf_meta *meta,
	     struct fuse_bpf_buf *name)
{
	if (!name_starts(&name->ro, "ask", 3))
		return FUSE_BPF_CONTINUE;
	ask_lookup_calls++;
	return FUSE_BPF_USER;
}

SEC("struct_ops/ask_noread_read")
int BPF_PROG(ask_noread_read, const struct fuse_bpf_meta *meta,
	     struct fuse_read_in *in)
{
	ask_read_calls++;
	return -EACCES;
}

SEC(".struct_ops.link")
struct fuse_bpf_prefilters ask_noread = {
	.lookup = (void *)ask_noread_lookup,
	.read = (void *)ask_noread_read,
};

/* mk_to_server: creates of "mk*" go to the server */
SEC("struct_ops/mk_to_server_mknod")
int BPF_PROG(mk_to_server_mknod, const struct fuse_bpf_meta *meta,
	     struct fuse_mknod_in *in, struct fuse_bpf_buf *name)
{
	return name_starts(&name->ro, "mk", 2) ? FUSE_BPF_USER :
						  FUSE_BPF_CONTINUE;
}

SEC(".struct_ops.link")
struct fuse_bpf_prefilters mk_to_server = {
	.mknod = (void *)mk_to_server_mknod,
};

/*
 * user_rename: every rename goes to the server's prefilter first, after
 * the VFS checked the target for the caller and before the backing
 * rename.
 */
__u32 rename_calls;

SEC("struct_ops/user_rename_rename")
int BPF_PROG(user_rename_rename, const struct fuse_bpf_meta *meta,
	     struct fuse_rename2_in *in, struct fuse_bpf_buf *oldname,
	     struct fuse_bpf_buf *newname)
{
	rename_calls++;
	return FUSE_BPF_USER_PREFILTER;
}

SEC(".struct_ops.link")
struct fuse_bpf_prefilters user_rename = {
	.rename = (void *)user_rename_rename,
};

/*
 * widen: prefilters that try to give a new object more than the caller
 * asked for, which the backing call (with the registered credentials'
 * capabilities) would otherwise grant:
 *  - mknod of a name starting with "dev": a character device
 *    (FILTERS_WIDEN_RDEV) instead of what was asked;
 *  - mknod (so create) and mkdir of "suid*": S_ISUID | S_ISGID added;
 *  - mknod and mkdir of "narrow*": the group and other bits taken away,
 *    which a prefilter may do;
 *  - rename to "white*" gets RENAME_WHITEOUT, to "exch*" RENAME_EXCHANGE.
 */
#define S_IFCHR		0020000
#define S_ISUID		04000
#define RENAME_EXCHANGE	(1 << 1)
#define RENAME_WHITEOUT	(1 << 2)

__u32 widen_calls;

SEC("struct_ops/widen_mknod")
int BPF_PROG(widen_mknod, const struct fuse_bpf_meta *meta,
	     struct fuse_mknod_in *in, struct fuse_bpf_buf *name)
{
	widen_calls++;
	if (name_starts(&name->ro, "dev", 3)) {
		in->mode = (in->mode & ~S_IFMT) | S_IFCHR;
		in->rdev = FILTERS_WIDEN_RDEV;
	} else if (name_starts(&name->ro, "suid", 4)) {
		in->mode |= S_ISUID | S_ISGID;
	} else if (name_starts(&name->ro, "narrow", 6)) {
		in->mode &= ~077;
	}
	return FUSE_BPF_CONTINUE;
}

SEC("struct_ops/widen_mkdir")
int BPF_PROG(widen_mkdir, const struct fuse_bpf_meta *meta,
	     struct fuse_mkdir_in *in, struct fuse_bpf_buf *name)
{
	widen_calls++;
	if (name_starts(&name->ro, "suid", 4))
		in->mode |= S_ISUID | S_ISGID;
	else if (name_starts(&name->ro, "narrow", 6))
		in->mode &= ~077;
	return FUSE_BPF_CONTINUE;
}

SEC("struct_ops/widen_rename")
int BPF_PROG(widen_rename, const struct fuse_bpf_meta *meta,
	     struct fuse_rename2_in *in, struct fuse_bpf_buf *oldname,
	     struct fuse_bpf_buf *newname)
{
	widen_calls++;
	if (name_starts(&newname->ro, "white", 5))
		in->flags |= RENAME_WHITEOUT;
	else if (name_starts(&newname->ro, "exch", 4))
		in->flags |= RENAME_EXCHANGE;
	return FUSE_BPF_CONTINUE;
}

SEC(".struct_ops.link")
struct fuse_bpf_prefilters widen = {
	.mknod = (void *)widen_mknod,
	.mkdir = (void *)widen_mkdir,
	.rename = (void *)widen_rename,
};

/* What a setattr prefilter sees of the request. */
__u32 setattr_valid;
__u64 setattr_mtime;

SEC("struct_ops/rec_setattr")
int BPF_PROG(rec_setattr, const struct fuse_bpf_meta *meta,
	     struct fuse_setattr_in *in)
{
	setattr_valid = in->valid;
	setattr_mtime = in->mtime;
	return FUSE_BPF_CONTINUE;
}

SEC(".struct_ops.link")
struct fuse_bpf_prefilters rec = {
	.setattr = (void *)rec_setattr,
};

char _license[] SEC("license") = "GPL";
