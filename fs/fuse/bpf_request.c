// SPDX-License-Identifier: GPL-2.0
/*
 * fuse-bpf: request programs, the request-level model.
 *
 * A server attaches one struct fuse_bpf_request_ops map to its own
 * connection. Its @request callback runs in __fuse_simple_request() for
 * every request of the connection, classic mounts included, before the
 * request is queued: it sees the request's arguments as they are, and may
 * answer it itself, fail it, or let it go to the server, optionally asking
 * to see (and edit) the server's reply in its @reply callback. A request
 * it answers never reaches the server.
 *
 * The filters of bpf_ops.c and these are independent: a backed node's
 * operation that a prefilter sends to the server becomes a request like
 * any other, and passes here.
 */

#include "bpf_internal.h"

#include <linux/bpf.h>
#include <linux/bpf_verifier.h>
#include <linux/btf.h>
#include <linux/btf_ids.h>
#include <linux/filter.h>
#include <linux/fuse_bpf_request.h>
#include <linux/highmem.h>
#include <linux/namei.h>
#include <linux/srcu.h>

/* Enabled by the first request program attached, never disabled. */
DEFINE_STATIC_KEY_FALSE(fuse_bpf_request_attached);

/**
 * struct fuse_bpf_req_slot - where a connection's request program is
 * @ops: the attached map, NULL when none
 * @srcu: the callbacks run under it (they may sleep); a detach waits for
 *	the connection's callbacks, never for another connection's
 * @count: references: the connection and the attached map
 *
 * Its own object, not part of struct fuse_conn, for the reason of struct
 * fuse_bpf_ops_table: an attached map must not keep the connection.
 */
struct fuse_bpf_req_slot {
	const struct fuse_bpf_request_ops __rcu *ops;
	struct srcu_struct srcu;
	refcount_t count;
};

static void fuse_bpf_req_slot_put(struct fuse_bpf_req_slot *slot)
{
	if (slot && refcount_dec_and_test(&slot->count)) {
		cleanup_srcu_struct(&slot->srcu);
		kfree(slot);
	}
}

/**
 * struct fuse_bpf_req_ctx - a request, while its programs run
 * @req: what the programs see
 * @fc: the connection
 * @args: the request
 * @in_data: where each in-argument's bytes are, NULL when programs cannot
 *	see them (data in several pages)
 * @in_len: how many of them programs see
 * @out_data: where each out-argument's bytes are, likewise
 * @out_max: the size of each out-argument, the largest reply for the
 *	variable-size one
 * @out_ready: how many bytes of each out-argument are initialized: the
 *	server's reply, or zeroes the kernel wrote before a program got them
 * @out_len: the size a program gave each out-argument
 * @out_set: out-arguments a program got writable
 * @watched: the server was asked, @reply runs on its reply
 */
struct fuse_bpf_req_ctx {
	struct fuse_bpf_request req;
	struct fuse_conn *fc;
	struct fuse_args *args;
	void *in_data[FUSE_BPF_MAX_IN_ARGS];
	u32 in_len[FUSE_BPF_MAX_IN_ARGS];
	void *out_data[FUSE_BPF_MAX_OUT_ARGS];
	u32 out_max[FUSE_BPF_MAX_OUT_ARGS];
	u32 out_ready[FUSE_BPF_MAX_OUT_ARGS];
	u32 out_len[FUSE_BPF_MAX_OUT_ARGS];
	u32 out_set;
	bool watched;
};

/* A bound of dynptrs, which the BPF core keeps to itself. */
#define FUSE_BPF_REQ_MAX_SIZE	((1U << 24) - 1)

/*
 * The bytes of the paged argument of @args: programs see them when they
 * are in one page of the kernel's (never a caller's pages, as O_DIRECT
 * uses) that has an address. Its size is at most @len (the page's part).
 */
static void *fuse_bpf_req_page_data(struct fuse_args *args, u32 *len)
{
	struct fuse_args_pages *ap = container_of(args, typeof(*ap), args);
	struct page *page;

	if (args->user_pages || ap->num_pages != 1)
		return NULL;
	page = ap->pages[0];
	/* Not kmap()ed: programs may sleep, and 64-bit has no highmem. */
	if (PageHighMem(page))
		return NULL;
	*len = ap->descs[0].length;
	return page_address(page) + ap->descs[0].offset;
}

/*
 * Where the arguments' bytes are, and how many a program may reach. Found
 * again after the server's reply: a reply spliced with SPLICE_F_MOVE
 * replaces the page of a READ (fuse_try_move_page()).
 */
