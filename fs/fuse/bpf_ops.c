// SPDX-License-Identifier: GPL-2.0
/*
 * fuse-bpf: BPF filters of operations on backed nodes.
 *
 * Two struct_ops types, struct fuse_bpf_prefilters and struct
 * fuse_bpf_postfilters (include/linux/fuse_bpf.h), with one member per
 * operation each. They are two types and not one because one type with a
 * prefilter and a postfilter per operation would pass the 64 members
 * struct_ops allows, and because it lets the verifier tell the two apart:
 * prefilters may write the in-arguments, postfilters only the
 * out-arguments.
 *
 * A map names its connection (a file descriptor of it, fuse_fd) and an
 * ops id of the connection; attaching it (reg) binds it there, in the
 * connection's table of ops ids, as HID-BPF binds its ops to a device.
 * LOOKUP replies and the mount option ops= name ids of that table: there
 * is no name space in which filters could be found otherwise. When a link
 * goes away (unreg), the nodes of its id lose its callbacks before unreg
 * returns; when it is moved to another map (update), they use that one.
 */

#include "bpf_internal.h"

#include <linux/bpf.h>
#include <linux/bpf_verifier.h>
#include <linux/btf.h>
#include <linux/btf_ids.h>
#include <linux/filter.h>
#include <linux/fs_context.h>
#include <linux/pid_namespace.h>
#include <linux/xattr.h>

/**
 * struct fuse_bpf_filter - the filters of an ops id, which nodes use
 * @pre: the prefilters, NULL while no map serves them: then the nodes
 *	refuse every operation (-ENOTCONN), before the first attach (a root
 *	named by ops=) as after a detach (a server that died), so that no
 *	node of the id is ever served unfiltered
 * @post: the postfilters, NULL while no map serves them
 * @count: references: the connection's table and the nodes
 * @rcu: freed after a grace period, readers use RCU
 */
struct fuse_bpf_filter {
	const struct fuse_bpf_prefilters __rcu *pre;
	const struct fuse_bpf_postfilters __rcu *post;
	refcount_t count;
	struct rcu_head rcu;
};

/**
 * struct fuse_bpf_ops_table - the ops ids of a connection
 * @lock: protects @ids and the filters' @pre and @post
 * @ids: ops id -> struct fuse_bpf_filter, each holding a reference
 * @count: references: the connection and each attached map
 *
 * Its own object, not part of struct fuse_conn: an attached map keeps it,
 * and must not keep the connection (and its backing files) after umount.
 */
struct fuse_bpf_ops_table {
	spinlock_t lock;
	struct idr ids;
	refcount_t count;
};

static void fuse_bpf_table_put(struct fuse_bpf_ops_table *table)
{
	struct fuse_bpf_filter *filter;
	int id;

	if (!table || !refcount_dec_and_test(&table->count))
		return;
	idr_for_each_entry(&table->ids, filter, id)
		fuse_bpf_filter_put(filter);
	idr_destroy(&table->ids);
	kfree(table);
}

/* Both struct_ops types are registered: filters can be attached. */
static bool fuse_bpf_registered __ro_after_init;

void fuse_bpf_filter_put(struct fuse_bpf_filter *filter)
{
	if (filter && refcount_dec_and_test(&filter->count))
		kfree_rcu(filter, rcu);
}

struct fuse_bpf_filter *fuse_bpf_filter_get(struct fuse_bpf_filter *filter)
{
	if (filter)
		refcount_inc(&filter->count);
	return filter;
}

/*
 * The filters of ops id @id of @fc, made (for the connection's table)
 * when @create and there are none: a new reference, or NULL or an
 * ERR_PTR().
 */
static struct fuse_bpf_filter *
fuse_bpf_ops_slot(struct fuse_bpf_ops_table *table, u32 id, bool create)
{
	struct fuse_bpf_filter *filter, *new = NULL;
	int err;

	if (!id || id > INT_MAX)
		return create ? ERR_PTR(-EINVAL) : NULL;
	if (!create) {
		spin_lock(&table->lock);
		filter = fuse_bpf_filter_get(idr_find(&table->ids, id));
		spin_unlock(&table->lock);
		return filter;
	}
	new = kzalloc(sizeof(*new), GFP_KERNEL);
	if (!new)
		return ERR_PTR(-ENOMEM);
	refcount_set(&new->count, 1);
	idr_preload(GFP_KERNEL);
	spin_lock(&table->lock);
	filter = fuse_bpf_filter_get(idr_find(&table->ids, id));
	if (!filter) {
		err = idr_alloc(&table->ids, new, id, id + 1, GFP_NOWAIT);
		if (err < 0) {
			filter = ERR_PTR(err);
		} else {
			filter = fuse_bpf_filter_get(new);
			new = NULL;
		}
	}
	spin_unlock(&table->lock);
	idr_preload_end();
	kfree(new);
	return filter;
}

/* A new reference to the filters of ops id @id of @fc, or NULL. */
struct fuse_bpf_filter *fuse_bpf_ops_lookup(struct fuse_conn *fc, u64 id)
{
	if (!fc->bpf_ops || id > INT_MAX)
		return NULL;
	return fuse_bpf_ops_slot(fc->bpf_ops, id, false);
}

/*
 * The filters of the root, ops id @id of the mount option ops=: closed
 * until a prefilters map is attached with that id.
 */
struct fuse_bpf_filter *fuse_bpf_ops_root(struct fuse_conn *fc, u32 id)
{
	struct fuse_bpf_filter *filter;

