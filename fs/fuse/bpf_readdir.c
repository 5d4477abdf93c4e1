// SPDX-License-Identifier: GPL-2.0
/*
 * fuse-bpf: readdir of backed directories.
 *
 * The backing directory, opened by fuse_bpf_open(), fills the caller's
 * dir_context. For a postfilter it fills a buffer of struct fuse_dirent
 * instead, as a FUSE READDIR reply would carry them, and what the
 * postfilter leaves there is what the caller gets.
 */

#include "bpf_internal.h"

/* What the backing directory gives a postfilter, and how far it may grow. */
#define FUSE_BPF_DIRENTS_FILL	PAGE_SIZE
#define FUSE_BPF_DIRENTS_MAX	(2 * PAGE_SIZE - 1)

/* The prefilter sees @in as a struct fuse_bpf_readdir_in. */
static_assert(sizeof(struct fuse_bpf_readdir_in) ==
	      sizeof(struct fuse_read_in));

struct fuse_bpf_readdir_io {
	struct fuse_read_in in;
	struct file *file;
	struct dir_context *ctx;
	loff_t end;		/* backing position after the entries read */
	bool again;		/* all entries read were filtered out */
};

struct fuse_bpf_dirents {
	struct dir_context ctx;
	struct fuse_bpf_buf *buf;
	struct fuse_dirent *last;
};

static bool fuse_bpf_dirents_fill(struct dir_context *ctx, const char *name,
				  int namelen, loff_t offset, u64 ino,
				  unsigned int d_type)
{
	struct fuse_bpf_dirents *d = container_of(ctx, struct fuse_bpf_dirents,
						  ctx);
	size_t reclen = FUSE_DIRENT_ALIGN(FUSE_NAME_OFFSET + namelen);
	struct fuse_dirent *de;

	if (d->buf->ro.size + reclen > FUSE_BPF_DIRENTS_FILL)
		return false;
	de = d->buf->ro.data + d->buf->ro.size;
	memset(de, 0, reclen);
	de->ino = ino;
	de->namelen = namelen;
	de->type = d_type;
	memcpy(de->name, name, namelen);
	/* A FUSE entry carries the position of the next one. */
	if (d->last)
		d->last->off = offset;
	d->last = de;
	d->buf->ro.size += reclen;
	return true;
}

static int fuse_bpf_readdir_init_out(struct fuse_bpf_args *fa, void *data)
{
	void *buf;

	if (!fa->post)
		return 0;
	buf = kvmalloc(FUSE_BPF_DIRENTS_MAX + 1, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	fuse_bpf_buf_out_arg(fa, buf, 0, FUSE_BPF_DIRENTS_MAX,
			     FUSE_BPF_BUF_OWNED);
	return 0;
}

/* The backing directory, at the position the request reads from. */
static struct file *fuse_bpf_readdir_seek(struct fuse_bpf_readdir_io *io)
{
	struct file *backing = fuse_bpf_backing_file(io->file);
	loff_t pos;

	if (backing->f_pos != io->in.offset) {
		pos = vfs_llseek(backing, io->in.offset, SEEK_SET);
		if (pos < 0)
			return ERR_PTR(pos);
	}
	return backing;
}

/* The entries straight into the caller's dir_context. */
static int fuse_bpf_readdir_direct(void *data)
{
	struct fuse_bpf_readdir_io *io = data;
	struct file *backing = fuse_bpf_readdir_seek(io);

	if (IS_ERR(backing))
		return PTR_ERR(backing);
	io->ctx->pos = backing->f_pos;
	return iterate_dir(backing, io->ctx);
}

static int fuse_bpf_readdir_backing(struct fuse_bpf_args *fa, void *data)
{
	struct fuse_bpf_readdir_io *io = data;
	struct fuse_bpf_dirents d = {
		.ctx.actor = fuse_bpf_dirents_fill,
		.buf = &fa->out_args[0],
	};
	struct file *backing;
	int err;

	if (!fa->post)
		return fuse_bpf_readdir_direct(io);
	backing = fuse_bpf_readdir_seek(io);
	if (IS_ERR(backing))
		return PTR_ERR(backing);
	err = iterate_dir(backing, &d.ctx);
	if (d.last)
		d.last->off = d.ctx.pos;
	io->end = d.ctx.pos;
	return err;
}

/* Give the caller the entries a postfilter left, checking each. */
static int fuse_bpf_readdir_finalize(struct fuse_bpf_args *fa, void *data)
{
	struct fuse_bpf_readdir_io *io = data;
	const struct fuse_bpf_rdonly_buf *buf = &fa->out_args[0].ro;
	const void *p = buf->data;
	u32 left = buf->size;
	bool emitted = false;

	if (fa->meta.error || !fa->post)
		return fa->meta.error;
	while (left) {
		const struct fuse_dirent *de = p;
		u32 reclen;

		if (left < FUSE_NAME_OFFSET || !de->namelen ||
		    de->namelen > NAME_MAX)
			return -EIO;
		reclen = FUSE_DIRENT_SIZE(de);
		if (reclen > left || memchr(de->name, '/', de->namelen) ||
		    memchr(de->name, '\0', de->namelen))
			return -EIO;
		if (!dir_emit(io->ctx, de->name, de->namelen, de->ino,
			      de->type))
			return 0;
		io->ctx->pos = de->off;
		emitted = true;
		p += reclen;
		left -= reclen;
	}
	/* Past what was read, even the entries a filter removed. */
	io->again = !emitted && io->end != io->in.offset;
	io->ctx->pos = io->end;
	return 0;
}

static const struct fuse_bpf_op fuse_bpf_readdir_op = {
	.opcode = FUSE_READDIR,
	.filter = FUSE_BPF_OP_IDX(readdir),
	FUSE_BPF_IN(struct fuse_bpf_readdir_io, in),
	.init_out = fuse_bpf_readdir_init_out,
	.backing = fuse_bpf_readdir_backing,
	.finalize = fuse_bpf_readdir_finalize,
	.direct = fuse_bpf_readdir_direct,
};

bool __fuse_bpf_readdir(int *err, struct file *file, struct dir_context *ctx)
{
	struct fuse_bpf_readdir_io io = {
		.file = file,
		.ctx = ctx,
	};

	/* An empty answer would end the caller's reading: read on. */
	do {
		io.in.offset = ctx->pos;
		io.again = false;
		if (!fuse_bpf_run(&fuse_bpf_readdir_op, file_inode(file), &io,
				  err))
			return false;
	} while (!*err && io.again);
	/* Before iterate_dir() updates atime: see __fuse_bpf_accessed(). */
	fuse_bpf_copy_times(file_inode(file),
			    file_inode(fuse_bpf_backing_file(file)));
	return true;
}
