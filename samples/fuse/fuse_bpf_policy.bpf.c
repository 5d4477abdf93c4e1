// SPDX-License-Identifier: GPL-2.0
/*
 * fuse_bpf_policy: the BPF half of the fuse_bpf_mirror sample.
 *
 * fuse_bpf_mirror names a backing directory or file for every top-level
 * entry of its mount in its LOOKUP replies; everything below such an entry
 * is served by the kernel from the source tree. These filters are the
 * daemon's policy on those subtrees. Each prefilters map below is one
 * combination of policies; the daemon gives each one it needs an ops id
 * of its connection (fuse_fd and ops_id, set before loading), attaches it
 * after mounting and names that id in the LOOKUP reply of each top-level
 * entry:
 *
 *   pol_plain     hide names starting with hide_prefix (lookup, readdir)
 *   pol_ro        the same, and every operation that writes gets -EROFS
 *   pol_owner     the same as pol_plain, and only owner_uid may look up,
 *                 list, open or search anything in the subtree
 *   pol_ro_owner  both
 *
 * hide_readdir is the readdir postfilter that removes hidden names from a
 * listing; the prefilters ask for it only when a prefix is set. A map
 * serves one ops id, so each combination has a postfilters map of its own
 * (hide_plain, hide_ro, ...) with the same ops id, all of them using that
 * one program.
 *
 * With --hydrate-from, the daemon's top-level regular files are
 * placeholders, empty until their first open fetches their content (lazy
 * hydration). They get pol_hydrate and hyd_post under an ops id of their
 * own: the hydration map says, per node id, whether the node is hydrated
 * and its real size. Until it is, its open prefilter asks the daemon
 * (FUSE_BPF_USER_PREFILTER), which fetches the content into the backing
 * file, marks the node hydrated and lets the open go on, on the backing;
 * and its getattr postfilter shows the real size instead of the
 * placeholder's 0. Once hydrated, both continue: open, read and stat run
 * in the kernel and never reach the daemon.
 *
 * The daemon sets hide_prefix, hide_len and owner_uid before loading.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

/* From tools/testing/selftests/filesystems/fuse/progs (see the Makefile). */
#include "fuse_dirents.bpf.h"

#define EPERM		1
#define ENOENT		2
#define EACCES		13
#define EROFS		30

#define O_ACCMODE	00000003
#define O_TRUNC		00001000

#define FS_IOC_SETFLAGS		0x40086602
#define FS_IOC_FSSETXATTR	0x401c5820

#define HIDE_MAX	32	/* bytes of hide_prefix, keep in sync with the daemon */

/* What the policy is on; flags of a combination. */
#define POL_RO		0x1
#define POL_OWNER	0x2

char LICENSE[] SEC("license") = "GPL";

/*
 * Set by the daemon before load, through the skeleton's bss; nothing
 * changes them afterwards.
 */
char hide_prefix[HIDE_MAX];
__u32 hide_len;
__u32 owner_uid;

/* Counted by the filters, read by the daemon for its status file. */
__u64 hidden_lookups;
__u64 hidden_dirents;
__u64 denied_owner;
__u64 denied_ro;

/* Hydration state of a placeholder, by node id; the daemon fills it. */
struct hydrate_state {
	__u64 size;		/* the real size, shown until hydrated */
	__u32 hydrated;		/* the backing file holds the content */
	__u32 padding;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);	/* empty without --hydrate-from */
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, struct hydrate_state);
} hydration SEC(".maps");

__u64 hydrate_upcalls;	/* opens sent to the daemon to hydrate */
__u64 sizes_shown;	/* stats that showed a placeholder's real size */

extern int bpf_fuse_buf_dynptr(struct fuse_bpf_rdonly_buf *buf,
			       struct bpf_dynptr *ptr) __ksym;

/* Does @s (at least hide_len bytes) start with hide_prefix? */
static __always_inline bool prefix_match(const char *s)
{
	__u32 i;

	for (i = 0; i < HIDE_MAX; i++) {
		if (i >= hide_len)
			return true;
		if (s[i] != hide_prefix[i])
			return false;
	}
	return true;
}