static void fuse_bpf_req_map_args(struct fuse_bpf_req_ctx *ctx)
{
	struct fuse_args *args = ctx->args;
	unsigned int i;
	u32 len;

	for (i = 0; i < args->in_numargs; i++) {
		len = args->in_args[i].size;
		if (args->in_pages && i == args->in_numargs - 1)
			ctx->in_data[i] = fuse_bpf_req_page_data(args, &len);
		else
			ctx->in_data[i] = (void *)args->in_args[i].value;
		ctx->in_len[i] = min3(len, args->in_args[i].size,
				      FUSE_BPF_REQ_MAX_SIZE);
	}
	for (i = 0; i < args->out_numargs; i++) {
		len = ctx->out_max[i];
		if (!args->out_pages || i != args->out_numargs - 1)
			ctx->out_data[i] = args->out_args[i].value;
		else if (!args->in_pages)
			ctx->out_data[i] = fuse_bpf_req_page_data(args, &len);
		else
			/* IOCTL: in and out share the pages; in is read-only. */
			ctx->out_data[i] = NULL;
		ctx->out_max[i] = min3(len, ctx->out_max[i],
				       FUSE_BPF_REQ_MAX_SIZE);
	}
}

static void fuse_bpf_req_init(struct fuse_bpf_req_ctx *ctx,
			      struct fuse_mount *fm, struct fuse_args *args,
			      u32 uid, u32 gid)
{
	struct fuse_conn *fc = fm->fc;
	unsigned int i;

	memset(ctx, 0, sizeof(*ctx));
	ctx->fc = fc;
	ctx->args = args;
	ctx->req.opcode = args->opcode;
	ctx->req.nodeid = args->nodeid;
	ctx->req.uid = uid;
	ctx->req.gid = gid;
	ctx->req.pid = pid_nr_ns(task_pid(current), fc->pid_ns);
	ctx->req.in_numargs = args->in_numargs;
	ctx->req.out_numargs = args->out_numargs;
	for (i = 0; i < args->out_numargs; i++)
		ctx->out_max[i] = args->out_args[i].size;
	fuse_bpf_req_map_args(ctx);
	for (i = 0; i < args->in_numargs; i++)
		ctx->req.in_size[i] = ctx->in_len[i];
	for (i = 0; i < args->out_numargs; i++)
		ctx->req.out_size[i] = ctx->out_max[i];
}

/*
 * The program answered: every out-argument it did not write is zeroes
 * (nothing of the caller's stack or of a fresh page reaches the caller),
 * the variable-size one has the size the program gave it. The result is
 * that of __fuse_simple_request().
 */
static ssize_t fuse_bpf_req_replied(struct fuse_bpf_req_ctx *ctx)
{
	struct fuse_args *args = ctx->args;
	unsigned int i;

	for (i = 0; i < args->out_numargs; i++) {
		bool var = args->out_argvar && i == args->out_numargs - 1;
		u32 len = var ? ctx->out_len[i] : ctx->out_max[i];

		if (!ctx->out_data[i]) {
			/*
			 * Never writable: the server's reply, if it gave one,
			 * stays; without one the program cannot answer (no
			 * silent empty READ).
			 */
			if (!ctx->watched || !var || ctx->req.error)
				return -EIO;
			continue;
		}
		if (ctx->out_ready[i] < len)
			memset(ctx->out_data[i] + ctx->out_ready[i], 0,
			       len - ctx->out_ready[i]);
		if (var)
			args->out_args[i].size = len;
	}
	if (args->out_argvar)
		return args->out_args[args->out_numargs - 1].size;
	return 0;
}

/*
 * What a callback may return: a decision, or an errno a server may give
 * (above -512: no kernel-internal ones such as -ERESTARTSYS or
 * -EIOCBQUEUED, which must never reach the VFS from here).
 */
static bool fuse_bpf_req_valid_ret(int ret, bool reply)
{
	if (ret < 0)
		return ret > -ERESTARTSYS;
	if (reply)
		return ret == FUSE_BPF_REQ_SEND || ret == FUSE_BPF_REQ_REPLIED;
	return ret <= FUSE_BPF_REQ_SEND_WATCH;
}

/*
 * Send the request to the server (the hook does not run again for it),
 * then run the @reply callback of the map attached by then, if any: the
 * server may be the one detaching it, so nothing is held while it works.
 */
static ssize_t fuse_bpf_req_send_watch(struct mnt_idmap *idmap,
				       struct fuse_mount *fm,
				       struct fuse_bpf_req_slot *slot,
				       struct fuse_bpf_req_ctx *ctx)
{
	const struct fuse_bpf_request_ops *ops;
	struct fuse_args *args = ctx->args;
	unsigned int i;
	ssize_t ret;
	int idx, res;

	args->bpf_seen = 1;
	ret = __fuse_simple_request(idmap, fm, args);
	args->bpf_seen = 0;
	ctx->watched = true;
	fuse_bpf_req_map_args(ctx);

