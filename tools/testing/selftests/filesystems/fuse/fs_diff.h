/* SPDX-License-Identifier: GPL-2.0 */
/*
 * fs_diff: a differential file system tester. One seeded random sequence
 * of operations is applied to two directory trees (say a fuse-bpf mount
 * and a twin of its backing tree), each operation first to tree A, then to
 * tree B, with the same relative paths and arguments. Return values,
 * errnos and returned data are compared after every operation and the two
 * final trees are compared recursively; every divergence is counted and
 * the first FSD_MAX_MSGS are kept as text.
 *
 * Not compared, as it legitimately differs between file systems: st_ino,
 * st_dev, st_blocks, atime, ctime, the size of directories and the mtime
 * of anything but what utimensat has just set.
 */
#ifndef __FS_DIFF_H
#define __FS_DIFF_H

#include <stdbool.h>
#include <stdio.h>
#include <time.h>
#include <sys/types.h>

enum fsd_op {
	FSD_OP_CREATE,		/* open(O_CREAT | O_EXCL) */
	FSD_OP_WRITE,		/* open + pwrite */
	FSD_OP_READ,		/* open + pread */
	FSD_OP_TRUNCATE,
	FSD_OP_FTRUNCATE,	/* open + ftruncate */
	FSD_OP_FALLOCATE,	/* open + fallocate(0) */
	FSD_OP_PUNCH_HOLE,	/* open + fallocate(KEEP_SIZE | PUNCH_HOLE) */
	FSD_OP_RENAME,
	FSD_OP_RENAME_NOREPLACE,
	FSD_OP_RENAME_EXCHANGE,
	FSD_OP_LINK,
	FSD_OP_SYMLINK,
	FSD_OP_UNLINK,
	FSD_OP_MKDIR,
	FSD_OP_RMDIR,
	FSD_OP_CHMOD,
	FSD_OP_UTIMENS,		/* explicit times, then stat with mtime */
	FSD_OP_SETXATTR,
	FSD_OP_GETXATTR,
	FSD_OP_LISTXATTR,
	FSD_OP_REMOVEXATTR,
	FSD_OP_READDIR,
	FSD_OP_STAT,
	FSD_OP_LSTAT,
	FSD_OP_READLINK,
	/* the extended set (fsd_opts.ext): fsfuzz.c */
	FSD_OP_MKNOD,		/* a fifo */
	FSD_OP_COPY_RANGE,	/* copy_file_range from path to path2 */
	FSD_OP_MMAP_WRITE,	/* MAP_SHARED write, msync, read back */
	FSD_OP_CHOWN,		/* to the caller's ids, -1 or others' */
	FSD_OP_UTIMES,		/* utimes(2), microseconds */
	FSD_OP_LOCK,		/* fcntl lock, then F_OFD_GETLK/SETLK from a 2nd fd */
	FSD_OP_FLOCK,		/* flock, then LOCK_NB from a 2nd fd */
	FSD_OP_PRUNE,		/* rm -rf of a top-level name, u+rwx first */
	FSD_OP_NR,
};

#define FSD_OP_FIRST_EXT	FSD_OP_MKNOD

#define FSD_OP_BIT(op)		(1ULL << (op))
#define FSD_XATTR_OPS		(FSD_OP_BIT(FSD_OP_SETXATTR) |		\
				 FSD_OP_BIT(FSD_OP_GETXATTR) |		\
				 FSD_OP_BIT(FSD_OP_LISTXATTR) |		\
				 FSD_OP_BIT(FSD_OP_REMOVEXATTR))

#define FSD_MAX_MSGS		20
#define FSD_MSG_LEN		320
#define FSD_MAX_ERRNO		256

/* Test hooks, to prove that divergences are caught. */
enum fsd_inject {
	FSD_INJECT_NONE,
	FSD_INJECT_RESULT,	/* falsify B's result of op inject_op */
	FSD_INJECT_TREE,	/* after op inject_op, add a file to tree B */
	FSD_INJECT_MODE,	/* after op inject_op, chmod 0 path on tree B */
};

#define FSD_MAX_CROSS		16