	/* Without the types nothing could ever open the root. */
	if (!fuse_bpf_registered)
		return ERR_PTR(-EOPNOTSUPP);
	filter = fuse_bpf_ops_slot(fc->bpf_ops, id, true);
	if (!IS_ERR(filter))
		WRITE_ONCE(fc->bpf_filtered, true);
	return filter;
}

/* The connection's table of ops ids, made when fuse-bpf is enabled. */
int fuse_bpf_conn_init(struct fuse_conn *fc)
{
	struct fuse_bpf_ops_table *table;

	table = kzalloc(sizeof(*table), GFP_KERNEL);
	if (!table)
		return -ENOMEM;
	spin_lock_init(&table->lock);
	idr_init(&table->ids);
	refcount_set(&table->count, 1);
	/* /dev/fuse already leads to fc: fuse_bpf_conn_get() may look. */
	smp_store_release(&fc->bpf_ops, table);
	return 0;
}

void fuse_bpf_conn_free(struct fuse_conn *fc)
{
	fuse_bpf_table_put(fc->bpf_ops);
}

/*
 * Calling the filters: a thunk per callback calls it with the arguments
 * that include/linux/fuse_bpf_ops.h names, taken from the operation's
 * struct fuse_bpf_args.
 */
#define M	(&fa->meta)
#define IN(i)	(fa->in_args[i].ro.data)
#define RW(i)	(&fa->in_args[i])
#define RO(i)	(&fa->in_args[i].ro)
#define OUT(i)	(fa->out_args[i].ro.data)
#define OUTRW(i)	(&fa->out_args[i])

#define FUSE_BPF_OP(op, pre, pre_args, post, post_args)			\
static int fuse_bpf_pre_##op(const struct fuse_bpf_prefilters *p,	\
			     struct fuse_bpf_args *fa)			\
{									\
	return p->op pre_args;						\
}									\
static int fuse_bpf_post_##op(const struct fuse_bpf_postfilters *p,	\
			      struct fuse_bpf_args *fa)			\
{									\
	return p->op post_args;						\
}
#include <linux/fuse_bpf_ops.h>

#undef M
#undef IN
#undef RW
#undef RO
#undef OUT
#undef OUTRW

/* The callbacks of operation @idx are the members at index @idx. */
struct fuse_bpf_call {
	int (*pre)(const struct fuse_bpf_prefilters *p,
		   struct fuse_bpf_args *fa);
	int (*post)(const struct fuse_bpf_postfilters *p,
		    struct fuse_bpf_args *fa);
};

static const struct fuse_bpf_call fuse_bpf_calls[FUSE_BPF_NR_OPS] = {
#define FUSE_BPF_OP(op, pre_, pre_args, post_, post_args)		\
	[FUSE_BPF_OP_IDX(op)] = {					\
		.pre = fuse_bpf_pre_##op,				\
		.post = fuse_bpf_post_##op,				\
	},
#include <linux/fuse_bpf_ops.h>
};

static_assert(sizeof(struct fuse_bpf_postfilters) ==
	      sizeof(struct fuse_bpf_prefilters));

/*
 * What filters may write: the fields of the fixed arguments that the
 * operations honour, by type. A prefilter may write its fixed in-argument,
 * a postfilter its fixed out-argument; READDIR has a type of its own
 * because READ honours other fields of struct fuse_read_in. The FUSE
 * structures are plain data; the kernel checks what it uses of them after
 * the filter ran. The verifier refuses a program that writes any other
 * field, and a server's userspace filter that changes one gets -EIO: no
 * change a filter makes is silently ignored.
 */

/* A field of a fixed argument that a filter may change. */
struct fuse_bpf_field {
	u16 off;
	u16 size;
};

#define FIELD(type, member)						\
	{ offsetof(struct type, member), sizeof_field(struct type, member) }

static const struct fuse_bpf_field fuse_bpf_setattr_fields[] = {
	FIELD(fuse_setattr_in, valid),
	FIELD(fuse_setattr_in, size),
	FIELD(fuse_setattr_in, mode),
	FIELD(fuse_setattr_in, uid),
	FIELD(fuse_setattr_in, gid),
	{}
};

static const struct fuse_bpf_field fuse_bpf_access_fields[] = {
	FIELD(fuse_access_in, mask),
	{}
};

static const struct fuse_bpf_field fuse_bpf_open_fields[] = {
	FIELD(fuse_open_in, flags),
	{}
};

static const struct fuse_bpf_field fuse_bpf_fsync_fields[] = {
	FIELD(fuse_fsync_in, fsync_flags),
	{}
};

static const struct fuse_bpf_field fuse_bpf_readdir_fields[] = {
	FIELD(fuse_bpf_readdir_in, in.offset),
	{}
};

static const struct fuse_bpf_field fuse_bpf_mknod_fields[] = {
	FIELD(fuse_mknod_in, mode),
	FIELD(fuse_mknod_in, rdev),
	{}
};

static const struct fuse_bpf_field fuse_bpf_mkdir_fields[] = {
	FIELD(fuse_mkdir_in, mode),
	{}
};

static const struct fuse_bpf_field fuse_bpf_rename_fields[] = {
	FIELD(fuse_rename2_in, flags),
	{}
};

static const struct fuse_bpf_field fuse_bpf_tmpfile_fields[] = {
	FIELD(fuse_create_in, flags),
	FIELD(fuse_create_in, mode),
	{}
};

