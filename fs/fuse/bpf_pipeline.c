// SPDX-License-Identifier: GPL-2.0
/*
 * fuse-bpf: the one pipeline every operation on a backed node runs.
 *
 *   initialize_in -> prefilter -> initialize_out -> backing call
 *                 -> postfilter -> finalize
 *
 * An operation with a direct hook skips it where no filter has a say
 * (fuse_bpf_run_direct()): on a node without a prefilter for it, and after
 * a prefilter that let it through as it came.
 */

#include "bpf_internal.h"

#include <linux/cred.h>

/*
 * An errno from a filter or from the server's userspace filter, checked:
 * one a caller may see (not one of the kernel's own, nor -ECHILD, which
 * means "leave RCU walk"), else -EIO.
 */
static int fuse_bpf_errno(int err)
{
	return err >= -EHWPOISON && err != -ECHILD ? err : -EIO;
}

/* A filter's return value, checked: an errno, or the action. */
static int fuse_bpf_filter_ret(int ret, bool post)
{
	if (ret < 0)
		return fuse_bpf_errno(ret);
	switch (ret) {
	case FUSE_BPF_CONTINUE:
	case FUSE_BPF_USER_POSTFILTER:
		return ret;
	case FUSE_BPF_USER:
	case FUSE_BPF_USER_PREFILTER:
	case FUSE_BPF_POSTFILTER:
		if (!post)
			return ret;
		fallthrough;
	default:
		pr_debug("fuse-bpf: filter returned %d\n", ret);
		return -EIO;
	}
}

/*
 * Fold the flags of @n arguments a filter saw into @fa->flags: a filter
 * that got one writable set its FUSE_BPF_BUF_OWNED and _CHANGED.
 */
static __always_inline u32 fuse_bpf_fold_flags(struct fuse_bpf_args *fa,
					       const struct fuse_bpf_buf *bufs,
					       unsigned int n)
{
	u32 flags = 0;
	unsigned int i;

	for (i = 0; i < n; i++)
		flags |= bufs[i].flags;
	fa->flags |= flags;
	return flags;
}

/* Variable arguments a filter changed must still make sense. */
static noinline int fuse_bpf_check_changed(struct fuse_bpf_buf *bufs,
					   unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		struct fuse_bpf_buf *buf = &bufs[i];
		const char *str = buf->ro.data;

		if (!(buf->flags & FUSE_BPF_BUF_CHANGED))
			continue;
		if (!(buf->flags & FUSE_BPF_BUF_STRING))
			continue;
		if (!buf->ro.size || strnlen(str, buf->ro.size) != buf->ro.size)
			return -EINVAL;
		if (!(buf->flags & FUSE_BPF_BUF_NAME))
			continue;
		if (memchr(str, '/', buf->ro.size) ||
		    (str[0] == '.' && (buf->ro.size == 1 ||
				       (buf->ro.size == 2 && str[1] == '.'))))
			return -EINVAL;
	}
	return 0;
}

/*
 * Every filter call runs this: inline, the common case (nothing changed)
 * costs the loop over the flags and no call.
 */
static __always_inline int fuse_bpf_check_bufs(struct fuse_bpf_args *fa,
					       struct fuse_bpf_buf *bufs,
					       unsigned int n)
{
	if (!(fuse_bpf_fold_flags(fa, bufs, n) & FUSE_BPF_BUF_CHANGED))
		return 0;
	return fuse_bpf_check_changed(bufs, n);
}

static void fuse_bpf_free_args(struct fuse_bpf_args *fa)
{
	unsigned int i;

	if (!(fa->flags & FUSE_BPF_BUF_OWNED))
		return;
	for (i = 0; i < fa->in_numargs; i++)
		if (fa->in_args[i].flags & FUSE_BPF_BUF_OWNED)
			kvfree(fa->in_args[i].ro.data);
	for (i = 0; i < fa->out_numargs; i++)
		if (fa->out_args[i].flags & FUSE_BPF_BUF_OWNED)
			kvfree(fa->out_args[i].ro.data);
}

/*
 * Replace a variable argument with @size bytes from a server's reply,
 * NUL-terminated, in a buffer of its own.
 */