	/*
	 * Nothing the request callback wrote is kept: the server's reply,
	 * of the size the server gave it (0 after an error).
	 */
	for (i = 0; i < args->out_numargs; i++) {
		ctx->out_len[i] = ret < 0 ? 0 : args->out_args[i].size;
		ctx->out_ready[i] = ctx->out_len[i];
		ctx->req.out_size[i] = ctx->out_len[i];
	}
	ctx->out_set = 0;
	ctx->req.error = ret < 0 ? ret : 0;

	idx = srcu_read_lock(&slot->srcu);
	ops = srcu_dereference(slot->ops, &slot->srcu);
	if (ops && ops->reply) {
		res = ops->reply(&ctx->req);
		if (!fuse_bpf_req_valid_ret(res, true)) {
			pr_warn_ratelimited("fuse-bpf: reply program returned %d for opcode %u\n",
					    res, args->opcode);
			ret = -EIO;
		} else if (res < 0) {
			ret = res;
		} else if (res == FUSE_BPF_REQ_REPLIED ||
			   (ret >= 0 && ctx->out_set)) {
			/* Its own answer, or the server's with its edits. */
			ret = fuse_bpf_req_replied(ctx);
		}
	}
	srcu_read_unlock(&slot->srcu, idx);
	return ret;
}

/*
 * Requests a program may not answer: those that end what the server
 * counts (FORGET, RELEASE and RELEASEDIR: an answer would leave its node
 * references and open handles behind), DESTROY (a fuseblk umount waits
 * for the server's), and those sent for no caller or without a reply.
 */
static bool fuse_bpf_req_answerable(const struct fuse_args *args)
{
	if (args->nocreds || args->noreply)
		return false;
	switch (args->opcode) {
	case FUSE_FORGET:
	case FUSE_RELEASE:
	case FUSE_RELEASEDIR:
	case FUSE_DESTROY:
		return false;
	}
	return true;
}

/*
 * The caller's ids as the server gets them, from fuse_get_req() and
 * fuse_force_creds(): false when fuse_get_req() refuses the caller.
 */
static bool fuse_bpf_req_ids(struct fuse_mount *fm, struct mnt_idmap *idmap,
			     const struct fuse_args *args, u32 *uid, u32 *gid)
{
	struct fuse_conn *fc = fm->fc;
	bool no_idmap = !fm->sb || (fm->sb->s_iflags & SB_I_NOIDMAP);

	if (args->force) {
		*uid = no_idmap ? from_kuid_munged(fc->user_ns, current_fsuid()) :
				  FUSE_INVALID_UIDGID;
		*gid = no_idmap ? from_kgid_munged(fc->user_ns, current_fsgid()) :
				  FUSE_INVALID_UIDGID;
		return true;
	}
	if (no_idmap && fc->user_ns == &init_user_ns) {
		/* The ids are the initial namespace's, all mapped. */
		*uid = __kuid_val(current_fsuid());
		*gid = __kgid_val(current_fsgid());
		return true;
	}
	*uid = from_kuid(fc->user_ns, no_idmap ? current_fsuid() :
				      mapped_fsuid(idmap, fc->user_ns));
	*gid = from_kgid(fc->user_ns, no_idmap ? current_fsgid() :
				      mapped_fsgid(idmap, fc->user_ns));
	return !no_idmap || (*uid != (u32)-1 && *gid != (u32)-1);
}

/**
 * __fuse_bpf_request() - run the connection's request program
 * @res: the result of the request, when the program decided it
 * @idmap: the idmap of the request, for the server
 * @fm: the mount
 * @args: the request
 *
 * Return: false when the request is to go to the server as usual.
 */
bool __fuse_bpf_request(ssize_t *res, struct mnt_idmap *idmap,
			struct fuse_mount *fm, struct fuse_args *args)
{
	const struct fuse_bpf_request_ops *ops;
	struct fuse_conn *fc = fm->fc;
	struct fuse_bpf_req_slot *slot = READ_ONCE(fc->bpf_req);
	struct fuse_bpf_req_ctx ctx;
	bool served = true;
	int idx, ret;
	u32 uid, gid;

	if (!slot || !fuse_bpf_req_answerable(args))
		return false;
	/*
	 * What fuse_get_req() would refuse or wait for is left to it: no
	 * answer before INIT (the sizes depend on the server's minor), after
	 * an abort, or for a caller the connection cannot name.
	 */
	if (!READ_ONCE(fc->initialized))
		return false;
	/* Pairs with the smp_wmb() in fuse_set_initialized(). */
	smp_rmb();
	if (!READ_ONCE(fc->connected) || fc->conn_error)
		return false;
	if (!fuse_bpf_req_ids(fm, idmap, args, &uid, &gid))
		return false;