static const struct fuse_bpf_field fuse_bpf_setxattr_fields[] = {
	FIELD(fuse_setxattr_in, flags),
	{}
};

static const struct fuse_bpf_field fuse_bpf_lseek_fields[] = {
	FIELD(fuse_lseek_in, offset),
	FIELD(fuse_lseek_in, whence),
	{}
};

static const struct fuse_bpf_field fuse_bpf_fallocate_fields[] = {
	FIELD(fuse_fallocate_in, offset),
	FIELD(fuse_fallocate_in, length),
	FIELD(fuse_fallocate_in, mode),
	{}
};

static const struct fuse_bpf_field fuse_bpf_copy_file_range_fields[] = {
	FIELD(fuse_copy_file_range_in, off_in),
	FIELD(fuse_copy_file_range_in, off_out),
	FIELD(fuse_copy_file_range_in, len),
	FIELD(fuse_copy_file_range_in, flags),
	{}
};

static const struct fuse_bpf_field fuse_bpf_read_fields[] = {
	FIELD(fuse_read_in, offset),
	FIELD(fuse_read_in, size),
	{}
};

static const struct fuse_bpf_field fuse_bpf_write_fields[] = {
	FIELD(fuse_write_in, offset),
	FIELD(fuse_write_in, size),
	{}
};

/* postfilters */
static const struct fuse_bpf_field fuse_bpf_getattr_out_fields[] = {
	FIELD(fuse_attr_out, attr.size),
	FIELD(fuse_attr_out, attr.blocks),
	FIELD(fuse_attr_out, attr.atime),
	FIELD(fuse_attr_out, attr.mtime),
	FIELD(fuse_attr_out, attr.ctime),
	FIELD(fuse_attr_out, attr.atimensec),
	FIELD(fuse_attr_out, attr.mtimensec),
	FIELD(fuse_attr_out, attr.ctimensec),
	FIELD(fuse_attr_out, attr.mode),
	FIELD(fuse_attr_out, attr.nlink),
	FIELD(fuse_attr_out, attr.uid),
	FIELD(fuse_attr_out, attr.gid),
	{}
};

static const struct fuse_bpf_field fuse_bpf_statfs_out_fields[] = {
	FIELD(fuse_statfs_out, st),
	{}
};

static const struct fuse_bpf_field fuse_bpf_lseek_out_fields[] = {
	FIELD(fuse_lseek_out, offset),
	{}
};

static const struct fuse_bpf_field fuse_bpf_read_out_fields[] = {
	FIELD(fuse_bpf_read_out, size),
	{}
};

static const struct fuse_bpf_field fuse_bpf_write_out_fields[] = {
	FIELD(fuse_write_out, size),
	{}
};

#undef FIELD

/**
 * struct fuse_bpf_writable - the writable fields of a type
 * @name: the type, a struct
 * @fields: its fields a filter may change, in the order of the structure,
 *	ending with an empty one
 * @btf_id: the type's id in fuse's BTF (fuse_bpf_btf), found when the
 *	struct_ops type is registered
 */
struct fuse_bpf_writable {
	const char *name;
	const struct fuse_bpf_field *fields;
	s32 btf_id;
};

#define WRITABLE(type, f)	{ .name = #type, .fields = f }

static struct fuse_bpf_writable fuse_bpf_pre_writable[] __ro_after_init = {
	WRITABLE(fuse_setattr_in, fuse_bpf_setattr_fields),
	WRITABLE(fuse_access_in, fuse_bpf_access_fields),
	WRITABLE(fuse_open_in, fuse_bpf_open_fields),
	WRITABLE(fuse_fsync_in, fuse_bpf_fsync_fields),
	WRITABLE(fuse_bpf_readdir_in, fuse_bpf_readdir_fields),
	WRITABLE(fuse_mknod_in, fuse_bpf_mknod_fields),
	WRITABLE(fuse_mkdir_in, fuse_bpf_mkdir_fields),
	WRITABLE(fuse_rename2_in, fuse_bpf_rename_fields),
	WRITABLE(fuse_create_in, fuse_bpf_tmpfile_fields),
	WRITABLE(fuse_setxattr_in, fuse_bpf_setxattr_fields),
	WRITABLE(fuse_lseek_in, fuse_bpf_lseek_fields),
	WRITABLE(fuse_fallocate_in, fuse_bpf_fallocate_fields),
	WRITABLE(fuse_copy_file_range_in, fuse_bpf_copy_file_range_fields),
	WRITABLE(fuse_read_in, fuse_bpf_read_fields),
	WRITABLE(fuse_write_in, fuse_bpf_write_fields),
};

static struct fuse_bpf_writable fuse_bpf_post_writable[] __ro_after_init = {
	WRITABLE(fuse_attr_out, fuse_bpf_getattr_out_fields),
	WRITABLE(fuse_statfs_out, fuse_bpf_statfs_out_fields),
	WRITABLE(fuse_lseek_out, fuse_bpf_lseek_out_fields),
	WRITABLE(fuse_bpf_read_out, fuse_bpf_read_out_fields),
	WRITABLE(fuse_write_out, fuse_bpf_write_out_fields),
};

#undef WRITABLE

/*
 * The writable fields of each operation's fixed argument, for the checks
 * of userspace filters: found from the callbacks' prototypes at init.
 */
static const struct fuse_bpf_field *
fuse_bpf_op_fields[2][FUSE_BPF_NR_OPS] __ro_after_init;