static int fuse_bpf_buf_replace(struct fuse_bpf_args *fa,
				struct fuse_bpf_buf *buf, const void *data,
				u32 size)
{
	if (size > buf->max_size)
		return -EIO;
	if (!(buf->flags & FUSE_BPF_BUF_OWNED)) {
		void *copy = kvmalloc(buf->max_size + 1, GFP_KERNEL);

		if (!copy)
			return -ENOMEM;
		buf->ro.data = copy;
		buf->flags |= FUSE_BPF_BUF_OWNED;
	}
	memcpy(buf->ro.data, data, size);
	((char *)buf->ro.data)[size] = '\0';
	buf->ro.size = size;
	buf->flags |= FUSE_BPF_BUF_CHANGED;
	fa->flags |= buf->flags;
	return 0;
}

/* Size of an in-argument in a FUSE request: strings carry their NUL. */
static u32 fuse_bpf_wire_size(const struct fuse_bpf_buf *buf)
{
	return buf->ro.size + !!(buf->flags & FUSE_BPF_BUF_STRING);
}

static void fuse_bpf_request_in(struct fuse_args *args,
				const struct fuse_bpf_args *fa)
{
	unsigned int i;

	args->in_numargs = fa->in_numargs;
	for (i = 0; i < fa->in_numargs; i++) {
		args->in_args[i].size = fuse_bpf_wire_size(&fa->in_args[i]);
		args->in_args[i].value = fa->in_args[i].ro.data;
	}
}

/*
 * Take the in-arguments back from a userspace prefilter's reply, which
 * has the layout of the request: fixed arguments of the same size, with
 * changes only where the operation honours them, strings up to their
 * NUL, a last binary argument up to the end.
 */
static int fuse_bpf_prefilter_reply(const struct fuse_bpf_op *op,
				    struct fuse_bpf_args *fa, char *reply,
				    u32 len)
{
	unsigned int i;
	int err;

	for (i = 0; i < fa->in_numargs; i++) {
		struct fuse_bpf_buf *buf = &fa->in_args[i];
		u32 size;

		if (!buf->max_size) {
			size = buf->ro.size;
			if (len < size)
				return -EIO;
			err = fuse_bpf_check_fixed(op->filter, false,
						   buf->ro.data, reply, size);
			if (err)
				return err;
			memcpy(buf->ro.data, reply, size);
			reply += size;
			len -= size;
			continue;
		}
		if (buf->flags & FUSE_BPF_BUF_STRING) {
			size = strnlen(reply, len);
			if (size == len)
				return -EIO;
		} else {
			if (i != fa->in_numargs - 1)
				return -EIO;
			size = len;
		}
		err = fuse_bpf_buf_replace(fa, buf, reply, size);
		if (err)
			return err;
		size += !!(buf->flags & FUSE_BPF_BUF_STRING);
		reply += size;
		len -= size;
	}
	return len ? -EIO : fuse_bpf_check_bufs(fa, fa->in_args,
						fa->in_numargs);
}

/**
 * fuse_bpf_user_prefilter() - let the server see and change the in-args
 * @op: the operation
 * @inode: the node the operation is on
 * @fa: the arguments
 *
 * Sends the operation's request with %FUSE_PREFILTER in the opcode. The
 * reply carries the in-arguments in the same layout; they replace ours.
 *
 * Return: 0, the server's error, or -EIO for a malformed reply.
 */
static int fuse_bpf_user_prefilter(const struct fuse_bpf_op *op,
				   struct inode *inode,
				   struct fuse_bpf_args *fa)
{
	struct fuse_mount *fm = get_fuse_mount(inode);
	u32 size = 0;
	unsigned int i;
	char *reply;
	ssize_t ret;
	FUSE_ARGS(args);

	for (i = 0; i < fa->in_numargs; i++)
		size += (fa->in_args[i].max_size ?: fa->in_args[i].ro.size) + 1;
	reply = kvmalloc(size, GFP_KERNEL);
	if (!reply)
		return -ENOMEM;

