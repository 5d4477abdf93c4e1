// SPDX-License-Identifier: GPL-2.0
/*
 * Tests of the fs_diff differential tester itself: two fresh tmpfs trees
 * must behave identically under every seed, the generated sequences must
 * be varied and reproducible, and real differences must be caught.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "../../kselftest_harness.h"
#include "fs_diff.h"

/*
 * Operations per run: tune down for slow emulation, but keep it at 500 or
 * more for every kind of operation to run and succeed with every seed.
 */
#ifndef FSD_TEST_OPS
#define FSD_TEST_OPS	3000
#endif

/* Each of successes and failures must exceed this share of all ops. */
#define MIN_SHARE	10	/* percent */

struct dirs {
	char base[64];
	char path[2][96];
	bool mounted[2];
	bool xattrs;		/* user.* xattrs supported */
};

/* Two empty dirs, on tmpfs mounts of their own when possible. */
static void dirs_setup(struct __test_metadata *_metadata, struct dirs *d)
{
	int side;

	memset(d, 0, sizeof(*d));
	/* modes like 0000 or 0555 would lock anyone else out */
	if (geteuid())
		SKIP(return, "must run as root");
	snprintf(d->base, sizeof(d->base), "/tmp/fs_diff.XXXXXX");
	ASSERT_NE(NULL, mkdtemp(d->base));
	for (side = 0; side < 2; side++) {
		snprintf(d->path[side], sizeof(d->path[side]), "%s/%c",
			 d->base, 'a' + side);
		ASSERT_EQ(0, mkdir(d->path[side], 0755));
		d->mounted[side] = !mount("fs_diff", d->path[side], "tmpfs", 0,
					  "size=256m,mode=0755");
		if (!d->mounted[side])
			TH_LOG("no tmpfs on %s (%s), using %s's file system",
			       d->path[side], strerror(errno), d->base);
	}
	d->xattrs = !setxattr(d->path[0], "user.probe", "1", 1, 0) &&
		    !removexattr(d->path[0], "user.probe");
	if (!d->xattrs)
		TH_LOG("no user xattrs on %s: %s", d->path[0], strerror(errno));
}

static void dirs_clear(struct dirs *d)
{
	fsd_rm_rf(d->path[0], true);
	fsd_rm_rf(d->path[1], true);
}

/* In the parent, which an ASSERT() in the test cannot skip. */
static void dirs_teardown(struct dirs *d)
{
	int side;

	for (side = 0; side < 2; side++) {
		if (!d->path[side][0])
			continue;
		if (d->mounted[side])
			umount2(d->path[side], MNT_DETACH);
		else
			fsd_rm_rf(d->path[side], true);
		rmdir(d->path[side]);
	}
	if (d->base[0])
		rmdir(d->base);
}

static void print_if_diverged(const struct fsd_report *rep)
{
	if (rep->nr_diffs)
		fsd_print_report(stderr, rep);
}

static int write_file(const char *dir, const char *rel, const char *content,
		      mode_t mode)
{
	char path[PATH_MAX];
	int fd, len = strlen(content);

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	if (fd < 0)
		return -1;
	if (write(fd, content, len) != len) {
		close(fd);
		return -1;
	}
	return close(fd);
}

FIXTURE(fs_diff) {
	struct dirs d;
	struct fsd_report rep;
};

FIXTURE_VARIANT(fs_diff) {
	unsigned int seed;
};

FIXTURE_VARIANT_ADD(fs_diff, seed_1) {
	.seed = 1,
};

FIXTURE_VARIANT_ADD(fs_diff, seed_42) {
	.seed = 42,
};

FIXTURE_VARIANT_ADD(fs_diff, seed_0x5eed) {
	.seed = 0x5eed,
};

FIXTURE_VARIANT_ADD(fs_diff, seed_0xfee1dead) {
	.seed = 0xfee1dead,
};

FIXTURE_SETUP(fs_diff)
{
	dirs_setup(_metadata, &self->d);
}

FIXTURE_TEARDOWN_PARENT(fs_diff)
{
	dirs_teardown(&self->d);
}