struct fsd_opts {
	unsigned int seed;
	int nr_ops;
	unsigned long long skip_ops;	/* FSD_OP_BIT()s of ops not to run */
	int inject_op;		/* 1-based op number for @inject */
	enum fsd_inject inject;
	FILE *log;		/* when set, log every op and divergence */
	/* for fsfuzz.c and fsd_gen_*() */
	bool ext;		/* also the extended set of operations */
	uid_t uid;		/* the caller's ids, for chown */
	gid_t gid;
	/*
	 * Directories beside the tree (paths relative to its parent) that
	 * an operation now and then reaches into with "../NAME/...": such
	 * operations are marked fsd_opdesc.cross.
	 */
	int nr_cross;
	const char *cross[FSD_MAX_CROSS];
};

struct fsd_op_stats {
	int run;		/* times generated and run */
	int ok;			/* times it succeeded on A */
};

/* One generated operation, applied to both trees. */
#define FSD_REL_MAX	64	/* relative path */

struct fsd_opdesc {
	enum fsd_op kind;
	char path[FSD_REL_MAX];
	char path2[FSD_REL_MAX];	/* second path, or symlink target */
	mode_t mode;
	long long off;			/* offset, or new size */
	long long off2;			/* copy_file_range: out offset */
	size_t len;
	int flags;
	int flags2;
	unsigned int uid, gid;		/* chown */
	const char *xname;
	struct timespec times[2];
	unsigned long long data_rng;	/* generator state for the data */
	bool cross;			/* reaches out of the tree */
};

struct fsd_report {
	unsigned int seed;
	int nr_ops;		/* ops run */
	int nr_ok;		/* ops that succeeded on A */
	int nr_failed;		/* ops that failed on A */
	int nr_diffs;		/* all divergences, ops and final trees */
	int nr_op_diffs;	/* ops whose results diverged */
	int nr_tree_diffs;	/* divergences between the final trees */
	unsigned long long seq_hash;	/* of the ops generated: seed only */
	struct fsd_op_stats op[FSD_OP_NR];
	int errnos[FSD_MAX_ERRNO];	/* failures on A per errno */
	int nr_msgs;		/* min(nr_diffs, FSD_MAX_MSGS) */
	char msgs[FSD_MAX_MSGS][FSD_MSG_LEN];
};

/*
 * Run @nr_ops operations generated from @seed on @dir_a and @dir_b (which
 * must not overlap, and are best empty), then compare the trees. @rep is
 * reset first. Returns the number of divergences, or -1 with errno set if
 * the tester itself could not run. Op N of a seed is the same whatever
 * the results (see seq_hash), so any prefix of a sequence can be replayed
 * with a smaller @nr_ops, with @opts->log set to see every op.
 */
int fsd_run(const char *dir_a, const char *dir_b, unsigned int seed,
	    int nr_ops, struct fsd_report *rep);
int fsd_run_opts(const char *dir_a, const char *dir_b,
		 const struct fsd_opts *opts, struct fsd_report *rep);

/*
 * Compare two trees recursively (the roots' own attributes excepted),
 * adding divergences to @rep, which is not reset. Returns the number of
 * divergences found by this call, -1 if out of memory.
 */
int fsd_compare_trees(const char *dir_a, const char *dir_b,
		      struct fsd_report *rep);

/* Print counters and kept divergences, one per line. */
void fsd_print_report(FILE *f, const struct fsd_report *rep);

const char *fsd_op_name(int op);

/*
 * The generator and the applier alone, for callers that schedule the
 * operations themselves (fsfuzz.c). fsd_gen_next(): op N of a generator
 * depends on @opts (seed, skip_ops, ext, uid, gid, cross) only.
 * fsd_apply_op(): apply @d to @dir_a then @dir_b, count it in @rep
 * (whose op and divergence counters it adds to), and return 1 if the
 * results diverged, 0 if not. @a_res and @b_res (64 bytes, may be NULL)
 * get each side's result as text; @inject is applied to B after @d.
 */
struct fsd_gen;

struct fsd_gen *fsd_gen_new(const struct fsd_opts *opts);
void fsd_gen_free(struct fsd_gen *g);
void fsd_gen_next(struct fsd_gen *g, struct fsd_opdesc *d);
int fsd_apply_op(struct fsd_gen *g, const char *dir_a, const char *dir_b,
		 const struct fsd_opdesc *d, int nr, enum fsd_inject inject,
		 struct fsd_report *rep, char *a_res, char *b_res);
void fsd_op_str(const struct fsd_opdesc *d, char *buf, size_t size);
void fsd_inject_tree(const char *dir_b);

/* rm -rf @path, or only what it contains if @keep_top. */
int fsd_rm_rf(const char *path, bool keep_top);

#endif /* __FS_DIFF_H */