	idx = srcu_read_lock(&slot->srcu);
	ops = srcu_dereference(slot->ops, &slot->srcu);
	if (!ops || !ops->request) {
		srcu_read_unlock(&slot->srcu, idx);
		return false;
	}
	fuse_bpf_req_init(&ctx, fm, args, uid, gid);
	ret = ops->request(&ctx.req);
	srcu_read_unlock(&slot->srcu, idx);

	if (!fuse_bpf_req_valid_ret(ret, false)) {
		pr_warn_ratelimited("fuse-bpf: request program returned %d for opcode %u\n",
				    ret, args->opcode);
		*res = -EIO;
	} else if (ret < 0) {
		*res = ret;
	} else if (ret == FUSE_BPF_REQ_REPLIED) {
		*res = fuse_bpf_req_replied(&ctx);
	} else if (ret == FUSE_BPF_REQ_SEND_WATCH) {
		/* Nothing it wrote is kept: the server answers. */
		*res = fuse_bpf_req_send_watch(idmap, fm, slot, &ctx);
	} else {
		served = false;
	}
	pr_debug("%s: opcode=%u nodeid=%llu ret=%d\n", __func__, args->opcode,
		 args->nodeid, ret);
	return served;
}

void fuse_bpf_req_conn_free(struct fuse_conn *fc)
{
	fuse_bpf_req_slot_put(fc->bpf_req);
}

/* kfuncs */

__bpf_kfunc_start_defs();

/**
 * bpf_fuse_req_in_dynptr() - read-only access to an in-argument
 * @req: the request
 * @i: which in-argument, below @req->in_numargs
 * @ptr__uninit: the dynptr to set up, of @req->in_size[@i] bytes
 *
 * Return: 0, -EINVAL for no such argument, -EOPNOTSUPP when its data is
 * not where a program may see it (the data of a WRITE in several pages).
 * On error @ptr__uninit is a null dynptr.
 */
__bpf_kfunc int bpf_fuse_req_in_dynptr(struct fuse_bpf_request *req, u32 i,
				       struct bpf_dynptr *ptr__uninit)
{
	struct fuse_bpf_req_ctx *ctx = container_of(req, typeof(*ctx), req);
	struct bpf_dynptr_kern *ptr = (struct bpf_dynptr_kern *)ptr__uninit;
	int err = -EINVAL;

	if (i >= req->in_numargs)
		goto fail;
	err = -EOPNOTSUPP;
	if (!ctx->in_data[i])
		goto fail;
	bpf_dynptr_init(ptr, ctx->in_data[i], BPF_DYNPTR_TYPE_LOCAL, 0,
			req->in_size[i]);
	bpf_dynptr_set_rdonly(ptr);
	return 0;
fail:
	bpf_dynptr_set_null(ptr);
	return err;
}

/**
 * bpf_fuse_req_out_dynptr() - writable access to an out-argument
 * @req: the request
 * @i: which out-argument, below @req->out_numargs
 * @size: its size: @req->out_size[@i] for a fixed-size argument, at most
 *	that for the variable-size last one of a request that has one
 *	(READ, READDIR, READLINK, GETXATTR, LISTXATTR...)
 * @ptr__uninit: the dynptr to set up, of @size bytes
 *
 * In the @request callback the argument starts as zeroes; in @reply it
 * holds the server's reply (zeroes past it). What the program writes is
 * the reply the caller gets if the callback returns
 * %FUSE_BPF_REQ_REPLIED (or, in @reply, %FUSE_BPF_REQ_SEND after the
 * server replied without error); the last @size given is the reply's
 * size.
 *
 * Return: 0, -EINVAL for no such argument or a wrong size of a fixed one,
 * -E2BIG for a size past the request's, -EOPNOTSUPP when the argument is
 * not where a program may write it. On error @ptr__uninit is a null
 * dynptr.
 */
__bpf_kfunc int bpf_fuse_req_out_dynptr(struct fuse_bpf_request *req, u32 i,
					u64 size,
					struct bpf_dynptr *ptr__uninit)
{
	struct fuse_bpf_req_ctx *ctx = container_of(req, typeof(*ctx), req);
	struct bpf_dynptr_kern *ptr = (struct bpf_dynptr_kern *)ptr__uninit;
	struct fuse_args *args = ctx->args;
	int err = -EINVAL;
	bool var;

	if (i >= req->out_numargs)
		goto fail;
	var = args->out_argvar && i == args->out_numargs - 1;
	if (!var && size != ctx->out_max[i])
		goto fail;
	err = -E2BIG;
	if (size > ctx->out_max[i])
		goto fail;
	err = -EOPNOTSUPP;
	if (!ctx->out_data[i])
		goto fail;
	if (size > ctx->out_ready[i]) {
		memset(ctx->out_data[i] + ctx->out_ready[i], 0,
		       size - ctx->out_ready[i]);
		ctx->out_ready[i] = size;
	}
	ctx->out_len[i] = size;
	ctx->out_set |= BIT(i);
	bpf_dynptr_init(ptr, ctx->out_data[i], BPF_DYNPTR_TYPE_LOCAL, 0, size);
	return 0;
fail:
	bpf_dynptr_set_null(ptr);
	return err;
}