/* The BTF the ids are of. */
static const struct btf *fuse_bpf_btf __ro_after_init;

/**
 * fuse_bpf_check_fixed() - check a fixed argument a server's filter sent
 * @filter_op: the operation, FUSE_BPF_OP_IDX()
 * @post: the out-argument of a postfilter, else the in-argument
 * @old: the argument as the kernel has it
 * @new: the argument in the server's reply
 * @size: their size
 *
 * Return: 0 when @new differs from @old only in fields the operation
 * honours, else -EIO.
 */
int fuse_bpf_check_fixed(unsigned int filter_op, bool post, const void *old,
			 const void *new, u32 size)
{
	const struct fuse_bpf_field *f = fuse_bpf_op_fields[post][filter_op];
	u32 pos = 0;

	for (; f && f->size; f++) {
		if (memcmp(old + pos, new + pos, f->off - pos))
			return -EIO;
		pos = f->off + f->size;
	}
	return memcmp(old + pos, new + pos, size - pos) ? -EIO : 0;
}

/* Whether the callback at index @filter_op of @ops is set. */
static bool fuse_bpf_member_set(const void *ops, unsigned int filter_op)
{
	return ((void * const *)ops)[filter_op];
}

/* Who the operation is for, in the terms of the mount. */
static void fuse_bpf_fill_meta(struct fuse_bpf_args *fa, struct inode *inode)
{
	struct fuse_conn *fc = get_fuse_conn(inode);

	/* fuse_bpf_fill_super() took only the initial user namespace. */
	fa->meta.uid = __kuid_val(current_fsuid());
	fa->meta.gid = __kgid_val(current_fsgid());
	if (fc->pid_ns == &init_pid_ns)
		fa->meta.pid = task_tgid_nr(current);
	else
		fa->meta.pid = pid_nr_ns(task_tgid(current), fc->pid_ns);
}

/**
 * fuse_bpf_call_filter() - call the pre- or postfilter of an operation
 * @inode: the node the operation is on
 * @filter_op: the operation's index, FUSE_BPF_OP_IDX()
 * @post: the postfilter rather than the prefilter
 * @fa: the arguments
 * @res: the filter's return value
 *
 * Return: false, and nothing was called, when the node has no such
 * callback (any more).
 */
bool fuse_bpf_call_filter(struct inode *inode, unsigned int filter_op,
			  bool post, struct fuse_bpf_args *fa, int *res)
{
	const struct fuse_bpf_call *fo = &fuse_bpf_calls[filter_op];
	struct fuse_inode *fi = get_fuse_inode(inode);
	const struct fuse_bpf_prefilters *pre;
	const struct fuse_bpf_postfilters *postf;
	struct fuse_bpf_filter *filter;
	bool called = false;

	rcu_read_lock();
	filter = rcu_dereference(fi->bpf_filter);
	if (!filter)
		goto out;
	if (post) {
		postf = rcu_dereference(filter->post);
		if (postf && fuse_bpf_member_set(postf, filter_op)) {
			fuse_bpf_fill_meta(fa, inode);
			*res = fo->post(postf, fa);
			called = true;
		}
	} else {
		pre = rcu_dereference(filter->pre);
		if (!pre) {
			/* No map serves the id: nothing passes unfiltered. */
			*res = -ENOTCONN;
			called = true;
		} else if (fuse_bpf_member_set(pre, filter_op)) {
			fuse_bpf_fill_meta(fa, inode);
			*res = fo->pre(pre, fa);
			called = true;
		}
	}
out:
	rcu_read_unlock();
	return called;
}

/* The rest of fuse_bpf_has_callback(), for a node with filters. */
bool __fuse_bpf_has_callback(struct inode *inode, unsigned int filter_op)
{
	const struct fuse_bpf_prefilters *pre;
	struct fuse_bpf_filter *filter;
	bool set = false;

	rcu_read_lock();
	filter = rcu_dereference(get_fuse_inode(inode)->bpf_filter);
	if (filter) {
		pre = rcu_dereference(filter->pre);
		/* No map: the operation is to be refused, by the pipeline. */
		set = !pre || fuse_bpf_member_set(pre, filter_op);
	}
	rcu_read_unlock();
	return set;
}

/* Whether two nodes have the same filters (or both none). */
bool fuse_bpf_same_filter(struct inode *a, struct inode *b)
{
	return rcu_access_pointer(get_fuse_inode(a)->bpf_filter) ==
	       rcu_access_pointer(get_fuse_inode(b)->bpf_filter);
}

/* Set the filters of a node (NULL: none); takes a reference. */
void fuse_bpf_set_filter(struct inode *inode, struct fuse_bpf_filter *filter)
{
	struct fuse_inode *fi = get_fuse_inode(inode);
	struct fuse_bpf_filter *old;

	fuse_bpf_filter_get(filter);
	spin_lock(&fi->lock);
	old = rcu_replace_pointer(fi->bpf_filter, filter,
				  lockdep_is_held(&fi->lock));
	spin_unlock(&fi->lock);
	fuse_bpf_filter_put(old);
}

/* A new reference to the filters of a node. */
struct fuse_bpf_filter *fuse_bpf_get_filter(struct inode *inode)
{
	struct fuse_inode *fi = get_fuse_inode(inode);
	struct fuse_bpf_filter *filter;