/* The same file system on both sides: no divergence, and varied ops. */
TEST_F_TIMEOUT(fs_diff, identical, 240)
{
	static const int want_errnos[] = {
		ENOENT, EEXIST, ENOTDIR, EISDIR, ENOTEMPTY,
	};
	struct fsd_report *rep = &self->rep;
	int ret, op, i;

	ret = fsd_run(self->d.path[0], self->d.path[1], variant->seed,
		      FSD_TEST_OPS, rep);
	print_if_diverged(rep);
	ASSERT_EQ(0, ret);
	ASSERT_EQ(0, rep->nr_diffs);
	ASSERT_EQ(FSD_TEST_OPS, rep->nr_ops);
	ASSERT_EQ(rep->nr_ops, rep->nr_ok + rep->nr_failed);
	TH_LOG("seed %u: %d ops, %d ok, %d failed", variant->seed,
	       rep->nr_ops, rep->nr_ok, rep->nr_failed);
	EXPECT_GT(rep->nr_ok, FSD_TEST_OPS * MIN_SHARE / 100);
	EXPECT_GT(rep->nr_failed, FSD_TEST_OPS * MIN_SHARE / 100);

	/* the extended set runs only with fsd_opts.ext (fsfuzz.c) */
	for (op = 0; op < FSD_OP_FIRST_EXT; op++) {
		EXPECT_GT(rep->op[op].run, 0)
			TH_LOG("%s never ran", fsd_op_name(op));
		if (!self->d.xattrs && (FSD_XATTR_OPS & FSD_OP_BIT(op)))
			continue;
		EXPECT_GT(rep->op[op].ok, 0)
			TH_LOG("%s never succeeded", fsd_op_name(op));
	}
	for (i = 0; i < ARRAY_SIZE(want_errnos); i++)
		EXPECT_GT(rep->errnos[want_errnos[i]], 0)
			TH_LOG("no op failed with errno %d", want_errnos[i]);
}

/*
 * Same seed, same sequence and results; another seed, another sequence;
 * other results (files in both trees under the names the ops use at the
 * top), the same sequence.
 */
TEST_F_TIMEOUT(fs_diff, deterministic, 240)
{
	struct fsd_report *again = malloc(sizeof(*again));
	struct fsd_report *rep = &self->rep;
	char name[2] = "a";
	int side;

	ASSERT_NE(NULL, again);
	ASSERT_EQ(0, fsd_run(self->d.path[0], self->d.path[1], variant->seed,
			     FSD_TEST_OPS / 4, rep));
	dirs_clear(&self->d);
	ASSERT_EQ(0, fsd_run(self->d.path[0], self->d.path[1], variant->seed,
			     FSD_TEST_OPS / 4, again));
	EXPECT_EQ(rep->seq_hash, again->seq_hash);
	EXPECT_EQ(rep->nr_ok, again->nr_ok);
	EXPECT_EQ(0, memcmp(rep->op, again->op, sizeof(rep->op)));
	EXPECT_EQ(0, memcmp(rep->errnos, again->errnos, sizeof(rep->errnos)));

	dirs_clear(&self->d);
	ASSERT_EQ(0, fsd_run(self->d.path[0], self->d.path[1],
			     variant->seed + 1, FSD_TEST_OPS / 4, again));
	EXPECT_NE(rep->seq_hash, again->seq_hash);
	EXPECT_NE(0, memcmp(rep->op, again->op, sizeof(rep->op)));

	dirs_clear(&self->d);
	for (side = 0; side < 2; side++)
		for (name[0] = 'a'; name[0] <= 'h'; name[0]++)
			ASSERT_EQ(0, write_file(self->d.path[side], name,
						"in the way\n", 0644));
	ASSERT_EQ(0, fsd_run(self->d.path[0], self->d.path[1], variant->seed,
			     FSD_TEST_OPS / 4, again));
	EXPECT_EQ(rep->seq_hash, again->seq_hash);
	EXPECT_NE(0, memcmp(rep->op, again->op, sizeof(rep->op)));
	free(again);
}

FIXTURE(fs_diff_neg) {
	struct dirs d;
	struct fsd_report rep;
};

FIXTURE_SETUP(fs_diff_neg)
{
	dirs_setup(_metadata, &self->d);
}

FIXTURE_TEARDOWN_PARENT(fs_diff_neg)
{
	dirs_teardown(&self->d);
}

#define NEG_SEED	7
#define NEG_OPS		(FSD_TEST_OPS / 3)

/*
 * A directory already in B where A has nothing, under a name the ops use,
 * holding a file they cannot remove.
 */
TEST_F(fs_diff_neg, extra_dir)
{
	struct fsd_report *rep = &self->rep;
	char path[PATH_MAX];
	int ret;

	snprintf(path, sizeof(path), "%s/a", self->d.path[1]);
	ASSERT_EQ(0, mkdir(path, 0755));
	ASSERT_EQ(0, write_file(path, "extra", "extra\n", 0644));
	ret = fsd_run(self->d.path[0], self->d.path[1], NEG_SEED, NEG_OPS, rep);
	fsd_print_report(stderr, rep);
	ASSERT_GT(ret, 0);
	EXPECT_EQ(ret, rep->nr_diffs);
	EXPECT_GT(rep->nr_op_diffs, 0);
	EXPECT_GT(rep->nr_tree_diffs, 0);
	EXPECT_EQ(rep->nr_op_diffs + rep->nr_tree_diffs, rep->nr_diffs);
	EXPECT_EQ(rep->nr_diffs < FSD_MAX_MSGS ? rep->nr_diffs : FSD_MAX_MSGS,
		  rep->nr_msgs);
}