	args.opcode = fa->meta.opcode | FUSE_PREFILTER;
	args.nodeid = fa->meta.nodeid;
	fuse_bpf_request_in(&args, fa);
	args.out_numargs = 1;
	args.out_argvar = true;
	args.out_args[0].size = size;
	args.out_args[0].value = reply;
	ret = fuse_simple_request(fm, &args);
	if (ret >= 0)
		ret = fuse_bpf_prefilter_reply(op, fa, reply,
					       args.out_args[0].size);
	else
		ret = fuse_bpf_errno(ret);
	kvfree(reply);
	return ret;
}

/**
 * fuse_bpf_user_postfilter() - let the server see and change the result
 * @op: the operation
 * @inode: the node the operation is on
 * @fa: the arguments, with the out-arguments filled in
 *
 * Sends the operation with %FUSE_POSTFILTER in the opcode: a struct
 * fuse_bpf_post_in, then the in-arguments and out-arguments as one
 * argument. The server replies with an error, which becomes the result,
 * with nothing, or with the out-arguments, which replace ours. A last
 * out-argument of variable size (entries, a value, a link target) may
 * come back with another size, up to its bound.
 *
 * Return: the result of the operation.
 */
static int fuse_bpf_user_postfilter(const struct fuse_bpf_op *op,
				    struct inode *inode,
				    struct fuse_bpf_args *fa)
{
	struct fuse_mount *fm = get_fuse_mount(inode);
	struct fuse_bpf_post_in post = {
		.error = fa->meta.error,
		.in_numargs = fa->in_numargs,
		.out_numargs = fa->out_numargs,
	};
	struct fuse_bpf_buf *var = NULL;
	u32 size = 0, out_size = 0, fixed = 0, reply_max;
	unsigned int i;
	char *buf, *p;
	ssize_t ret;
	FUSE_ARGS(args);

	for (i = 0; i < fa->in_numargs; i++) {
		post.in_sizes[i] = fuse_bpf_wire_size(&fa->in_args[i]);
		size += post.in_sizes[i];
	}
	for (i = 0; i < fa->out_numargs; i++) {
		post.out_sizes[i] = fa->out_args[i].ro.size;
		out_size += post.out_sizes[i];
	}
	if (fa->out_numargs && fa->out_args[fa->out_numargs - 1].max_size)
		var = &fa->out_args[fa->out_numargs - 1];
	fixed = out_size - (var ? var->ro.size : 0);
	reply_max = var ? fixed + var->max_size : out_size;
	buf = kvmalloc(max(size + out_size, reply_max), GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	p = buf;
	for (i = 0; i < fa->in_numargs; i++) {
		memcpy(p, fa->in_args[i].ro.data, post.in_sizes[i]);
		p += post.in_sizes[i];
	}
	for (i = 0; i < fa->out_numargs; i++) {
		memcpy(p, fa->out_args[i].ro.data, post.out_sizes[i]);
		p += post.out_sizes[i];
	}

	args.opcode = fa->meta.opcode | FUSE_POSTFILTER;
	args.nodeid = fa->meta.nodeid;
	args.in_numargs = 2;
	args.in_args[0].size = sizeof(post);
	args.in_args[0].value = &post;
	args.in_args[1].size = size + out_size;
	args.in_args[1].value = buf;
	args.out_numargs = 1;
	args.out_argvar = true;
	args.out_args[0].size = reply_max;
	args.out_args[0].value = buf;
	ret = fuse_simple_request(fm, &args);
	if (ret < 0) {
		ret = fuse_bpf_errno(ret);
		goto out;
	}
	ret = fa->meta.error;
	size = args.out_args[0].size;
	if (!size)
		goto out;
	if (size < fixed || (!var && size != out_size)) {
		ret = -EIO;
		goto out;
	}
	for (p = buf, i = 0; i < fa->out_numargs; i++) {
		if (&fa->out_args[i] == var)
			break;
		ret = fuse_bpf_check_fixed(op->filter, true,
					   fa->out_args[i].ro.data, p,
					   post.out_sizes[i]);
		if (ret)
			goto out;
		p += post.out_sizes[i];
	}
	/* All checked: take them. */
	for (p = buf, i = 0; i < fa->out_numargs; i++) {
		if (&fa->out_args[i] == var)
			break;
		memcpy(fa->out_args[i].ro.data, p, post.out_sizes[i]);
		p += post.out_sizes[i];
	}
	ret = fa->meta.error;
	if (var) {
		ret = fuse_bpf_buf_replace(fa, var, p, size - fixed);
		if (!ret)
			ret = fa->meta.error;
	}
out:
	kvfree(buf);
	return ret;
}

/*
 * A backing call runs with the credentials registered with the backing.
 * One that creates an object runs with the caller's fsuid and fsgid
 * folded in, so that the new object belongs to the caller, as
 * ovl_create_or_link() does; the caller's right to create there was
 * checked on the fuse directory, and the mode it asked for was cut down
 * for it by the VFS (umask, S_ISGID).
 */
static int fuse_bpf_override_creds(const struct fuse_bpf_op *op,
				   const struct cred *backing,
				   const struct cred **old)
{
	const struct cred *caller = current_cred();
	struct cred *cred;

	*old = override_creds(backing);
	if (!op->creates)
		return 0;
	cred = prepare_creds();
	if (!cred) {
		revert_creds(*old);
		return -ENOMEM;
	}
	cred->fsuid = caller->fsuid;
	cred->fsgid = caller->fsgid;
	/*
	 * @backing stays referenced by the node: drop the reference the
	 * first override took, and ours on @cred, which the second holds
	 * until revert_creds().
	 */
	put_cred(override_creds(cred));
	put_cred(cred);
	return 0;
}

/*
 * initialize_in and the prefilter: the action (%FUSE_BPF_CONTINUE when no
 * prefilter ran) in *@action, or a negative errno. Nothing here sleeps:
 * an init_in hook must not either (fuse_bpf_run_prefilter() runs in RCU
 * walk), and a buffer a filter made writable is kzalloc()ed GFP_NOWAIT.
 */
static int fuse_bpf_prefilter(const struct fuse_bpf_op *op,
			      struct inode *inode, void *io,
			      struct fuse_bpf_args *fa, int *action)
{
	u32 flags;
	int err, ret;