	spin_lock(&fi->lock);
	filter = rcu_dereference_protected(fi->bpf_filter,
					   lockdep_is_held(&fi->lock));
	fuse_bpf_filter_get(filter);
	spin_unlock(&fi->lock);
	return filter;
}

/* kfuncs */

__bpf_kfunc_start_defs();

/**
 * bpf_fuse_buf_dynptr() - read-only access to a variable-size argument
 * @buf: the argument
 * @ptr__uninit: the dynptr to set up
 *
 * Return: 0.
 */
__bpf_kfunc int bpf_fuse_buf_dynptr(struct fuse_bpf_rdonly_buf *buf,
				    struct bpf_dynptr *ptr__uninit)
{
	struct bpf_dynptr_kern *ptr = (struct bpf_dynptr_kern *)ptr__uninit;

	bpf_dynptr_init(ptr, buf->data, BPF_DYNPTR_TYPE_LOCAL, 0, buf->size);
	bpf_dynptr_set_rdonly(ptr);
	return 0;
}

/**
 * bpf_fuse_buf_rw_dynptr() - writable access to a variable-size argument
 * @buf: the argument
 * @size: its new size; the content is kept up to the smaller of the two
 * @ptr__uninit: the dynptr to set up
 *
 * Return: 0, -EROFS when the operation cannot honour a change of @buf,
 * -E2BIG when @size is larger than @buf->max_size, -ENOMEM. On error
 * @ptr__uninit is a null dynptr.
 */
__bpf_kfunc int bpf_fuse_buf_rw_dynptr(struct fuse_bpf_buf *buf, u64 size,
				       struct bpf_dynptr *ptr__uninit)
{
	struct bpf_dynptr_kern *ptr = (struct bpf_dynptr_kern *)ptr__uninit;
	int err = -EROFS;
	void *data;

	if (!buf->max_size)
		goto fail;
	err = -E2BIG;
	if (size > buf->max_size)
		goto fail;
	if (!(buf->flags & FUSE_BPF_BUF_OWNED)) {
		/* One byte more: names stay NUL-terminated. */
		err = -ENOMEM;
		data = kzalloc(buf->max_size + 1, GFP_NOWAIT | __GFP_NOWARN);
		if (!data)
			goto fail;
		memcpy(data, buf->ro.data, min_t(u64, size, buf->ro.size));
		buf->ro.data = data;
		buf->flags |= FUSE_BPF_BUF_OWNED;
	} else if (size > buf->ro.size) {
		memset(buf->ro.data + buf->ro.size, 0, size - buf->ro.size);
	} else {
		/* Shrunk: a string ends at its new size. */
		((char *)buf->ro.data)[size] = '\0';
	}
	buf->ro.size = size;
	buf->flags |= FUSE_BPF_BUF_CHANGED;
	bpf_dynptr_init(ptr, buf->ro.data, BPF_DYNPTR_TYPE_LOCAL, 0, size);
	return 0;
fail:
	bpf_dynptr_set_null(ptr);
	return err;
}

__bpf_kfunc_end_defs();

BTF_KFUNCS_START(fuse_bpf_kfunc_ids)
BTF_ID_FLAGS(func, bpf_fuse_buf_dynptr, KF_TRUSTED_ARGS)
BTF_ID_FLAGS(func, bpf_fuse_buf_rw_dynptr, KF_TRUSTED_ARGS)
BTF_KFUNCS_END(fuse_bpf_kfunc_ids)

BTF_ID_LIST(fuse_bpf_ops_type_ids)
BTF_ID(struct, fuse_bpf_prefilters)
BTF_ID(struct, fuse_bpf_postfilters)

/* fuse kfuncs for fuse filters only; other kfuncs are not ours to hide. */
static int fuse_bpf_kfunc_filter(const struct bpf_prog *prog, u32 kfunc_id)
{
	if (!btf_id_set8_contains(&fuse_bpf_kfunc_ids, kfunc_id))
		return 0;
	if (prog->type == BPF_PROG_TYPE_STRUCT_OPS &&
	    prog->aux->attach_btf == fuse_bpf_btf &&
	    (prog->aux->attach_btf_id == fuse_bpf_ops_type_ids[0] ||
	     prog->aux->attach_btf_id == fuse_bpf_ops_type_ids[1]))
		return 0;
	return -EACCES;
}

static const struct btf_kfunc_id_set fuse_bpf_kfunc_set = {
	.owner = THIS_MODULE,
	.set = &fuse_bpf_kfunc_ids,
	.filter = fuse_bpf_kfunc_filter,
};

/* struct_ops */

/* The id of the struct that pointer type @id points to, or 0. */
static u32 fuse_bpf_pointee(const struct btf *btf, u32 id)
{
	const struct btf_type *t = btf_type_resolve_ptr(btf, id, &id);

	return t && btf_type_is_struct(t) ? id : 0;
}

/*
 * Resolve the writable types' ids in @btf, and find for each callback of
 * the prefilters (@post: postfilters) the writable type among its
 * parameters: at most one, its fixed argument.
 */