/* A falsified result of one op is reported, and only that. */
TEST_F(fs_diff_neg, inject_result)
{
	struct fsd_opts opts = {
		.seed = NEG_SEED,
		.nr_ops = NEG_OPS,
		.inject_op = 100,
		.inject = FSD_INJECT_RESULT,
	};
	struct fsd_report *rep = &self->rep;

	ASSERT_EQ(1, fsd_run_opts(self->d.path[0], self->d.path[1], &opts,
				  rep));
	fsd_print_report(stderr, rep);
	EXPECT_EQ(1, rep->nr_op_diffs);
	EXPECT_EQ(0, rep->nr_tree_diffs);
	ASSERT_EQ(1, rep->nr_msgs);
	EXPECT_EQ(0, strncmp(rep->msgs[0], "op 100 ", 7));
}

/* A file slipped into B behind the ops' back shows in the final trees. */
TEST_F(fs_diff_neg, inject_tree)
{
	struct fsd_opts opts = {
		.seed = NEG_SEED,
		.nr_ops = NEG_OPS,
		.inject_op = NEG_OPS / 2,
		.inject = FSD_INJECT_TREE,
	};
	struct fsd_report *rep = &self->rep;

	ASSERT_EQ(1, fsd_run_opts(self->d.path[0], self->d.path[1], &opts,
				  rep));
	fsd_print_report(stderr, rep);
	EXPECT_EQ(0, rep->nr_op_diffs);
	EXPECT_EQ(1, rep->nr_tree_diffs);
	ASSERT_EQ(1, rep->nr_msgs);
	EXPECT_NE(NULL, strstr(rep->msgs[0], "fsd-injected: only in B"));
}

/* The same small tree on both sides. */
static int build_tree(const char *dir)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/d", dir);
	if (mkdir(path, 0755) ||
	    write_file(dir, "d/f", "content\n", 0644) ||
	    write_file(dir, "x", "same\n", 0644) ||
	    write_file(dir, "z", "same\n", 0644))
		return -1;
	snprintf(path, sizeof(path), "%s/d/l", dir);
	if (symlink("f", path))
		return -1;
	snprintf(path, sizeof(path), "%s/d/f", dir);
	if (setxattr(path, "user.k", "v1", 2, 0) && errno != EOPNOTSUPP)
		return -1;
	return 0;
}

static int link_pair(const char *dir, const char *from, const char *to)
{
	char p1[PATH_MAX], p2[PATH_MAX];

	snprintf(p1, sizeof(p1), "%s/%s", dir, from);
	snprintf(p2, sizeof(p2), "%s/%s", dir, to);
	return link(p1, p2);
}

/* Each kind of difference between final trees is found. */
TEST_F(fs_diff_neg, tree_compare)
{
	enum { NONE, CONTENT, MODE, TYPE, SYMLINK, XATTR, LINKS, NR_CASES };
	static const char * const names[] = {
		"none", "content", "mode", "type", "symlink", "xattr", "links",
	};
	struct fsd_report *rep = &self->rep;
	char path[PATH_MAX];
	const char *b = self->d.path[1];
	int kind, ret;

	for (kind = NONE; kind < NR_CASES; kind++) {
		if (kind == XATTR && !self->d.xattrs)
			continue;
		dirs_clear(&self->d);
		ASSERT_EQ(0, build_tree(self->d.path[0]));
		ASSERT_EQ(0, build_tree(b));
		switch (kind) {
		case CONTENT:
			ASSERT_EQ(0, write_file(b, "d/f", "contenT\n", 0644));
			break;
		case MODE:
			snprintf(path, sizeof(path), "%s/x", b);
			ASSERT_EQ(0, chmod(path, 0600));
			break;
		case TYPE:
			snprintf(path, sizeof(path), "%s/z", b);
			ASSERT_EQ(0, unlink(path));
			ASSERT_EQ(0, mkdir(path, 0644));
			break;
		case SYMLINK:
			snprintf(path, sizeof(path), "%s/d/l", b);
			ASSERT_EQ(0, unlink(path));
			ASSERT_EQ(0, symlink("g", path));
			break;
		case XATTR:
			snprintf(path, sizeof(path), "%s/d/f", b);
			ASSERT_EQ(0, setxattr(path, "user.k", "v2", 2, 0));
			break;
		case LINKS:
			/* same nlinks, sizes and content, other pairs */
			ASSERT_EQ(0, link_pair(self->d.path[0], "x", "y"));
			ASSERT_EQ(0, link_pair(self->d.path[0], "z", "w"));
			ASSERT_EQ(0, link_pair(b, "x", "w"));
			ASSERT_EQ(0, link_pair(b, "z", "y"));
			break;
		}
		memset(rep, 0, sizeof(*rep));
		ret = fsd_compare_trees(self->d.path[0], b, rep);
		if (kind == NONE) {
			print_if_diverged(rep);
			ASSERT_EQ(0, ret);
			continue;
		}
		EXPECT_GT(ret, 0)
			TH_LOG("%s difference not found", names[kind]);
		EXPECT_EQ(ret, rep->nr_tree_diffs);
		if (rep->nr_msgs)
			TH_LOG("%s: %s", names[kind], rep->msgs[0]);
	}
}

TEST_HARNESS_MAIN