	*action = FUSE_BPF_CONTINUE;
	if (op->in_size)
		fuse_bpf_in_arg(fa, io + op->in_off, op->in_size);
	if (op->init_in) {
		err = op->init_in(fa, io);
		if (err)
			return err;
	}
	if (!fuse_bpf_has_filter(inode) ||
	    !fuse_bpf_call_filter(inode, op->filter, false, fa, &ret))
		return 0;
	/* Also when the filter failed, for fuse_bpf_free_args(). */
	flags = fuse_bpf_fold_flags(fa, fa->in_args, fa->in_numargs);
	*action = fuse_bpf_filter_ret(ret, false);
	if (*action < 0)
		return *action;
	if (!(flags & FUSE_BPF_BUF_CHANGED))
		return 0;
	return fuse_bpf_check_changed(fa->in_args, fa->in_numargs);
}

/**
 * fuse_bpf_run_prefilter() - only the prefilter of an operation
 * @op: the operation
 * @inode: the fuse inode the operation is on; it must be backed
 * @io: the operation's arguments
 *
 * For a caller that may not sleep (RCU walk), and needs no more than the
 * prefilter's word when the prefilter leaves the in-arguments as they are.
 *
 * A fixed in-argument comes back in @io as the prefilter left it; the
 * caller uses it as the backing call would.
 *
 * Return: %FUSE_BPF_CONTINUE (also when there is no prefilter) or
 * %FUSE_BPF_USER; the prefilter's error; -ECHILD when the rest of the
 * pipeline is needed to decide (the prefilter changed a variable
 * in-argument, or asked for a postfilter or the server's prefilter).
 */
int fuse_bpf_run_prefilter(const struct fuse_bpf_op *op, struct inode *inode,
			   void *io)
{
	struct fuse_bpf_args fa = {
		.meta.nodeid = get_fuse_inode(inode)->nodeid,
		.meta.opcode = op->opcode,
	};
	int action, err;

	err = fuse_bpf_prefilter(op, inode, io, &fa, &action);
	/* A variable in-argument was made writable (a fixed one is in @io). */
	if (!err && (fa.flags & FUSE_BPF_BUF_CHANGED))
		err = -ECHILD;
	if (!err && action != FUSE_BPF_CONTINUE && action != FUSE_BPF_USER)
		err = -ECHILD;
	fuse_bpf_free_args(&fa);
	return err ?: action;
}

/**
 * fuse_bpf_run_direct() - an operation no filter has a say in
 * @op: the operation, which has a @direct hook
 * @inode: the fuse inode the operation is on; it must be backed
 * @io: the operation's arguments
 *
 * What the pipeline would do without a filter, without setting it up:
 * this runs for every component of every path walked, every stat and
 * every open of a node without a prefilter for the operation, and after
 * a prefilter that let the operation through as it came.
 *
 * Return: the result of the operation.
 */
int fuse_bpf_run_direct(const struct fuse_bpf_op *op, struct inode *inode,
			void *io)
{
	const struct cred *old_cred;
	int err;

	if (op->own_creds)
		return op->direct(io);
	err = fuse_bpf_override_creds(op, get_fuse_inode(inode)->backing_cred,
				      &old_cred);
	if (err)
		return err;
	err = op->direct(io);
	revert_creds(old_cred);
	return err;
}

/**
 * fuse_bpf_run_filtered() - run the whole pipeline of an operation
 * @op: the operation
 * @inode: the fuse inode the operation is on; it must be backed
 * @io: the operation's arguments, passed to @op's hooks
 * @res: the result of the operation when fuse-bpf served it
 *
 * Return: as fuse_bpf_run().
 */
bool fuse_bpf_run_filtered(const struct fuse_bpf_op *op, struct inode *inode,
			   void *io, int *res)
{
	struct fuse_inode *fi = get_fuse_inode(inode);
	struct fuse_bpf_args fa = {
		.meta.nodeid = fi->nodeid,
		.meta.opcode = op->opcode,
	};
	const struct cred *old_cred;
	int action, err, ret;

	err = fuse_bpf_prefilter(op, inode, io, &fa, &action);
	if (err)
		goto out;
	if (action == FUSE_BPF_USER) {
		fuse_bpf_free_args(&fa);
		return false;
	}
	/*
	 * Let through as it came (a changed fixed in-argument is in @io):
	 * the rest is what the direct hook does, without the set-up.
	 */
	if (action == FUSE_BPF_CONTINUE && op->direct &&
	    !(fa.flags & FUSE_BPF_BUF_CHANGED)) {
		fuse_bpf_free_args(&fa);
		*res = fuse_bpf_run_direct(op, inode, io);
		return true;
	}
	if (action == FUSE_BPF_USER_PREFILTER) {
		err = fuse_bpf_user_prefilter(op, inode, &fa);
		if (err)
			goto out;
	}

	/* Operations set up for a postfilter what it is to see. */
	fa.post = action == FUSE_BPF_POSTFILTER ||
		  action == FUSE_BPF_USER_POSTFILTER;
	if (op->out_size)
		fuse_bpf_out_arg(&fa, io + op->out_off, op->out_size);
	if (op->init_out) {
		err = op->init_out(&fa, io);
		if (err)
			goto out;
	}

	if (op->own_creds) {
		fa.meta.error = op->backing(&fa, io);
	} else {
		err = fuse_bpf_override_creds(op, fi->backing_cred, &old_cred);
		if (err)
			goto out;
		fa.meta.error = op->backing(&fa, io);
		revert_creds(old_cred);
	}

	if (fa.post && op->init_post)
		op->init_post(&fa, io);
	if (action == FUSE_BPF_POSTFILTER &&
	    fuse_bpf_call_filter(inode, op->filter, true, &fa, &ret)) {
		fuse_bpf_fold_flags(&fa, fa.out_args, fa.out_numargs);
		action = fuse_bpf_filter_ret(ret, true);
		if (action < 0)
			fa.meta.error = action;
	}
	if (action == FUSE_BPF_USER_POSTFILTER)
		fa.meta.error = fuse_bpf_user_postfilter(op, inode, &fa);
	if (fa.post && !fa.meta.error)
		fa.meta.error = fuse_bpf_check_bufs(&fa, fa.out_args,
						    fa.out_numargs);

	err = op->finalize ? op->finalize(&fa, io) : fa.meta.error;
out:
	fuse_bpf_free_args(&fa);
	pr_debug("%s: opcode=%u nodeid=0x%llx err=%d\n", __func__,
		 op->opcode, fa.meta.nodeid, err);
	*res = err;
	return true;
}