static int fuse_bpf_ops_init(struct btf *btf, bool post)
{
	struct fuse_bpf_writable *w = post ? fuse_bpf_post_writable :
					     fuse_bpf_pre_writable;
	size_t nr = post ? ARRAY_SIZE(fuse_bpf_post_writable) :
			   ARRAY_SIZE(fuse_bpf_pre_writable);
	const char *ops = post ? "fuse_bpf_postfilters" : "fuse_bpf_prefilters";
	const struct btf_member *member;
	const struct btf_type *t, *proto;
	const struct btf_param *param;
	s32 id;
	u32 i, j, k;

	fuse_bpf_btf = btf;
	for (i = 0; i < nr; i++) {
		w[i].btf_id = btf_find_by_name_kind(btf, w[i].name,
						    BTF_KIND_STRUCT);
		if (w[i].btf_id < 0) {
			pr_warn("fuse-bpf: no struct %s in BTF\n", w[i].name);
			return w[i].btf_id;
		}
	}
	id = btf_find_by_name_kind(btf, ops, BTF_KIND_STRUCT);
	if (id < 0)
		return id;
	t = btf_type_by_id(btf, id);
	/* The callbacks, then the binding (struct fuse_bpf_binding). */
	if (btf_type_vlen(t) != FUSE_BPF_NR_OPS + 3)
		return -EINVAL;
	for_each_member(i, t, member) {
		if (i == FUSE_BPF_NR_OPS)
			break;
		proto = btf_type_resolve_func_ptr(btf, member->type, NULL);
		if (!proto)
			return -EINVAL;
		param = btf_params(proto);
		for (j = 0; j < btf_type_vlen(proto); j++) {
			id = fuse_bpf_pointee(btf, param[j].type);
			for (k = 0; id && k < nr; k++) {
				if (w[k].btf_id != id)
					continue;
				if (WARN_ON_ONCE(fuse_bpf_op_fields[post][i]))
					return -EINVAL;
				fuse_bpf_op_fields[post][i] = w[k].fields;
			}
		}
	}
	return 0;
}

static int fuse_bpf_pre_init(struct btf *btf)
{
	return fuse_bpf_ops_init(btf, false);
}

static int fuse_bpf_post_init(struct btf *btf)
{
	return fuse_bpf_ops_init(btf, true);
}

static bool fuse_bpf_is_valid_access(int off, int size,
				     enum bpf_access_type type,
				     const struct bpf_prog *prog,
				     struct bpf_insn_access_aux *info)
{
	return bpf_tracing_btf_ctx_access(off, size, type, prog, info);
}

/*
 * Writes a filter may make: to the fields of fuse_bpf_pre_writable (or
 * fuse_bpf_post_writable) of its type. A program reaches only the
 * arguments of its own callback, and of those at most one has a type of
 * the table: its fixed in-argument (or out-argument).
 */
static int fuse_bpf_struct_access(struct bpf_verifier_log *log,
				  const struct bpf_reg_state *reg, int off,
				  int size, bool post)
{
	const struct fuse_bpf_writable *w = post ? fuse_bpf_post_writable :
						   fuse_bpf_pre_writable;
	size_t nr = post ? ARRAY_SIZE(fuse_bpf_post_writable) :
			   ARRAY_SIZE(fuse_bpf_pre_writable);
	const struct btf_type *t = btf_type_by_id(reg->btf, reg->btf_id);
	const struct fuse_bpf_field *f;
	size_t i;

	for (i = 0; reg->btf == fuse_bpf_btf && i < nr; i++) {
		if (w[i].btf_id != reg->btf_id)
			continue;
		for (f = w[i].fields; f->size; f++)
			if (off >= f->off && off + size <= f->off + f->size)
				return NOT_INIT;
	}
	bpf_log(log, "%s may not write %s at %d: the operation does not use it\n",
		post ? "a postfilter" : "a prefilter",
		btf_name_by_offset(reg->btf, t->name_off), off);
	return -EACCES;
}

static int fuse_bpf_pre_struct_access(struct bpf_verifier_log *log,
				      const struct bpf_reg_state *reg,
				      int off, int size)
{
	return fuse_bpf_struct_access(log, reg, off, size, false);
}

static int fuse_bpf_post_struct_access(struct bpf_verifier_log *log,
				       const struct bpf_reg_state *reg,
				       int off, int size)
{
	return fuse_bpf_struct_access(log, reg, off, size, true);
}

static const struct bpf_verifier_ops fuse_bpf_pre_verifier_ops = {
	.get_func_proto = bpf_base_func_proto,
	.is_valid_access = fuse_bpf_is_valid_access,
	.btf_struct_access = fuse_bpf_pre_struct_access,
};

static const struct bpf_verifier_ops fuse_bpf_post_verifier_ops = {
	.get_func_proto = bpf_base_func_proto,
	.is_valid_access = fuse_bpf_is_valid_access,
	.btf_struct_access = fuse_bpf_post_struct_access,
};

/* Filters run under RCU, in the caller's context: never sleepable. */
static int fuse_bpf_check_member(const struct btf_type *t,
				 const struct btf_member *member,
				 const struct bpf_prog *prog)
{
	return prog->sleepable ? -EINVAL : 0;
}

/*
 * The members after the callbacks, the same in both types: the map's
 * binding to a connection.
 */
struct fuse_bpf_binding {
	int fuse_fd;
	u32 ops_id;
	struct fuse_bpf_ops_table *table;
};

/* Where @member of @type is, from the start of the binding. */
#define FUSE_BPF_BINDING_OFF(type, member)				\
	(offsetof(struct type, member) - offsetof(struct type, fuse_fd))

static_assert(FUSE_BPF_BINDING_OFF(fuse_bpf_prefilters, ops_id) ==
	      offsetof(struct fuse_bpf_binding, ops_id));