/**
 * bpf_fuse_backing_acquire() - a backing file the server registered
 * @req: a request of the connection
 * @backing_id: its id, from %FUSE_DEV_IOC_BACKING_OPEN
 *
 * The program holds the backing until it releases it with
 * bpf_fuse_backing_release(), or keeps it in a map (a kptr, released
 * when the map entry or the map goes). It keeps the file open, also after
 * the server closed the id.
 *
 * Return: a new reference, or NULL when the connection has no such id.
 */
__bpf_kfunc struct fuse_backing *
bpf_fuse_backing_acquire(struct fuse_bpf_request *req, u32 backing_id)
{
	struct fuse_bpf_req_ctx *ctx = container_of(req, typeof(*ctx), req);
	struct fuse_backing *fb;

	if (!backing_id || backing_id > INT_MAX)
		return NULL;
	rcu_read_lock();
	fb = fuse_backing_get(idr_find(&ctx->fc->backing_files_map,
				       backing_id));
	rcu_read_unlock();
	return fb;
}

/**
 * bpf_fuse_backing_release() - release a backing a program held
 * @fb: the backing
 */
__bpf_kfunc void bpf_fuse_backing_release(struct fuse_backing *fb)
{
	fuse_backing_put(fb);
}

__bpf_kfunc void bpf_fuse_backing_release_dtor(void *fb)
{
	fuse_backing_put(fb);
}
CFI_NOSEAL(bpf_fuse_backing_release_dtor);

/*
 * Open flags a program may use: read-only (nothing it holds is written, and
 * a file held open for writing would keep ETXTBSY, a read-only remount or
 * a lease from others).
 */
#define FUSE_BPF_OPEN_FLAGS	(O_DIRECTORY | O_NOFOLLOW | O_LARGEFILE)

/*
 * Open @name beneath @dir as overlayfs opens a layer's file: look up,
 * check the permission, open; as the current credentials.
 */
static struct file *fuse_bpf_open_beneath(const struct path *dir,
					  const char *name, u32 flags)
{
	unsigned int lookup = LOOKUP_BENEATH | LOOKUP_NO_XDEV |
			      LOOKUP_NO_MAGICLINKS;
	struct file *file;
	struct path path;
	int err;

	if (!(flags & O_NOFOLLOW))
		lookup |= LOOKUP_FOLLOW;
	err = vfs_path_lookup(dir->dentry, dir->mnt, name, lookup, &path);
	if (err)
		return ERR_PTR(err);
	/* Files and directories only: no devices, fifos or sockets. */
	err = d_is_symlink(path.dentry) ? -ELOOP : -EACCES;
	if (!d_is_reg(path.dentry) && !d_is_dir(path.dentry))
		goto out;
	err = -ENOTDIR;
	if ((flags & O_DIRECTORY) && !d_is_dir(path.dentry))
		goto out;
	err = inode_permission(mnt_idmap(path.mnt), d_inode(path.dentry),
			       MAY_READ | MAY_OPEN);
	if (err)
		goto out;
	file = dentry_open(&path, flags & ~O_NOFOLLOW, current_cred());
	path_put(&path);
	return file;
out:
	path_put(&path);
	return ERR_PTR(err);
}

/**
 * bpf_fuse_backing_open() - open a path beneath a held directory
 * @req: a request of the connection
 * @dir: a backing directory the program holds
 * @name: a path relative to @dir that stays beneath it: no "..", absolute
 *	symlink or mount crossing leads out (-EXDEV)
 * @name__sz: its size; it ends there or at a NUL
 * @flags: O_RDONLY, with O_DIRECTORY or O_NOFOLLOW
 *
 * Opens a file or directory (nothing else) for reading, with the
 * credentials @dir was registered with, checking the permission as the
 * server could; the new backing has those credentials too. "Beneath" is
 * of the path: a hard link beneath @dir to a file elsewhere opens that
 * file, as it would for the server. Sleepable: only the @request callback
 * may call it.
 *
 * Return: a new reference, or NULL on any error.
 */