static __always_inline bool name_hidden(struct fuse_bpf_rdonly_buf *name)
{
	struct bpf_dynptr ptr;
	char buf[HIDE_MAX] = {};
	__u32 len = hide_len;

	if (!len || len > HIDE_MAX || name->size < len)
		return false;
	if (bpf_fuse_buf_dynptr(name, &ptr))
		return false;
	if (bpf_dynptr_read(buf, len, &ptr, 0, 0))
		return false;
	return prefix_match(buf);
}

static __always_inline int owner_check(const struct fuse_bpf_meta *meta,
				       unsigned int pol)
{
	if ((pol & POL_OWNER) && meta->uid != owner_uid) {
		denied_owner++;
		return -EACCES;
	}
	return FUSE_BPF_CONTINUE;
}

static __always_inline int pol_lookup(const struct fuse_bpf_meta *meta,
				      struct fuse_bpf_buf *name,
				      unsigned int pol)
{
	if (name_hidden(&name->ro)) {
		hidden_lookups++;
		return -ENOENT;
	}
	return owner_check(meta, pol);
}

static __always_inline int pol_readdir(const struct fuse_bpf_meta *meta,
				       unsigned int pol)
{
	int ret = owner_check(meta, pol);

	if (ret)
		return ret;
	return hide_len ? FUSE_BPF_POSTFILTER : FUSE_BPF_CONTINUE;
}

static __always_inline int pol_open(const struct fuse_bpf_meta *meta,
				    struct fuse_open_in *in, unsigned int pol)
{
	int ret = owner_check(meta, pol);

	if (ret)
		return ret;
	if ((pol & POL_RO) && ((in->flags & O_ACCMODE) ||
			       (in->flags & O_TRUNC))) {
		denied_ro++;
		return -EROFS;
	}
	return FUSE_BPF_CONTINUE;
}

static __always_inline int ro_deny(void)
{
	denied_ro++;
	return -EROFS;
}