static_assert(FUSE_BPF_BINDING_OFF(fuse_bpf_prefilters, table) ==
	      offsetof(struct fuse_bpf_binding, table));
static_assert(FUSE_BPF_BINDING_OFF(fuse_bpf_postfilters, ops_id) ==
	      offsetof(struct fuse_bpf_binding, ops_id));
static_assert(FUSE_BPF_BINDING_OFF(fuse_bpf_postfilters, table) ==
	      offsetof(struct fuse_bpf_binding, table));
static_assert(offsetof(struct fuse_bpf_prefilters, fuse_fd) ==
	      offsetof(struct fuse_bpf_postfilters, fuse_fd));
#undef FUSE_BPF_BINDING_OFF

/* A binding being made: reg() claims it first. */
#define FUSE_BPF_BINDING_BUSY	((struct fuse_bpf_ops_table *)ERR_PTR(-EBUSY))

static struct fuse_bpf_binding *fuse_bpf_binding(void *kdata)
{
	return kdata + offsetof(struct fuse_bpf_prefilters, fuse_fd);
}

/* fuse_fd and ops_id come from the server, the callbacks are programs. */
static int fuse_bpf_init_member(const struct btf_type *t,
				const struct btf_member *member,
				void *kdata, const void *udata)
{
	u32 moff = __btf_member_bit_offset(t, member) / 8;

	switch (moff) {
	case offsetof(struct fuse_bpf_prefilters, fuse_fd):
		*(int *)(kdata + moff) = *(const int *)(udata + moff);
		return 1;
	case offsetof(struct fuse_bpf_prefilters, ops_id):
		*(u32 *)(kdata + moff) = *(const u32 *)(udata + moff);
		return 1;
	}
	return 0;
}

/*
 * The fuse-bpf connection that @fd of the calling process belongs to:
 * its /dev/fuse, or a file of the mount (O_PATH ones too). A new
 * reference, or an ERR_PTR().
 */
static struct fuse_conn *fuse_bpf_conn_get(int fd)
{
	struct fuse_conn *fc = NULL;
	struct super_block *sb;
	struct fuse_dev *fud;
	struct file *file;

	file = fget_raw(fd);
	if (!file)
		return ERR_PTR(-EBADF);
	if (file->f_op == &fuse_dev_operations) {
		/* Set once, at mount, as fuse_get_dev() says. */
		fud = READ_ONCE(file->private_data);
		if (fud)
			fc = fud->fc;
	} else {
		sb = file_inode(file)->i_sb;
		if (sb->s_root && sb->s_root->d_op == &fuse_root_dentry_operations)
			fc = get_fuse_conn_super(sb);
	}
	/* Pairs with the release in fuse_bpf_conn_init(). */
	if (fc && fc->fuse_bpf && smp_load_acquire(&fc->bpf_ops))
		fuse_conn_get(fc);
	else
		fc = ERR_PTR(-EINVAL);
	fput(file);
	return fc;
}

/*
 * Attach: the map serves its ops id of its connection from now on. The
 * connection is the one of fuse_fd in the attaching process (reg runs
 * in it); the map keeps its table of ops ids until unreg.
 */
static int fuse_bpf_reg(void *kdata, struct bpf_link *link, bool post)
{
	struct fuse_bpf_binding *b = fuse_bpf_binding(kdata);
	struct fuse_bpf_filter *filter;
	struct fuse_conn *fc;
	int err;

	/* A map serves its id while its link lives. */
	if (!link)
		return -EOPNOTSUPP;
	/* Filters decide what backing calls do with the server's creds. */
	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	/* One link, one binding: the core lets a map have several links. */
	if (cmpxchg(&b->table, NULL, FUSE_BPF_BINDING_BUSY))
		return -EBUSY;
	fc = fuse_bpf_conn_get(b->fuse_fd);
	if (IS_ERR(fc)) {
		err = PTR_ERR(fc);
		goto out_unclaim;
	}
	filter = fuse_bpf_ops_slot(fc->bpf_ops, b->ops_id, true);
	if (IS_ERR(filter)) {
		err = PTR_ERR(filter);
		goto out_put;
	}
	err = -EEXIST;

	spin_lock(&fc->bpf_ops->lock);
	if (post && !rcu_access_pointer(filter->post)) {
		rcu_assign_pointer(filter->post, kdata);
		err = 0;
	} else if (!post && !rcu_access_pointer(filter->pre)) {
		rcu_assign_pointer(filter->pre, kdata);
		err = 0;
	}
	if (!err) {
		refcount_inc(&fc->bpf_ops->count);
		WRITE_ONCE(b->table, fc->bpf_ops);
	}
	spin_unlock(&fc->bpf_ops->lock);
	fuse_bpf_filter_put(filter);
	if (!err)
		WRITE_ONCE(fc->bpf_filtered, true);
out_put:
	fuse_conn_put(fc);
out_unclaim:
	if (err)
		WRITE_ONCE(b->table, NULL);
	pr_debug("%s: ops_id=%u post=%d err=%d\n", __func__, b->ops_id, post,
		 err);
	return err;
}

/* Make the filters of @b's id use @new instead of @old (NULL: none). */
static void fuse_bpf_replace(struct fuse_bpf_binding *b, const void *old,
			     const void *new)
{
	struct fuse_bpf_filter *filter;

	spin_lock(&b->table->lock);
	filter = idr_find(&b->table->ids, b->ops_id);
	if (filter && rcu_access_pointer(filter->pre) == old)
		rcu_assign_pointer(filter->pre, new);
	if (filter && rcu_access_pointer(filter->post) == old)
		rcu_assign_pointer(filter->post, new);
	spin_unlock(&b->table->lock);
}