__bpf_kfunc struct fuse_backing *
bpf_fuse_backing_open(struct fuse_bpf_request *req, struct fuse_backing *dir,
		      const char *name, u32 name__sz, u32 flags)
{
	const struct cred *old_cred;
	struct fuse_backing *fb;
	struct file *file;
	char *path;

	if (flags & ~FUSE_BPF_OPEN_FLAGS || !name__sz ||
	    !d_is_dir(dir->file->f_path.dentry))
		return NULL;
	path = kmemdup_nul(name, name__sz, GFP_KERNEL);
	if (!path)
		return NULL;
	fb = kzalloc(sizeof(*fb), GFP_KERNEL);
	if (!fb)
		goto out;
	old_cred = override_creds(dir->cred);
	file = fuse_bpf_open_beneath(&dir->file->f_path, path, flags);
	revert_creds(old_cred);
	if (IS_ERR(file)) {
		pr_debug("%s: %s: %ld\n", __func__, path, PTR_ERR(file));
		kfree(fb);
		fb = NULL;
		goto out;
	}
	fb->file = file;
	fb->cred = get_new_cred(dir->cred);
	refcount_set(&fb->count, 1);
out:
	kfree(path);
	return fb;
}

/**
 * bpf_fuse_backing_getattr() - the attributes of a held backing
 * @req: a request of the connection
 * @fb: the backing
 * @attr: a struct fuse_attr to fill, as a server's reply carries it (ids
 *	in the connection's user namespace)
 * @attr__sz: sizeof(struct fuse_attr)
 *
 * Reads them with the backing's credentials. Sleepable.
 *
 * Return: 0, -EINVAL for a wrong size, or the error of the backing file
 * system.
 */
__bpf_kfunc int bpf_fuse_backing_getattr(struct fuse_bpf_request *req,
					 struct fuse_backing *fb, void *attr,
					 u32 attr__sz)
{
	struct fuse_bpf_req_ctx *ctx = container_of(req, typeof(*ctx), req);
	struct fuse_attr *out = attr;
	const struct cred *old_cred;
	struct kstat stat;
	int err;

	if (attr__sz != sizeof(*out))
		return -EINVAL;
	old_cred = override_creds(fb->cred);
	err = vfs_getattr(&fb->file->f_path, &stat, STATX_BASIC_STATS,
			  AT_STATX_SYNC_AS_STAT);
	revert_creds(old_cred);
	if (err)
		return err;
	memset(out, 0, sizeof(*out));
	fuse_bpf_stat_to_attr(&stat, out);
	out->uid = from_kuid_munged(ctx->fc->user_ns, stat.uid);
	out->gid = from_kgid_munged(ctx->fc->user_ns, stat.gid);
	return 0;
}

__bpf_kfunc_end_defs();

BTF_KFUNCS_START(fuse_bpf_req_kfunc_ids)
BTF_ID_FLAGS(func, bpf_fuse_req_in_dynptr, KF_TRUSTED_ARGS)
BTF_ID_FLAGS(func, bpf_fuse_req_out_dynptr, KF_TRUSTED_ARGS)
BTF_ID_FLAGS(func, bpf_fuse_backing_acquire,
	     KF_ACQUIRE | KF_RET_NULL | KF_TRUSTED_ARGS)
BTF_ID_FLAGS(func, bpf_fuse_backing_release, KF_RELEASE)
BTF_ID_FLAGS(func, bpf_fuse_backing_open,
	     KF_ACQUIRE | KF_RET_NULL | KF_TRUSTED_ARGS | KF_SLEEPABLE)
BTF_ID_FLAGS(func, bpf_fuse_backing_getattr, KF_TRUSTED_ARGS | KF_SLEEPABLE)
BTF_KFUNCS_END(fuse_bpf_req_kfunc_ids)

/* Backings kept in maps are released by the map. */
BTF_ID_LIST(fuse_bpf_req_dtor_ids)
BTF_ID(struct, fuse_backing)
BTF_ID(func, bpf_fuse_backing_release_dtor)

BTF_ID_LIST_SINGLE(fuse_bpf_req_ops_type_id, struct, fuse_bpf_request_ops)

/* The BTF the type is of: fuse's, vmlinux's or the module's. */
static const struct btf *fuse_bpf_req_btf __ro_after_init;

/* Request kfuncs for request programs only; other kfuncs are not ours. */
static int fuse_bpf_req_kfunc_filter(const struct bpf_prog *prog,
				     u32 kfunc_id)
{
	if (!btf_id_set8_contains(&fuse_bpf_req_kfunc_ids, kfunc_id))
		return 0;
	if (prog->type == BPF_PROG_TYPE_STRUCT_OPS &&
	    prog->aux->attach_btf == fuse_bpf_req_btf &&
	    prog->aux->attach_btf_id == fuse_bpf_req_ops_type_id[0])
		return 0;
	return -EACCES;
}

static const struct btf_kfunc_id_set fuse_bpf_req_kfunc_set = {
	.owner = THIS_MODULE,
	.set = &fuse_bpf_req_kfunc_ids,
	.filter = fuse_bpf_req_kfunc_filter,
};

