// SPDX-License-Identifier: GPL-2.0
/*
 * fuse-bpf: the one pipeline every operation on a backed node runs.
 *
 *   initialize_in -> prefilter -> initialize_out -> backing call
 *                 -> postfilter -> finalize
 */

#include "bpf_internal.h"

#include <linux/cred.h>

/**
 * fuse_bpf_run() - run an operation on a backed node
 * @op: the operation
 * @inode: the fuse inode the operation is on; it must be backed
 * @io: the operation's arguments, passed to @op's hooks
 * @res: the result of the operation when fuse-bpf served it
 *
 * Return: true when fuse-bpf served the operation (the result is in
 * *@res), false when the operation must take the normal FUSE path to the
 * server.
 */
bool fuse_bpf_run(const struct fuse_bpf_op *op, struct inode *inode,
		  void *io, int *res)
{
	struct fuse_inode *fi = get_fuse_inode(inode);
	struct fuse_bpf_args fa = {
		.nodeid = fi->nodeid,
		.opcode = op->opcode,
	};
	const struct cred *old_cred;
	int err;

	if (op->in_size)
		fuse_bpf_in_arg(&fa, io + op->in_off, op->in_size);
	if (op->init_in) {
		err = op->init_in(&fa, io);
		if (err)
			goto out;
	}

	/* Prefilter: with no program attached, continue to the backing. */

	if (op->out_size)
		fuse_bpf_out_arg(&fa, io + op->out_off, op->out_size);
	if (op->init_out) {
		err = op->init_out(&fa, io);
		if (err)
			goto out;
	}

	old_cred = override_creds(fi->backing_cred);
	fa.error = op->backing(&fa, io);
	revert_creds(old_cred);

	/* Postfilter: none without a program. */

	err = op->finalize ? op->finalize(&fa, io) : fa.error;
out:
	pr_debug("%s: opcode=%u nodeid=0x%llx err=%d\n", __func__,
		 op->opcode, fa.nodeid, err);
	*res = err;
	return true;
}