/* lookup and readdir, for every combination */
#define POL_NAMES(v, pol)						\
SEC("struct_ops/" #v "_lookup")						\
int BPF_PROG(v##_lookup, const struct fuse_bpf_meta *meta,		\
	     struct fuse_bpf_buf *name)					\
{									\
	return pol_lookup(meta, name, pol);				\
}									\
SEC("struct_ops/" #v "_readdir")					\
int BPF_PROG(v##_readdir, const struct fuse_bpf_meta *meta,		\
	     struct fuse_bpf_readdir_in *in)				\
{									\
	return pol_readdir(meta, pol);					\
}

/* open, opendir and permission checks, for the read-only or owner ones */
#define POL_OPEN(v, pol)						\
SEC("struct_ops/" #v "_open")						\
int BPF_PROG(v##_open, const struct fuse_bpf_meta *meta,		\
	     struct fuse_open_in *in)					\
{									\
	return pol_open(meta, in, pol);					\
}									\
SEC("struct_ops/" #v "_opendir")					\
int BPF_PROG(v##_opendir, const struct fuse_bpf_meta *meta,		\
	     struct fuse_open_in *in)					\
{									\
	return owner_check(meta, pol);					\
}									\
SEC("struct_ops/" #v "_access")						\
int BPF_PROG(v##_access, const struct fuse_bpf_meta *meta,		\
	     struct fuse_access_in *in)					\
{									\
	return owner_check(meta, pol);					\
}

/* A prefilter that refuses the operation: one program per member. */
#define RO_1(v, op, t1)							\
SEC("struct_ops/" #v "_" #op)						\
int BPF_PROG(v##_##op, const struct fuse_bpf_meta *meta, t1 a1)		\
{									\
	return ro_deny();						\
}

#define RO_2(v, op, t1, t2)						\
SEC("struct_ops/" #v "_" #op)						\
int BPF_PROG(v##_##op, const struct fuse_bpf_meta *meta, t1 a1, t2 a2)	\
{									\
	return ro_deny();						\
}

#define RO_3(v, op, t1, t2, t3)						\
SEC("struct_ops/" #v "_" #op)						\
int BPF_PROG(v##_##op, const struct fuse_bpf_meta *meta, t1 a1, t2 a2,	\
	     t3 a3)							\
{									\
	return ro_deny();						\
}

/* Every operation that writes to the tree, a file or its attributes. */
#define POL_RO_OPS(v)							\
RO_1(v, setattr, struct fuse_setattr_in *)				\
RO_2(v, mknod, struct fuse_mknod_in *, struct fuse_bpf_buf *)		\
RO_2(v, mkdir, struct fuse_mkdir_in *, struct fuse_bpf_buf *)		\
RO_2(v, symlink, struct fuse_bpf_buf *, struct fuse_bpf_buf *)		\
RO_2(v, link, struct fuse_link_in *, struct fuse_bpf_buf *)		\
RO_1(v, unlink, struct fuse_bpf_buf *)					\
RO_1(v, rmdir, struct fuse_bpf_buf *)					\
RO_3(v, rename, struct fuse_rename2_in *, struct fuse_bpf_buf *,	\
	 struct fuse_bpf_buf *)						\
RO_1(v, tmpfile, struct fuse_create_in *)				\
RO_3(v, setxattr, struct fuse_setxattr_in *, struct fuse_bpf_buf *,	\
	 struct fuse_bpf_buf *)						\
RO_1(v, removexattr, struct fuse_bpf_buf *)				\
RO_1(v, fallocate, struct fuse_fallocate_in *)				\
RO_1(v, copy_file_range, struct fuse_copy_file_range_in *)		\
RO_1(v, write, struct fuse_write_in *)					\
SEC("struct_ops/" #v "_ioctl")						\
int BPF_PROG(v##_ioctl, const struct fuse_bpf_meta *meta,		\
	     struct fuse_ioctl_in *in)					\
{									\
	if (in->cmd == FS_IOC_SETFLAGS || in->cmd == FS_IOC_FSSETXATTR)	\
		return ro_deny();					\
	return FUSE_BPF_CONTINUE;					\
}

#define RO_MEMBERS(v)							\
	.setattr = (void *)v##_setattr,					\
	.mknod = (void *)v##_mknod,					\
	.mkdir = (void *)v##_mkdir,					\
	.symlink = (void *)v##_symlink,					\
	.link = (void *)v##_link,					\
	.unlink = (void *)v##_unlink,					\
	.rmdir = (void *)v##_rmdir,					\
	.rename = (void *)v##_rename,					\
	.tmpfile = (void *)v##_tmpfile,					\
	.setxattr = (void *)v##_setxattr,				\
	.removexattr = (void *)v##_removexattr,				\
	.fallocate = (void *)v##_fallocate,				\
	.copy_file_range = (void *)v##_copy_file_range,			\
	.write = (void *)v##_write,					\
	.ioctl = (void *)v##_ioctl

#define OPEN_MEMBERS(v)							\
	.open = (void *)v##_open,					\
	.opendir = (void *)v##_opendir,					\
	.access = (void *)v##_access

POL_NAMES(plain, 0)

SEC(".struct_ops.link")
struct fuse_bpf_prefilters pol_plain = {
	.lookup = (void *)plain_lookup,
	.readdir = (void *)plain_readdir,
};

POL_NAMES(ro, POL_RO)
POL_OPEN(ro, POL_RO)
POL_RO_OPS(ro)

SEC(".struct_ops.link")
struct fuse_bpf_prefilters pol_ro = {
	.lookup = (void *)ro_lookup,
	.readdir = (void *)ro_readdir,
	OPEN_MEMBERS(ro),
	RO_MEMBERS(ro),
};

POL_NAMES(own, POL_OWNER)
POL_OPEN(own, POL_OWNER)

SEC(".struct_ops.link")
struct fuse_bpf_prefilters pol_owner = {
	.lookup = (void *)own_lookup,
	.readdir = (void *)own_readdir,
	OPEN_MEMBERS(own),
};

POL_NAMES(ro_own, POL_RO | POL_OWNER)
POL_OPEN(ro_own, POL_RO | POL_OWNER)
POL_RO_OPS(ro_own)

SEC(".struct_ops.link")
struct fuse_bpf_prefilters pol_ro_owner = {
	.lookup = (void *)ro_own_lookup,
	.readdir = (void *)ro_own_readdir,
	OPEN_MEMBERS(ro_own),
	RO_MEMBERS(ro_own),
};

static __always_inline bool dirent_hidden(const struct fuse_dirent *de)
{
	if (de->namelen < hide_len || !prefix_match(de->name))
		return false;
	hidden_dirents++;
	return true;
}

/* Remove the entries whose name starts with hide_prefix from a listing. */
SEC("struct_ops/hide_readdir")
int BPF_PROG(hide_readdir, const struct fuse_bpf_meta *meta,
	     const struct fuse_read_in *in, struct fuse_bpf_buf *dirents)
{
	if (meta->error || !hide_len)
		return FUSE_BPF_CONTINUE;
	return fuse_dirents_remove(dirents, dirent_hidden) ?:
	       FUSE_BPF_CONTINUE;
}

/*
 * The postfilters of each combination: the prefilters map and the
 * postfilters map of an ops id make its filter, and a map cannot serve
 * several ids.
 */
#define HIDE_POST(v)							\
SEC(".struct_ops.link")							\
struct fuse_bpf_postfilters hide_##v = {				\
	.readdir = (void *)hide_readdir,				\
}

HIDE_POST(plain);
HIDE_POST(ro);
HIDE_POST(owner);
HIDE_POST(ro_owner);

/*
 * Lazy hydration (--hydrate-from). A node without an entry is one the
 * daemon did not announce: its open goes to the daemon too, which refuses
 * what it does not know.
 */
static __always_inline bool hydrated(const struct fuse_bpf_meta *meta)
{
	__u64 id = meta->nodeid;
	struct hydrate_state *s = bpf_map_lookup_elem(&hydration, &id);

	return s && s->hydrated;
}

SEC("struct_ops/hyd_open")
int BPF_PROG(hyd_open, const struct fuse_bpf_meta *meta,
	     struct fuse_open_in *in)
{
	if (hydrated(meta))
		return FUSE_BPF_CONTINUE;
	hydrate_upcalls++;
	return FUSE_BPF_USER_PREFILTER;
}

SEC("struct_ops/hyd_getattr")
int BPF_PROG(hyd_getattr, const struct fuse_bpf_meta *meta,
	     struct fuse_getattr_in *in)
{
	return hydrated(meta) ? FUSE_BPF_CONTINUE : FUSE_BPF_POSTFILTER;
}

/* A placeholder's stat shows the size of its content, not its own 0. */
SEC("struct_ops/hyd_getattr_post")
int BPF_PROG(hyd_getattr_post, const struct fuse_bpf_meta *meta,
	     const struct fuse_getattr_in *in, struct fuse_attr_out *out)
{
	__u64 id = meta->nodeid;
	struct hydrate_state *s;

	if (meta->error)
		return FUSE_BPF_CONTINUE;
	s = bpf_map_lookup_elem(&hydration, &id);
	if (s && !s->hydrated) {
		out->attr.size = s->size;
		sizes_shown++;
	}
	return FUSE_BPF_CONTINUE;
}

SEC(".struct_ops.link")
struct fuse_bpf_prefilters pol_hydrate = {
	.open = (void *)hyd_open,
	.getattr = (void *)hyd_getattr,
};

SEC(".struct_ops.link")
struct fuse_bpf_postfilters hyd_post = {
	.getattr = (void *)hyd_getattr_post,
};