/*
 * Detach: the nodes of the id keep their filters without this map's
 * callbacks (without prefilters they refuse every operation); none runs
 * after unreg returns.
 */
static void fuse_bpf_unreg(void *kdata, struct bpf_link *link)
{
	struct fuse_bpf_binding *b = fuse_bpf_binding(kdata);
	struct fuse_bpf_ops_table *table = READ_ONCE(b->table);

	if (WARN_ON_ONCE(!table || table == FUSE_BPF_BINDING_BUSY))
		return;
	fuse_bpf_replace(b, kdata, NULL);
	synchronize_rcu();
	b->table = NULL;
	fuse_bpf_table_put(table);
}

/*
 * A link moved to another map of the same type (BPF_LINK_UPDATE), which
 * must name the same connection and id: the nodes use it from now on.
 */
static int fuse_bpf_update(void *kdata, void *old_kdata, struct bpf_link *link)
{
	struct fuse_bpf_binding *b = fuse_bpf_binding(kdata);
	struct fuse_bpf_binding *old = fuse_bpf_binding(old_kdata);
	struct fuse_bpf_ops_table *table;
	struct fuse_conn *fc;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	if (kdata == old_kdata)
		return 0;
	if (WARN_ON_ONCE(!old->table) || b->ops_id != old->ops_id)
		return -EINVAL;
	fc = fuse_bpf_conn_get(b->fuse_fd);
	if (IS_ERR(fc))
		return PTR_ERR(fc);
	table = fc->bpf_ops;
	fuse_conn_put(fc);
	if (table != old->table)
		return -EINVAL;
	/*
	 * The new map takes over the old one's reference to the table,
	 * unless it is bound through a link of its own.
	 */
	if (cmpxchg(&b->table, NULL, table))
		return -EBUSY;
	WRITE_ONCE(old->table, NULL);
	fuse_bpf_replace(b, old_kdata, kdata);
	/* The old map's programs are freed after a grace period. */
	return 0;
}

static int fuse_bpf_pre_reg(void *kdata, struct bpf_link *link)
{
	return fuse_bpf_reg(kdata, link, false);
}

static int fuse_bpf_post_reg(void *kdata, struct bpf_link *link)
{
	return fuse_bpf_reg(kdata, link, true);
}

/* CFI stubs: one per member, each with its own name. */
#define FUSE_BPF_OP(op, pre, pre_args, post, post_args)			\
static int fuse_bpf_pre_##op##_stub pre					\
{									\
	return 0;							\
}									\
static int fuse_bpf_post_##op##_stub post				\
{									\
	return 0;							\
}
#include <linux/fuse_bpf_ops.h>

static struct fuse_bpf_prefilters fuse_bpf_pre_stubs = {
#define FUSE_BPF_OP(op, pre, pre_args, post, post_args)			\
	.op = fuse_bpf_pre_##op##_stub,
#include <linux/fuse_bpf_ops.h>
};

static struct fuse_bpf_postfilters fuse_bpf_post_stubs = {
#define FUSE_BPF_OP(op, pre, pre_args, post, post_args)			\
	.op = fuse_bpf_post_##op##_stub,
#include <linux/fuse_bpf_ops.h>
};

static struct bpf_struct_ops fuse_bpf_pre_ops = {
	.verifier_ops = &fuse_bpf_pre_verifier_ops,
	.init = fuse_bpf_pre_init,
	.check_member = fuse_bpf_check_member,
	.init_member = fuse_bpf_init_member,
	.reg = fuse_bpf_pre_reg,
	.unreg = fuse_bpf_unreg,
	.update = fuse_bpf_update,
	.cfi_stubs = &fuse_bpf_pre_stubs,
	.name = "fuse_bpf_prefilters",
	.owner = THIS_MODULE,
};

static struct bpf_struct_ops fuse_bpf_post_ops = {
	.verifier_ops = &fuse_bpf_post_verifier_ops,
	.init = fuse_bpf_post_init,
	.check_member = fuse_bpf_check_member,
	.init_member = fuse_bpf_init_member,
	.reg = fuse_bpf_post_reg,
	.unreg = fuse_bpf_unreg,
	.update = fuse_bpf_update,
	.cfi_stubs = &fuse_bpf_post_stubs,
	.name = "fuse_bpf_postfilters",
	.owner = THIS_MODULE,
};

/*
 * A failure leaves fuse-bpf without the filter types not registered yet
 * (prefilters may work without postfilters), never fuse without fuse-bpf.
 */
void fuse_bpf_init(void)
{
	int err;

	/* Programs use the return values by name, from vmlinux.h. */
	BTF_TYPE_EMIT_ENUM(FUSE_BPF_CONTINUE);
	err = register_btf_kfunc_id_set(BPF_PROG_TYPE_STRUCT_OPS,
					&fuse_bpf_kfunc_set);
	if (!err)
		err = register_bpf_struct_ops(&fuse_bpf_pre_ops,
					      fuse_bpf_prefilters);
	if (!err)
		err = register_bpf_struct_ops(&fuse_bpf_post_ops,
					      fuse_bpf_postfilters);
	if (err)
		pr_warn("fuse-bpf: no BPF filters: %d\n", err);
	else
		fuse_bpf_registered = true;
}