/* struct_ops */

static int fuse_bpf_req_ops_init(struct btf *btf)
{
	fuse_bpf_req_btf = btf;
	return 0;
}

static bool fuse_bpf_req_is_valid_access(int off, int size,
					 enum bpf_access_type type,
					 const struct bpf_prog *prog,
					 struct bpf_insn_access_aux *info)
{
	return bpf_tracing_btf_ctx_access(off, size, type, prog, info);
}

/* The request is read-only: replies are written through kfuncs. */
static int fuse_bpf_req_struct_access(struct bpf_verifier_log *log,
				      const struct bpf_reg_state *reg,
				      int off, int size)
{
	bpf_log(log, "a request program may not write the request\n");
	return -EACCES;
}

static const struct bpf_verifier_ops fuse_bpf_req_verifier_ops = {
	.get_func_proto = bpf_base_func_proto,
	.is_valid_access = fuse_bpf_req_is_valid_access,
	.btf_struct_access = fuse_bpf_req_struct_access,
};

/* Only @request may sleep: it runs before anything is queued. */
static int fuse_bpf_req_check_member(const struct btf_type *t,
				     const struct btf_member *member,
				     const struct bpf_prog *prog)
{
	u32 moff = __btf_member_bit_offset(t, member) / 8;

	if (prog->sleepable &&
	    moff != offsetof(struct fuse_bpf_request_ops, request))
		return -EINVAL;
	return 0;
}

/* Serializes attaching and detaching: slot->ops and each map's ->slot. */
static DEFINE_MUTEX(fuse_bpf_req_lock);

static int fuse_bpf_req_init_member(const struct btf_type *t,
				    const struct btf_member *member,
				    void *kdata, const void *udata)
{
	const struct fuse_bpf_request_ops *uops = udata;
	struct fuse_bpf_request_ops *ops = kdata;
	u32 moff = __btf_member_bit_offset(t, member) / 8;

	switch (moff) {
	case offsetof(struct fuse_bpf_request_ops, fuse_fd):
		ops->fuse_fd = uops->fuse_fd;
		return 1;
	case offsetof(struct fuse_bpf_request_ops, flags):
		/* None defined yet. */
		return uops->flags ? -EINVAL : 1;
	}
	return 0;
}

/*
 * The connection that /dev/fuse file @fd of the calling process serves,
 * a new reference: a request program is its server's, so only the server's
 * own handle names it.
 */
static struct fuse_conn *fuse_bpf_req_conn_get(int fd)
{
	struct fuse_conn *fc = ERR_PTR(-EINVAL);
	struct fuse_dev *fud;
	struct file *file;

	file = fget(fd);
	if (!file)
		return ERR_PTR(-EBADF);
	if (file->f_op == &fuse_dev_operations) {
		/* Set once, at mount, as fuse_get_dev() says. */
		fud = READ_ONCE(file->private_data);
		if (fud)
			fc = fuse_conn_get(fud->fc);
	}
	fput(file);
	return fc;
}

/* The slot of @fc, made on first use. */
static struct fuse_bpf_req_slot *fuse_bpf_req_slot_get(struct fuse_conn *fc)
{
	struct fuse_bpf_req_slot *slot = READ_ONCE(fc->bpf_req), *new;

	if (slot)
		return slot;
	new = kzalloc(sizeof(*new), GFP_KERNEL);
	if (!new)
		return ERR_PTR(-ENOMEM);
	if (init_srcu_struct(&new->srcu)) {
		kfree(new);
		return ERR_PTR(-ENOMEM);
	}
	/* The connection's reference. */
	refcount_set(&new->count, 1);
	slot = cmpxchg(&fc->bpf_req, NULL, new);
	if (slot) {
		fuse_bpf_req_slot_put(new);
		return slot;
	}
	return new;
}

static int fuse_bpf_req_reg(void *kdata, struct bpf_link *link)
{
	struct fuse_bpf_request_ops *ops = kdata;
	struct fuse_bpf_req_slot *slot;
	struct fuse_conn *fc;
	int err;

	/* A map serves its connection while its link lives. */
	if (!link)
		return -EOPNOTSUPP;
	/* As registering a backing file: it answers for every caller. */
	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	fc = fuse_bpf_req_conn_get(ops->fuse_fd);
	if (IS_ERR(fc))
		return PTR_ERR(fc);
	mutex_lock(&fuse_bpf_req_lock);
	/* One link, one binding: the core lets a map have several links. */
	err = -EBUSY;
	if (ops->slot)
		goto out;
	slot = fuse_bpf_req_slot_get(fc);
	if (IS_ERR(slot)) {
		err = PTR_ERR(slot);
		goto out;
	}
	err = -EEXIST;
	if (rcu_access_pointer(slot->ops))
		goto out;
	refcount_inc(&slot->count);
	ops->slot = slot;
	if (!static_key_enabled(&fuse_bpf_request_attached))
		static_branch_enable(&fuse_bpf_request_attached);
	rcu_assign_pointer(slot->ops, ops);
	err = 0;
out:
	mutex_unlock(&fuse_bpf_req_lock);
	fuse_conn_put(fc);
	pr_debug("%s: err=%d\n", __func__, err);
	return err;
}

