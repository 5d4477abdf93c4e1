/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A small FUSE server for selftests, speaking the raw /dev/fuse protocol
 * (no libfuse). It serves a fixed in-memory tree described by the test
 * from a pthread, logs every request it receives and lets the test
 * replace any reply through a hook.
 *
 * Node ids: the root is FUSE_ROOT_ID (1), entry i of the table is i + 2.
 */
#ifndef __FUSE_TEST_DAEMON_H
#define __FUSE_TEST_DAEMON_H

#include <linux/fuse.h>
#include <linux/types.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>
#include <sys/uio.h>

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#endif

/* One file or directory; the path is relative to the mount root. */
struct ftd_entry {
	const char *path;	/* "file", "dir", "dir/file"; parents first */
	mode_t mode;		/* S_IFREG | 0644, S_IFDIR | 0755, ... */
	const char *content;	/* file content, NULL for an empty file */
};

struct ftd;

/*
 * Called by the daemon thread for every request except INIT, before the
 * default handler. @arg points to the opcode's argument (after the
 * header), @len is its size. Return FTD_DEFAULT to let the default handler
 * answer, FTD_HANDLED when the hook has replied itself (or the request
 * needs no reply), a negative errno to reply with that error, or FTD_DIE to
 * leave the request unanswered and stop serving as if the server crashed.
 */
#define FTD_DEFAULT	0
#define FTD_HANDLED	1
#define FTD_DIE		2
typedef int (*ftd_hook_t)(struct ftd *d, const struct fuse_in_header *in,
			  const void *arg, size_t len, void *priv);

struct ftd_config {
	const struct ftd_entry *entries;	/* ends with a NULL path */
	__u64 init_flags;	/* FUSE_* INIT flags wanted (both words) */
	__u32 max_stack_depth;	/* sent with FUSE_PASSTHROUGH */
	bool uncached;		/* entry/attr timeouts of 0 instead of 1h */
	uid_t uid;		/* owner reported for every node */
	gid_t gid;
	const char *mount_opts;	/* appended to fd=,rootmode=,... or NULL */
	bool allow_dev;		/* mount without MS_NODEV */
	ftd_hook_t hook;
	void *hook_priv;
};

struct ftd_log_entry {
	__u32 opcode;
	__u64 nodeid;
	char name[64];		/* LOOKUP only */
};

#define FTD_LOG_MAX	512

struct ftd {
	int fd;			/* /dev/fuse */
	char mnt[64];		/* mount point (a fresh dir under /tmp) */
	const struct ftd_config *cfg;
	int nr_nodes;		/* table entries + the root */

	/* INIT as seen: the kernel's offer and what we agreed to */
	__u32 proto_minor;
	__u64 kernel_flags;
	__u64 flags;

	pthread_t thread;
	int stop_fd;		/* eventfd that stops the thread */
	pthread_mutex_t lock;	/* protects the fields below */
	pthread_cond_t cond;
	bool init_done;
	bool exited;
	int error;		/* first fatal error of the thread */
	int nr_log;
	int log_dropped;
	struct ftd_log_entry log[FTD_LOG_MAX];
};

/*
 * Make a mount point under /tmp, mount a FUSE file system on it and serve
 * @cfg until ftd_stop(). Returns once INIT is answered, NULL with errno on
 * failure.
 */
struct ftd *ftd_start(const struct ftd_config *cfg);
/* Unmount, stop the thread, close the fd, remove the mount point. */
void ftd_stop(struct ftd *d);

/* Send a reply: header + @iov. A 0 @error means success. */
int ftd_reply_iov(struct ftd *d, __u64 unique, int error,
		  const struct iovec *iov, int iovcnt);
int ftd_reply(struct ftd *d, __u64 unique, int error,
	      const void *data, size_t size);

/* Default reply contents, for hooks that change a field or append data. */
int ftd_fill_attr(struct ftd *d, __u64 nodeid, struct fuse_attr *attr);
int ftd_fill_entry(struct ftd *d, __u64 nodeid, struct fuse_entry_out *e);
/* Node id of @name in directory @parent, 0 if there is none. */
__u64 ftd_lookup(struct ftd *d, __u64 parent, const char *name);

/* The request log. */
void ftd_log_clear(struct ftd *d);
/* Copy up to @max entries to @out; returns the number of entries logged. */
int ftd_log_get(struct ftd *d, struct ftd_log_entry *out, int max);
int ftd_count(struct ftd *d, __u32 opcode);
/* Wait up to @timeout_ms for @opcode to have been received @n times. */
bool ftd_wait_count(struct ftd *d, __u32 opcode, int n, int timeout_ms);
/*
 * Compare the log, without INIT, FORGET, BATCH_FORGET, STATFS and
 * INTERRUPT, with @ops[@n]. Returns 0 on a match.
 */
int ftd_log_match(struct ftd *d, const __u32 *ops, int n);
/* "LOOKUP(1,file) OPEN(2) ..." into @buf; returns @buf. */
char *ftd_log_str(struct ftd *d, char *buf, size_t size);
const char *ftd_opname(__u32 opcode);

/* Assertions for kselftest_harness.h tests, printing the log on failure. */
#define FTD_LOG_BUF	4096

#define ASSERT_FUSE_RECEIVED(d, op) do {				\
	struct ftd *__d = (d);						\
	__u32 __op = (op);						\
	char __buf[FTD_LOG_BUF];					\
	ASSERT_LT(0, ftd_count(__d, __op))				\
		TH_LOG("no %s in: %s", ftd_opname(__op),		\
		       ftd_log_str(__d, __buf, sizeof(__buf)));		\
} while (0)

#define ASSERT_FUSE_NOT_RECEIVED(d, op) do {				\
	struct ftd *__d = (d);						\
	__u32 __op = (op);						\
	char __buf[FTD_LOG_BUF];					\
	ASSERT_EQ(0, ftd_count(__d, __op))				\
		TH_LOG("unexpected %s in: %s", ftd_opname(__op),	\
		       ftd_log_str(__d, __buf, sizeof(__buf)));		\
} while (0)

/* The log must be exactly the opcodes given (see ftd_log_match()). */
#define ASSERT_FUSE_SEQUENCE(d, ...) do {				\
	struct ftd *__d = (d);						\
	const __u32 __ops[] = { __VA_ARGS__ };				\
	char __buf[FTD_LOG_BUF];					\
	ASSERT_EQ(0, ftd_log_match(__d, __ops, ARRAY_SIZE(__ops)))	\
		TH_LOG("unexpected requests: %s",			\
		       ftd_log_str(__d, __buf, sizeof(__buf)));		\
} while (0)

#endif /* __FUSE_TEST_DAEMON_H */