/* Detach: no callback of the map runs after unreg returns. */
static void fuse_bpf_req_unreg(void *kdata, struct bpf_link *link)
{
	struct fuse_bpf_request_ops *ops = kdata;
	struct fuse_bpf_req_slot *slot;

	mutex_lock(&fuse_bpf_req_lock);
	slot = ops->slot;
	ops->slot = NULL;
	if (slot && rcu_access_pointer(slot->ops) == ops)
		RCU_INIT_POINTER(slot->ops, NULL);
	mutex_unlock(&fuse_bpf_req_lock);
	if (WARN_ON_ONCE(!slot))
		return;
	synchronize_srcu(&slot->srcu);
	fuse_bpf_req_slot_put(slot);
}

/* A link moved to another map, which must name the same connection. */
static int fuse_bpf_req_update(void *kdata, void *old_kdata,
			       struct bpf_link *link)
{
	struct fuse_bpf_request_ops *ops = kdata, *old = old_kdata;
	struct fuse_bpf_req_slot *slot = NULL;
	struct fuse_conn *fc;
	int err;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	if (kdata == old_kdata)
		return 0;
	fc = fuse_bpf_req_conn_get(ops->fuse_fd);
	if (IS_ERR(fc))
		return PTR_ERR(fc);
	mutex_lock(&fuse_bpf_req_lock);
	err = -EINVAL;
	if (!old->slot || READ_ONCE(fc->bpf_req) != old->slot ||
	    rcu_access_pointer(old->slot->ops) != old)
		goto out;
	err = -EBUSY;
	if (ops->slot)
		goto out;
	/* The new map takes over the old one's reference. */
	slot = old->slot;
	ops->slot = slot;
	old->slot = NULL;
	rcu_assign_pointer(slot->ops, ops);
	err = 0;
out:
	mutex_unlock(&fuse_bpf_req_lock);
	fuse_conn_put(fc);
	/* The old map is freed when this returns: its callers are gone. */
	if (!err)
		synchronize_srcu(&slot->srcu);
	return err;
}

static int fuse_bpf_req_request_stub(struct fuse_bpf_request *req)
{
	return 0;
}

static int fuse_bpf_req_reply_stub(struct fuse_bpf_request *req)
{
	return 0;
}

static struct fuse_bpf_request_ops fuse_bpf_req_stubs = {
	.request = fuse_bpf_req_request_stub,
	.reply = fuse_bpf_req_reply_stub,
};

static struct bpf_struct_ops fuse_bpf_req_struct_ops = {
	.verifier_ops = &fuse_bpf_req_verifier_ops,
	.init = fuse_bpf_req_ops_init,
	.check_member = fuse_bpf_req_check_member,
	.init_member = fuse_bpf_req_init_member,
	.reg = fuse_bpf_req_reg,
	.unreg = fuse_bpf_req_unreg,
	.update = fuse_bpf_req_update,
	.cfi_stubs = &fuse_bpf_req_stubs,
	.name = "fuse_bpf_request_ops",
	.owner = THIS_MODULE,
};

/* A failure leaves fuse without request programs, never without fuse. */
void fuse_bpf_req_init_type(void)
{
	const struct btf_id_dtor_kfunc dtors[] = {
		{
			.btf_id = fuse_bpf_req_dtor_ids[0],
			.kfunc_btf_id = fuse_bpf_req_dtor_ids[1],
		},
	};
	int err;

	BTF_TYPE_EMIT_ENUM(FUSE_BPF_REQ_SEND);
	/*
	 * A module may register one set per program type, and the filters'
	 * set has BPF_PROG_TYPE_STRUCT_OPS: these take the hook of all
	 * types, which fuse_bpf_req_kfunc_filter() narrows to request
	 * programs.
	 */
	err = register_btf_kfunc_id_set(BPF_PROG_TYPE_UNSPEC,
					&fuse_bpf_req_kfunc_set);
	if (!err)
		err = register_btf_id_dtor_kfuncs(dtors, ARRAY_SIZE(dtors),
						  THIS_MODULE);
	if (!err)
		err = register_bpf_struct_ops(&fuse_bpf_req_struct_ops,
					      fuse_bpf_request_ops);
	if (err)
		pr_warn("fuse-bpf: no request programs: %d\n", err);
}
