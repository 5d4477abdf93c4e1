// SPDX-License-Identifier: GPL-2.0
/*
 * fuse-bpf: FUSE nodes backed by an object on another file system.
 *
 * backed.*	a no_daemon mount, and a daemon mount with root_dir=, of a
 *		tmpfs directory: every operation through the mount must act
 *		on the backing tree, and the daemon must get nothing but INIT.
 * lookup_ext.*	the LOOKUP reply extension (struct fuse_bpf_entry_out)
 *		backing single nodes by registered files and directories.
 * bad_lookup.*	malformed LOOKUP replies fail the lookup cleanly, and
 *		the daemon gets its lookup back with a FORGET.
 * reserved_nodeid.* replies naming a new node (MKDIR, CREATE, ...) may
 *		not use the kernel's node ids either.
 * mnt_flags.*	the backing mount's noexec, nodev and read-only hold
 *		through the mount, for root_dir= and for named backing.
 * atime.*	the mount's atime options (relatime, strictatime, noatime,
 *		nodiratime, read-only) decide atime, as on a bare mount.
 * differential.* fs_diff runs one random sequence on the mount and on a
 *		plain tmpfs twin; the backing tree must end up as the twin.
 * The plain tests check the mount options and their errors.
 *
 * Every test runs in a mount namespace of its own, so that mounts left
 * behind by a failing test go away with it.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/sendfile.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/param.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include <linux/aio_abi.h>
#include <linux/fs.h>

#include "../../kselftest_harness.h"
#include "fuse_test_daemon.h"
#include "fs_diff.h"

#include "backing_env.h"

/* ---- backed: the whole tree is backed ---- */

FIXTURE(backed) {
	struct env e;
};

FIXTURE_VARIANT(backed) {
	bool daemon;	/* a daemon mount with root_dir=, else no_daemon */
};

FIXTURE_VARIANT_ADD(backed, no_daemon) {
	.daemon = false,
};

FIXTURE_VARIANT_ADD(backed, daemon) {
	.daemon = true,
};

FIXTURE_SETUP(backed)
{
	int err;

	umask(022);
	err = env_setup(&self->e, variant->daemon);
	ASSERT_EQ(0, err) TH_LOG("%s mount of a tmpfs dir: %s",
				 variant->daemon ? "root_dir daemon" :
				 "no_daemon", strerror(err));
}

FIXTURE_TEARDOWN(backed)
{
	if (self->e.d)
		expect_only_init(_metadata, self->e.d);
	env_teardown(_metadata, &self->e);
}

TEST_F(backed, read)
{
	const size_t big = 300 * 1024;
	char buf[256], *data;
	int fd;

	PUT(BACK("file"), CONTENT);
	fd = open(MNT("file"), O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd) TH_LOG("open: %s", strerror(errno));
	ASSERT_EQ(strlen(CONTENT), read(fd, buf, sizeof(buf)));
	ASSERT_EQ(0, memcmp(buf, CONTENT, strlen(CONTENT)));
	ASSERT_EQ(0, read(fd, buf, sizeof(buf)));
	ASSERT_EQ(9, pread(fd, buf, 9, 5));
	ASSERT_EQ(0, memcmp(buf, CONTENT + 5, 9));
	ASSERT_EQ(0, close(fd));

	/* more than one request's worth */
	data = malloc(big);
	ASSERT_NE(NULL, data);
	fill_pattern(data, big, 1);
	put_file(_metadata, BACK("big"), data, big);
	check_file(_metadata, MNT("big"), data, big);
	free(data);

	ASSERT_FAILS(ENOENT, open(MNT("missing"), O_RDONLY));
}

TEST_F(backed, write)
{
	static const char head[] = "WRITE", tail[] = "tail\n";
	const size_t len = strlen(CONTENT), big = 200 * 1024;
	char expect[256], *data;
	struct stat st;
	int fd;

	PUT(BACK("file"), CONTENT);
	fd = open(MNT("file"), O_WRONLY | O_CLOEXEC);
	ASSERT_LE(0, fd) TH_LOG("open: %s", strerror(errno));
	ASSERT_EQ(strlen(head), pwrite(fd, head, strlen(head), 3));
	ASSERT_EQ(strlen(tail), pwrite(fd, tail, strlen(tail), len));
	ASSERT_EQ(0, fstat(fd, &st));
	ASSERT_EQ(len + strlen(tail), st.st_size);
	ASSERT_EQ(0, close(fd));

	memcpy(expect, CONTENT, len);
	memcpy(expect + 3, head, strlen(head));
	memcpy(expect + len, tail, strlen(tail));
	check_file(_metadata, BACK("file"), expect, len + strlen(tail));
	check_stat(_metadata, MNT("file"), BACK("file"), self->e.dev);

	/* a large write past the end of an empty file leaves a zero gap */
	data = calloc(1, 4096 + big);
	ASSERT_NE(NULL, data);
	fill_pattern(data + 4096, big, 2);
	PUT(BACK("big"), "");
	fd = open(MNT("big"), O_WRONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(big, pwrite(fd, data + 4096, big, 4096));
	ASSERT_EQ(0, close(fd));
	check_file(_metadata, BACK("big"), data, 4096 + big);
	free(data);
}

TEST_F(backed, append)
{
	int fd, bfd;

	PUT(BACK("file"), CONTENT);
	fd = open(MNT("file"), O_WRONLY | O_APPEND | O_CLOEXEC);
	ASSERT_LE(0, fd) TH_LOG("open: %s", strerror(errno));
	ASSERT_EQ(4, write(fd, "one\n", 4));

	/* the backing grows behind the mount's back: appends follow it */
	bfd = open(BACK("file"), O_WRONLY | O_APPEND | O_CLOEXEC);
	ASSERT_LE(0, bfd);
	ASSERT_EQ(4, write(bfd, "two\n", 4));
	ASSERT_EQ(0, close(bfd));

	ASSERT_EQ(0, lseek(fd, 0, SEEK_SET));
	ASSERT_EQ(6, write(fd, "three\n", 6));
	ASSERT_EQ(0, close(fd));
	CHECK_FILE(BACK("file"), CONTENT "one\ntwo\nthree\n");
	CHECK_FILE(MNT("file"), CONTENT "one\ntwo\nthree\n");
}

TEST_F(backed, truncate)
{
	char expect[10000] = {};
	struct stat st;
	int fd;

	PUT(BACK("file"), CONTENT);
	ASSERT_EQ(0, truncate(MNT("file"), 5))
		TH_LOG("truncate: %s", strerror(errno));
	check_file(_metadata, BACK("file"), CONTENT, 5);

	fd = open(MNT("file"), O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ftruncate(fd, sizeof(expect)))
		TH_LOG("ftruncate: %s", strerror(errno));
	ASSERT_EQ(0, fstat(fd, &st));
	ASSERT_EQ(sizeof(expect), st.st_size);
	ASSERT_EQ(0, close(fd));
	memcpy(expect, CONTENT, 5);
	check_file(_metadata, BACK("file"), expect, sizeof(expect));
	check_stat(_metadata, MNT("file"), BACK("file"), self->e.dev);

	fd = open(MNT("file"), O_WRONLY | O_TRUNC | O_CLOEXEC);
	ASSERT_LE(0, fd) TH_LOG("open(O_TRUNC): %s", strerror(errno));
	ASSERT_EQ(0, close(fd));
	ASSERT_EQ(0, stat(BACK("file"), &st));
	ASSERT_EQ(0, st.st_size);
}

/*
 * A program running from the backing tree is not truncated through the
 * mount (ETXTBSY), as it is not on the backing itself.
 */
TEST_F(backed, truncate_running)
{
	char buf[65536], exe[PATH_MAX] = "";
	int in, out, status, i, errs[3];
	ssize_t n, len;
	pid_t pid;

	in = open("/bin/sleep", O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, in);
	out = open(BACK("prog"), O_WRONLY | O_CREAT | O_CLOEXEC, 0755);
	ASSERT_LE(0, out);
	while ((n = read(in, buf, sizeof(buf))) > 0)
		ASSERT_EQ(n, write(out, buf, n));
	ASSERT_EQ(0, n);
	close(in);
	ASSERT_EQ(0, close(out));

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		execl(BACK("prog"), "prog", "30", (char *)NULL);
		_exit(127);
	}
	/* until it runs the program */
	for (i = 0; i < 500; i++) {
		snprintf(buf, sizeof(buf), "/proc/%d/exe", pid);
		len = readlink(buf, exe, sizeof(exe) - 1);
		if (len > 0) {
			exe[len] = '\0';
			if (!strcmp(exe, BACK("prog")))
				break;
		}
		usleep(10000);
	}
	errs[0] = truncate(BACK("prog"), 0) ? errno : 0;
	errs[1] = truncate(MNT("prog"), 0) ? errno : 0;
	n = open(MNT("prog"), O_WRONLY | O_TRUNC | O_CLOEXEC);
	errs[2] = n < 0 ? errno : 0;
	if (n >= 0)
		close(n);
	kill(pid, SIGKILL);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_STREQ(BACK("prog"), exe);
	EXPECT_EQ(ETXTBSY, errs[0]) TH_LOG("backing: %s", strerror(errs[0]));
	EXPECT_EQ(ETXTBSY, errs[1]) TH_LOG("truncate: %s", strerror(errs[1]));
	EXPECT_EQ(ETXTBSY, errs[2]) TH_LOG("O_TRUNC: %s", strerror(errs[2]));
	ASSERT_EQ(0, truncate(MNT("prog"), 0));
}

TEST_F(backed, chmod)
{
	struct stat st;
	int fd;

	PUT(BACK("file"), CONTENT);
	ASSERT_EQ(0, mkdir(BACK("dir"), 0755));

	ASSERT_EQ(0, chmod(MNT("file"), 0600))
		TH_LOG("chmod: %s", strerror(errno));
	ASSERT_EQ(0, stat(BACK("file"), &st));
	ASSERT_EQ(S_IFREG | 0600, st.st_mode);

	fd = open(MNT("file"), O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, fchmod(fd, 04751)) TH_LOG("fchmod: %s", strerror(errno));
	ASSERT_EQ(0, close(fd));
	ASSERT_EQ(0, stat(BACK("file"), &st));
	ASSERT_EQ(S_IFREG | 04751, st.st_mode);

	ASSERT_EQ(0, chmod(MNT("dir"), 0700));
	ASSERT_EQ(0, stat(BACK("dir"), &st));
	ASSERT_EQ(S_IFDIR | 0700, st.st_mode);

	ASSERT_EQ(0, chmod(self->e.mnt, 0711));
	ASSERT_EQ(0, stat(self->e.back, &st));
	ASSERT_EQ(S_IFDIR | 0711, st.st_mode);

	check_stat(_metadata, MNT("file"), BACK("file"), self->e.dev);
	check_stat(_metadata, MNT("dir"), BACK("dir"), self->e.dev);
	check_stat(_metadata, self->e.mnt, self->e.back, self->e.dev);
}

TEST_F(backed, chown)
{
	struct stat st;

	PUT(BACK("file"), CONTENT);
	ASSERT_EQ(0, symlink("file", BACK("link")));

	ASSERT_EQ(0, chown(MNT("file"), NOBODY, NOBODY))
		TH_LOG("chown: %s", strerror(errno));
	ASSERT_EQ(0, stat(BACK("file"), &st));
	ASSERT_EQ(NOBODY, st.st_uid);
	ASSERT_EQ(NOBODY, st.st_gid);

	ASSERT_EQ(0, chown(MNT("file"), -1, 0));
	ASSERT_EQ(0, stat(BACK("file"), &st));
	ASSERT_EQ(NOBODY, st.st_uid);
	ASSERT_EQ(0, st.st_gid);

	/* the link itself, not its target */
	ASSERT_EQ(0, lchown(MNT("link"), NOBODY, NOBODY))
		TH_LOG("lchown: %s", strerror(errno));
	ASSERT_EQ(0, lstat(BACK("link"), &st));
	ASSERT_EQ(NOBODY, st.st_uid);
	ASSERT_EQ(NOBODY, st.st_gid);
	ASSERT_EQ(0, stat(BACK("file"), &st));
	ASSERT_EQ(0, st.st_gid);

	check_stat(_metadata, MNT("file"), BACK("file"), self->e.dev);
	check_stat(_metadata, MNT("link"), BACK("link"), self->e.dev);
}

TEST_F(backed, utimens)
{
	struct timespec ts[2] = {
		{ .tv_sec = 1000000000, .tv_nsec = 123456789 },
		{ .tv_sec = 1200000000, .tv_nsec = 987654321 },
	};
	struct timespec now;
	struct stat st;
	int fd;

	PUT(BACK("file"), CONTENT);
	ASSERT_EQ(0, mkdir(BACK("dir"), 0755));

	ASSERT_EQ(0, utimensat(AT_FDCWD, MNT("file"), ts, 0))
		TH_LOG("utimensat: %s", strerror(errno));
	ASSERT_EQ(0, stat(BACK("file"), &st));
	ASSERT_EQ(ts[0].tv_sec, st.st_atim.tv_sec);
	ASSERT_EQ(ts[0].tv_nsec, st.st_atim.tv_nsec);
	ASSERT_EQ(ts[1].tv_sec, st.st_mtim.tv_sec);
	ASSERT_EQ(ts[1].tv_nsec, st.st_mtim.tv_nsec);
	check_stat(_metadata, MNT("file"), BACK("file"), self->e.dev);

	/* UTIME_OMIT keeps atime, UTIME_NOW sets mtime to now */
	ASSERT_EQ(0, clock_gettime(CLOCK_REALTIME, &now));
	ts[0].tv_nsec = UTIME_OMIT;
	ts[1].tv_nsec = UTIME_NOW;
	ASSERT_EQ(0, utimensat(AT_FDCWD, MNT("file"), ts, 0));
	ASSERT_EQ(0, stat(BACK("file"), &st));
	ASSERT_EQ(1000000000, st.st_atim.tv_sec);
	ASSERT_EQ(123456789, st.st_atim.tv_nsec);
	ASSERT_LE(now.tv_sec - 1, st.st_mtim.tv_sec);

	/* by file descriptor, on a directory */
	ts[0].tv_nsec = 1;
	ts[1].tv_nsec = 2;
	fd = open(MNT("dir"), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, futimens(fd, ts)) TH_LOG("futimens: %s", strerror(errno));
	ASSERT_EQ(0, close(fd));
	ASSERT_EQ(0, stat(BACK("dir"), &st));
	ASSERT_EQ(ts[0].tv_sec, st.st_atim.tv_sec);
	ASSERT_EQ(1, st.st_atim.tv_nsec);
	ASSERT_EQ(ts[1].tv_sec, st.st_mtim.tv_sec);
	ASSERT_EQ(2, st.st_mtim.tv_nsec);
	check_stat(_metadata, MNT("dir"), BACK("dir"), self->e.dev);
}

TEST_F(backed, stat)
{
	static const char * const names[] = {
		"file", "dir", "link", "fifo", "hard", "dir/inner",
	};
	struct stat a, b;
	int i;

	PUT(BACK("file"), CONTENT);
	ASSERT_EQ(0, mkdir(BACK("dir"), 0750));
	PUT(BACK("dir/inner"), "x");
	ASSERT_EQ(0, symlink("file", BACK("link")));
	ASSERT_EQ(0, mkfifo(BACK("fifo"), 0640));
	ASSERT_EQ(0, link(BACK("file"), BACK("hard")));

	check_stat(_metadata, self->e.mnt, self->e.back, self->e.dev);
	for (i = 0; i < ARRAY_SIZE(names); i++)
		check_stat(_metadata, MNT(names[i]), BACK(names[i]),
			   self->e.dev);

	/* hard links are one node; a symlink leads to its target */
	ASSERT_EQ(0, stat(MNT("file"), &a));
	ASSERT_EQ(0, stat(MNT("hard"), &b));
	ASSERT_EQ(a.st_ino, b.st_ino);
	ASSERT_EQ(2, a.st_nlink);
	ASSERT_EQ(0, stat(MNT("link"), &b));
	ASSERT_EQ(a.st_ino, b.st_ino);
}

TEST_F(backed, statfs)
{
	struct statfs m, b;

	PUT(BACK("file"), CONTENT);
	ASSERT_EQ(0, statfs(self->e.mnt, &m))
		TH_LOG("statfs: %s", strerror(errno));
	ASSERT_EQ(0, statfs(self->e.back, &b));
	EXPECT_EQ(FUSE_SUPER_MAGIC, m.f_type);
	EXPECT_EQ(b.f_bsize, m.f_bsize);
	EXPECT_EQ(b.f_blocks, m.f_blocks);
	EXPECT_EQ(b.f_bfree, m.f_bfree);
	EXPECT_EQ(b.f_bavail, m.f_bavail);
	EXPECT_EQ(b.f_files, m.f_files);
	EXPECT_EQ(b.f_ffree, m.f_ffree);
	EXPECT_EQ(b.f_namelen, m.f_namelen);

	ASSERT_EQ(0, statfs(MNT("file"), &m));
	EXPECT_EQ(FUSE_SUPER_MAGIC, m.f_type);
	EXPECT_EQ(b.f_files, m.f_files);
	EXPECT_EQ(b.f_ffree, m.f_ffree);
}

TEST_F(backed, readdir)
{
	char name[NAME_MAX];
	struct dirent *de;
	int i, n1 = 0, n2 = 0;
	DIR *dir;

	for (i = 0; i < 60; i++) {
		snprintf(name, sizeof(name),
			 "a-file-with-a-rather-long-name-to-fill-buffers-%03d", i);
		PUT(BACK(name), "");
	}
	ASSERT_EQ(0, mkdir(BACK("sub"), 0755));
	PUT(BACK("sub/inner"), "");
	ASSERT_EQ(0, symlink("x", BACK("link")));
	ASSERT_EQ(0, mkfifo(BACK("fifo"), 0600));

	check_same_listing(_metadata, self->e.mnt, self->e.back);
	check_same_listing(_metadata, MNT("sub"), BACK("sub"));

	/* rewinddir gives the same listing again */
	dir = opendir(self->e.mnt);
	ASSERT_NE(NULL, dir);
	while ((de = readdir(dir)))
		n1++;
	rewinddir(dir);
	while ((de = readdir(dir)))
		n2++;
	ASSERT_EQ(0, closedir(dir));
	ASSERT_EQ(60 + 5, n1);
	ASSERT_EQ(n1, n2);
}

TEST_F(backed, create)
{
	struct stat st;
	int fd;

	fd = open(MNT("new"), O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0640);
	ASSERT_LE(0, fd) TH_LOG("create: %s", strerror(errno));
	ASSERT_EQ(strlen(CONTENT), write(fd, CONTENT, strlen(CONTENT)));
	ASSERT_EQ(0, close(fd));
	ASSERT_EQ(0, lstat(BACK("new"), &st));
	ASSERT_EQ(S_IFREG | 0640, st.st_mode);
	ASSERT_EQ(0, st.st_uid);
	CHECK_FILE(BACK("new"), CONTENT);
	check_stat(_metadata, MNT("new"), BACK("new"), self->e.dev);
	ASSERT_TRUE(dir_has(self->e.mnt, "new"));

	ASSERT_FAILS(EEXIST, open(MNT("new"), O_CREAT | O_EXCL | O_WRONLY,
				  0600));
	/* O_CREAT without O_EXCL opens the existing file */
	fd = open(MNT("new"), O_CREAT | O_RDONLY | O_CLOEXEC, 0600);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, close(fd));
	CHECK_FILE(BACK("new"), CONTENT);

	/* in a subdirectory, with the umask (022) applied */
	ASSERT_EQ(0, mkdir(BACK("sub"), 0755));
	fd = open(MNT("sub/new2"), O_CREAT | O_WRONLY | O_CLOEXEC, 0666);
	ASSERT_LE(0, fd) TH_LOG("create in a subdir: %s", strerror(errno));
	ASSERT_EQ(0, close(fd));
	ASSERT_EQ(0, lstat(BACK("sub/new2"), &st));
	ASSERT_EQ(S_IFREG | 0644, st.st_mode);

	ASSERT_FAILS(ENOENT, open(MNT("nodir/x"), O_CREAT | O_WRONLY, 0644));
}

TEST_F(backed, mkdir)
{
	struct stat st;

	ASSERT_EQ(0, mkdir(MNT("dir"), 0750)) TH_LOG("mkdir: %s",
						     strerror(errno));
	ASSERT_EQ(0, lstat(BACK("dir"), &st));
	ASSERT_EQ(S_IFDIR | 0750, st.st_mode);
	check_stat(_metadata, MNT("dir"), BACK("dir"), self->e.dev);
	check_stat(_metadata, self->e.mnt, self->e.back, self->e.dev);
	ASSERT_EQ(0, stat(MNT("dir"), &st));
	ASSERT_EQ(2, st.st_nlink);

	ASSERT_FAILS(EEXIST, mkdir(MNT("dir"), 0755));
	ASSERT_EQ(0, mkdir(MNT("dir/sub"), 0700));
	ASSERT_EQ(0, lstat(BACK("dir/sub"), &st));
	ASSERT_EQ(S_IFDIR | 0700, st.st_mode);
	ASSERT_EQ(0, stat(MNT("dir"), &st));
	ASSERT_EQ(3, st.st_nlink);
	ASSERT_FAILS(ENOENT, mkdir(MNT("missing/sub"), 0755));
	check_same_listing(_metadata, MNT("dir"), BACK("dir"));
}

TEST_F(backed, rmdir)
{
	struct stat st;

	ASSERT_EQ(0, mkdir(BACK("empty"), 0755));
	ASSERT_EQ(0, mkdir(BACK("full"), 0755));
	ASSERT_EQ(0, mkdir(BACK("fresh"), 0755));
	PUT(BACK("full/x"), "x");
	PUT(BACK("file"), "x");

	ASSERT_EQ(0, stat(MNT("empty"), &st));
	ASSERT_EQ(0, rmdir(MNT("empty"))) TH_LOG("rmdir: %s", strerror(errno));
	ASSERT_FAILS(ENOENT, lstat(BACK("empty"), &st));
	ASSERT_FAILS(ENOENT, lstat(MNT("empty"), &st));

	/* one never looked up before */
	ASSERT_EQ(0, rmdir(MNT("fresh")));
	ASSERT_FAILS(ENOENT, lstat(BACK("fresh"), &st));

	ASSERT_FAILS(ENOTEMPTY, rmdir(MNT("full")));
	ASSERT_EQ(0, lstat(BACK("full/x"), &st));
	ASSERT_FAILS(ENOTDIR, rmdir(MNT("file")));
	ASSERT_FAILS(ENOENT, rmdir(MNT("empty")));
	check_stat(_metadata, self->e.mnt, self->e.back, self->e.dev);
	check_same_listing(_metadata, self->e.mnt, self->e.back);
}

TEST_F(backed, unlink)
{
	char buf[256];
	struct stat st;
	int fd;

	PUT(BACK("file"), CONTENT);
	ASSERT_EQ(0, mkdir(BACK("dir"), 0755));

	fd = open(MNT("file"), O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, unlink(MNT("file"))) TH_LOG("unlink: %s",
						 strerror(errno));
	ASSERT_FAILS(ENOENT, lstat(BACK("file"), &st));
	ASSERT_FAILS(ENOENT, lstat(MNT("file"), &st));
	ASSERT_FALSE(dir_has(self->e.mnt, "file"));

	/* the open file lives on */
	ASSERT_EQ(0, fstat(fd, &st));
	ASSERT_EQ(0, st.st_nlink);
	ASSERT_EQ(strlen(CONTENT), pread(fd, buf, sizeof(buf), 0));
	ASSERT_EQ(0, memcmp(buf, CONTENT, strlen(CONTENT)));
	ASSERT_EQ(0, close(fd));

	ASSERT_FAILS(ENOENT, unlink(MNT("file")));
	ASSERT_FAILS(EISDIR, unlink(MNT("dir")));

	/* one of two hard links */
	PUT(BACK("a"), CONTENT);
	ASSERT_EQ(0, link(BACK("a"), BACK("b")));
	ASSERT_EQ(0, stat(MNT("b"), &st));
	ASSERT_EQ(2, st.st_nlink);
	ASSERT_EQ(0, unlink(MNT("a")));
	ASSERT_EQ(0, stat(BACK("b"), &st));
	ASSERT_EQ(1, st.st_nlink);
	ASSERT_EQ(0, stat(MNT("b"), &st));
	ASSERT_EQ(1, st.st_nlink);
	CHECK_FILE(MNT("b"), CONTENT);
}

TEST_F(backed, rename)
{
	struct stat st, st0;

	PUT(BACK("a"), "A");
	PUT(BACK("b"), "B");
	ASSERT_EQ(0, mkdir(BACK("sub"), 0755));

	ASSERT_EQ(0, stat(MNT("a"), &st0));
	ASSERT_EQ(0, rename(MNT("a"), MNT("c"))) TH_LOG("rename: %s",
							strerror(errno));
	ASSERT_FAILS(ENOENT, lstat(BACK("a"), &st));
	ASSERT_FAILS(ENOENT, lstat(MNT("a"), &st));
	CHECK_FILE(BACK("c"), "A");
	CHECK_FILE(MNT("c"), "A");
	ASSERT_EQ(0, stat(MNT("c"), &st));
	ASSERT_EQ(st0.st_ino, st.st_ino);

	/* over an existing file */
	ASSERT_EQ(0, rename(MNT("c"), MNT("b")));
	ASSERT_FAILS(ENOENT, lstat(BACK("c"), &st));
	CHECK_FILE(BACK("b"), "A");
	CHECK_FILE(MNT("b"), "A");

	/* into a subdirectory, then the directory itself */
	ASSERT_EQ(0, rename(MNT("b"), MNT("sub/b")));
	CHECK_FILE(BACK("sub/b"), "A");
	ASSERT_EQ(0, rename(MNT("sub"), MNT("sub2")));
	ASSERT_FAILS(ENOENT, lstat(BACK("sub"), &st));
	ASSERT_FAILS(ENOENT, lstat(MNT("sub"), &st));
	CHECK_FILE(BACK("sub2/b"), "A");
	CHECK_FILE(MNT("sub2/b"), "A");

	ASSERT_FAILS(ENOENT, rename(MNT("missing"), MNT("x")));
	check_same_listing(_metadata, self->e.mnt, self->e.back);
}

TEST_F(backed, rename_noreplace)
{
	struct stat st;

	PUT(BACK("a"), "A");
	PUT(BACK("b"), "B");
	ASSERT_FAILS(EEXIST, renameat2(AT_FDCWD, MNT("a"), AT_FDCWD, MNT("b"),
				       RENAME_NOREPLACE));
	CHECK_FILE(BACK("a"), "A");
	CHECK_FILE(BACK("b"), "B");

	ASSERT_EQ(0, renameat2(AT_FDCWD, MNT("a"), AT_FDCWD, MNT("c"),
			       RENAME_NOREPLACE))
		TH_LOG("RENAME_NOREPLACE: %s", strerror(errno));
	ASSERT_FAILS(ENOENT, lstat(BACK("a"), &st));
	CHECK_FILE(BACK("c"), "A");
	CHECK_FILE(MNT("c"), "A");
}

TEST_F(backed, rename_exchange)
{
	struct stat st, sa, sb;

	PUT(BACK("a"), "A");
	PUT(BACK("b"), "B");
	ASSERT_EQ(0, mkdir(BACK("dir"), 0755));
	PUT(BACK("dir/x"), "X");

	ASSERT_EQ(0, stat(MNT("a"), &sa));
	ASSERT_EQ(0, stat(MNT("b"), &sb));
	ASSERT_EQ(0, renameat2(AT_FDCWD, MNT("a"), AT_FDCWD, MNT("b"),
			       RENAME_EXCHANGE))
		TH_LOG("RENAME_EXCHANGE: %s", strerror(errno));
	CHECK_FILE(BACK("a"), "B");
	CHECK_FILE(BACK("b"), "A");
	CHECK_FILE(MNT("a"), "B");
	CHECK_FILE(MNT("b"), "A");
	ASSERT_EQ(0, stat(MNT("a"), &st));
	ASSERT_EQ(sb.st_ino, st.st_ino);

	/* a file and a directory */
	ASSERT_EQ(0, renameat2(AT_FDCWD, MNT("a"), AT_FDCWD, MNT("dir"),
			       RENAME_EXCHANGE));
	ASSERT_EQ(0, lstat(BACK("a"), &st));
	ASSERT_TRUE(S_ISDIR(st.st_mode));
	CHECK_FILE(BACK("a/x"), "X");
	CHECK_FILE(MNT("a/x"), "X");
	CHECK_FILE(BACK("dir"), "B");
	CHECK_FILE(MNT("dir"), "B");

	ASSERT_FAILS(ENOENT, renameat2(AT_FDCWD, MNT("b"), AT_FDCWD,
				       MNT("missing"), RENAME_EXCHANGE));
	check_same_listing(_metadata, self->e.mnt, self->e.back);
}

TEST_F(backed, link)
{
	struct stat ba, bb, ma, mb;
	int fd;

	PUT(BACK("a"), CONTENT);
	ASSERT_EQ(0, mkdir(BACK("dir"), 0755));

	ASSERT_EQ(0, link(MNT("a"), MNT("b"))) TH_LOG("link: %s",
						      strerror(errno));
	ASSERT_EQ(0, lstat(BACK("a"), &ba));
	ASSERT_EQ(0, lstat(BACK("b"), &bb));
	ASSERT_EQ(ba.st_ino, bb.st_ino);
	ASSERT_EQ(2, bb.st_nlink);
	ASSERT_EQ(0, lstat(MNT("a"), &ma));
	ASSERT_EQ(0, lstat(MNT("b"), &mb));
	ASSERT_EQ(ba.st_ino, mb.st_ino);
	ASSERT_EQ(ma.st_ino, mb.st_ino);
	ASSERT_EQ(2, ma.st_nlink);

	/* one inode: a write through one name shows through the other */
	fd = open(MNT("b"), O_WRONLY | O_APPEND | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(5, write(fd, "more\n", 5));
	ASSERT_EQ(0, close(fd));
	CHECK_FILE(MNT("a"), CONTENT "more\n");
	CHECK_FILE(BACK("a"), CONTENT "more\n");

	ASSERT_EQ(0, link(MNT("a"), MNT("dir/c")));
	ASSERT_EQ(0, lstat(BACK("dir/c"), &bb));
	ASSERT_EQ(ba.st_ino, bb.st_ino);
	ASSERT_EQ(3, bb.st_nlink);

	ASSERT_FAILS(EEXIST, link(MNT("a"), MNT("b")));
	ASSERT_FAILS(EPERM, link(MNT("dir"), MNT("dir2")));
}

TEST_F(backed, symlink)
{
	char buf[PATH_MAX];
	struct stat st;

	ASSERT_EQ(0, symlink("some/target", MNT("link")))
		TH_LOG("symlink: %s", strerror(errno));
	ASSERT_EQ(11, readlink(BACK("link"), buf, sizeof(buf)));
	ASSERT_EQ(0, memcmp(buf, "some/target", 11));
	ASSERT_EQ(0, lstat(BACK("link"), &st));
	ASSERT_TRUE(S_ISLNK(st.st_mode));
	check_stat(_metadata, MNT("link"), BACK("link"), self->e.dev);

	memset(buf, 0, sizeof(buf));
	ASSERT_EQ(11, readlink(MNT("link"), buf, sizeof(buf)))
		TH_LOG("readlink: %s", strerror(errno));
	ASSERT_STREQ("some/target", buf);

	/* made in the backing, read and followed through the mount */
	PUT(BACK("file"), CONTENT);
	ASSERT_EQ(0, symlink("file", BACK("link2")));
	memset(buf, 0, sizeof(buf));
	ASSERT_EQ(4, readlink(MNT("link2"), buf, sizeof(buf)))
		TH_LOG("readlink: %s", strerror(errno));
	ASSERT_STREQ("file", buf);
	CHECK_FILE(MNT("link2"), CONTENT);

	ASSERT_FAILS(EEXIST, symlink("x", MNT("link")));
}

TEST_F(backed, mknod_fifo)
{
	struct stat st;

	ASSERT_EQ(0, mkfifo(MNT("fifo"), 0640)) TH_LOG("mkfifo: %s",
						       strerror(errno));
	ASSERT_EQ(0, lstat(BACK("fifo"), &st));
	ASSERT_EQ(S_IFIFO | 0640, st.st_mode);
	check_stat(_metadata, MNT("fifo"), BACK("fifo"), self->e.dev);

	ASSERT_EQ(0, mknod(MNT("reg"), S_IFREG | 0600, 0))
		TH_LOG("mknod: %s", strerror(errno));
	ASSERT_EQ(0, lstat(BACK("reg"), &st));
	ASSERT_EQ(S_IFREG | 0600, st.st_mode);
	ASSERT_EQ(0, st.st_size);

	ASSERT_FAILS(EEXIST, mkfifo(MNT("fifo"), 0600));
}

TEST_F(backed, xattr)
{
	char buf[256], mlist[256], blist[256];
	ssize_t n, nb;

	PUT(BACK("file"), CONTENT);
	if (setxattr(BACK("file"), "user.probe", "1", 1, 0))
		SKIP(return, "no user.* xattrs on the backing tmpfs: %s",
		     strerror(errno));
	ASSERT_EQ(0, removexattr(BACK("file"), "user.probe"));

	ASSERT_EQ(0, setxattr(MNT("file"), "user.one", "value-1", 7, 0))
		TH_LOG("setxattr: %s", strerror(errno));
	ASSERT_EQ(7, getxattr(BACK("file"), "user.one", buf, sizeof(buf)));
	ASSERT_EQ(0, memcmp(buf, "value-1", 7));

	ASSERT_EQ(7, getxattr(MNT("file"), "user.one", NULL, 0))
		TH_LOG("getxattr: %s", strerror(errno));
	memset(buf, 0, sizeof(buf));
	ASSERT_EQ(7, getxattr(MNT("file"), "user.one", buf, sizeof(buf)));
	ASSERT_EQ(0, memcmp(buf, "value-1", 7));
	ASSERT_FAILS(ERANGE, getxattr(MNT("file"), "user.one", buf, 3));

	/* set in the backing, listed through the mount */
	ASSERT_EQ(0, setxattr(BACK("file"), "user.two", "2", 1, 0));
	n = listxattr(MNT("file"), mlist, sizeof(mlist));
	ASSERT_LT(0, n) TH_LOG("listxattr: %s", strerror(errno));
	nb = listxattr(BACK("file"), blist, sizeof(blist));
	ASSERT_EQ(nb, n);
	ASSERT_EQ(0, memcmp(mlist, blist, n));
	ASSERT_EQ(n, listxattr(MNT("file"), NULL, 0));

	ASSERT_FAILS(EEXIST, setxattr(MNT("file"), "user.one", "x", 1,
				      XATTR_CREATE));
	ASSERT_FAILS(ENODATA, setxattr(MNT("file"), "user.three", "x", 1,
				       XATTR_REPLACE));
	ASSERT_EQ(0, setxattr(MNT("file"), "user.one", "new", 3,
			      XATTR_REPLACE));
	ASSERT_EQ(3, getxattr(BACK("file"), "user.one", buf, sizeof(buf)));
	ASSERT_EQ(0, memcmp(buf, "new", 3));

	ASSERT_EQ(0, removexattr(MNT("file"), "user.one"))
		TH_LOG("removexattr: %s", strerror(errno));
	ASSERT_FAILS(ENODATA, getxattr(BACK("file"), "user.one", buf,
				       sizeof(buf)));
	ASSERT_FAILS(ENODATA, getxattr(MNT("file"), "user.one", buf,
				       sizeof(buf)));
	ASSERT_FAILS(ENODATA, removexattr(MNT("file"), "user.one"));

	/* on the root directory */
	ASSERT_EQ(0, setxattr(self->e.mnt, "user.root", "r", 1, 0));
	ASSERT_EQ(1, getxattr(self->e.back, "user.root", buf, sizeof(buf)));
	ASSERT_EQ('r', buf[0]);
}

TEST_F(backed, fallocate)
{
	const size_t size = 65536;
	struct stat st, st2;
	char *data;
	int fd;

	PUT(BACK("file"), "");
	fd = open(MNT("file"), O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, fallocate(fd, 0, 0, size))
		TH_LOG("fallocate: %s", strerror(errno));
	ASSERT_EQ(0, stat(BACK("file"), &st));
	ASSERT_EQ(size, st.st_size);
	ASSERT_LE(size / 512, st.st_blocks);

	ASSERT_EQ(0, fallocate(fd, FALLOC_FL_KEEP_SIZE, size, size))
		TH_LOG("fallocate(KEEP_SIZE): %s", strerror(errno));
	ASSERT_EQ(0, stat(BACK("file"), &st));
	ASSERT_EQ(size, st.st_size);
	ASSERT_LE(2 * size / 512, st.st_blocks);

	/* punch a hole into written data */
	data = malloc(size);
	ASSERT_NE(NULL, data);
	memset(data, 0xaa, size);
	ASSERT_EQ(size, pwrite(fd, data, size, 0));
	ASSERT_EQ(0, stat(BACK("file"), &st));
	ASSERT_EQ(0, fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			       8192, 16384))
		TH_LOG("punch hole: %s", strerror(errno));
	ASSERT_EQ(0, close(fd));
	ASSERT_EQ(0, stat(BACK("file"), &st2));
	ASSERT_EQ(size, st2.st_size);
	ASSERT_GT(st.st_blocks, st2.st_blocks);
	memset(data + 8192, 0, 16384);
	check_file(_metadata, BACK("file"), data, size);
	check_file(_metadata, MNT("file"), data, size);
	check_stat(_metadata, MNT("file"), BACK("file"), self->e.dev);
	free(data);
}

TEST_F(backed, lseek_data_hole)
{
	const off_t size = (1 << 20) + 4;
	off_t hole, data;
	int fd, bfd;

	bfd = open(BACK("sparse"), O_CREAT | O_RDWR | O_CLOEXEC, 0644);
	ASSERT_LE(0, bfd);
	ASSERT_EQ(4, pwrite(bfd, "data", 4, 0));
	ASSERT_EQ(4, pwrite(bfd, "data", 4, 1 << 20));
	hole = lseek(bfd, 0, SEEK_HOLE);
	data = lseek(bfd, hole, SEEK_DATA);
	ASSERT_EQ(0, close(bfd));
	if (hole <= 0 || hole >= size)
		SKIP(return, "the backing file system reports no holes");

	fd = open(MNT("sparse"), O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(hole, lseek(fd, 0, SEEK_HOLE))
		TH_LOG("SEEK_HOLE: %s", strerror(errno));
	ASSERT_EQ(data, lseek(fd, hole, SEEK_DATA))
		TH_LOG("SEEK_DATA: %s", strerror(errno));
	ASSERT_EQ(data, lseek(fd, 0, SEEK_CUR));
	ASSERT_EQ(size, lseek(fd, data, SEEK_HOLE));
	ASSERT_FAILS(ENXIO, lseek(fd, size, SEEK_DATA));
	ASSERT_EQ(size, lseek(fd, 0, SEEK_END));
	ASSERT_EQ(10, lseek(fd, 10, SEEK_SET));
	ASSERT_EQ(0, close(fd));
}

TEST_F(backed, copy_file_range)
{
	const size_t size = 65536, len = 40000;
	loff_t off_in = 100, off_out = 0;
	size_t left = len;
	int in, out;
	char *data;
	ssize_t n;

	data = malloc(size);
	ASSERT_NE(NULL, data);
	fill_pattern(data, size, 4);
	put_file(_metadata, BACK("src"), data, size);
	PUT(BACK("dst"), "");

	in = open(MNT("src"), O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, in);
	out = open(MNT("dst"), O_WRONLY | O_CLOEXEC);
	ASSERT_LE(0, out);
	while (left) {
		n = copy_file_range(in, &off_in, out, &off_out, left, 0);
		ASSERT_LT(0, n) TH_LOG("copy_file_range: %s",
				       n ? strerror(errno) : "no progress");
		left -= n;
	}
	/* explicit offsets leave the file positions alone */
	ASSERT_EQ(0, lseek(in, 0, SEEK_CUR));
	ASSERT_EQ(0, lseek(out, 0, SEEK_CUR));
	ASSERT_EQ(0, close(in));
	ASSERT_EQ(0, close(out));
	check_file(_metadata, BACK("dst"), data + 100, len);
	check_file(_metadata, MNT("dst"), data + 100, len);
	free(data);
}

TEST_F(backed, flock)
{
	int fd1, fd2;

	PUT(BACK("file"), CONTENT);
	fd1 = open(MNT("file"), O_RDONLY | O_CLOEXEC);
	fd2 = open(MNT("file"), O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd1);
	ASSERT_LE(0, fd2);

	ASSERT_EQ(0, flock(fd1, LOCK_EX)) TH_LOG("flock: %s", strerror(errno));
	ASSERT_FAILS(EWOULDBLOCK, flock(fd2, LOCK_EX | LOCK_NB));
	ASSERT_FAILS(EWOULDBLOCK, flock(fd2, LOCK_SH | LOCK_NB));
	ASSERT_EQ(0, flock(fd1, LOCK_SH));
	ASSERT_EQ(0, flock(fd2, LOCK_SH | LOCK_NB));
	ASSERT_FAILS(EWOULDBLOCK, flock(fd1, LOCK_EX | LOCK_NB));
	ASSERT_EQ(0, flock(fd2, LOCK_UN));

	/* closing the file drops its lock */
	ASSERT_EQ(0, flock(fd1, LOCK_EX));
	ASSERT_EQ(0, close(fd1));
	ASSERT_EQ(0, flock(fd2, LOCK_EX | LOCK_NB));
	ASSERT_EQ(0, close(fd2));
}

/* A flock through the mount is a flock of the backing file. */
TEST_F(backed, flock_backing)
{
	int fd1, fd2, bfd;

	PUT(BACK("file"), CONTENT);
	fd1 = open(MNT("file"), O_RDONLY | O_CLOEXEC);
	fd2 = open(MNT("file"), O_RDONLY | O_CLOEXEC);
	bfd = open(BACK("file"), O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd1);
	ASSERT_LE(0, fd2);
	ASSERT_LE(0, bfd);

	ASSERT_EQ(0, flock(fd1, LOCK_EX)) TH_LOG("flock: %s", strerror(errno));
	ASSERT_FAILS(EWOULDBLOCK, flock(bfd, LOCK_SH | LOCK_NB));
	ASSERT_EQ(0, close(fd1));
	ASSERT_EQ(0, flock(bfd, LOCK_EX | LOCK_NB));
	ASSERT_FAILS(EWOULDBLOCK, flock(fd2, LOCK_SH | LOCK_NB));
	ASSERT_EQ(0, flock(bfd, LOCK_UN));
	ASSERT_EQ(0, flock(fd2, LOCK_SH | LOCK_NB));
	ASSERT_EQ(0, close(fd2));
	ASSERT_EQ(0, close(bfd));
}

static const char * const posix_lock_steps[8] = {
	"ok", "?", "open", "F_GETLK missed the lock",
	"F_SETLK did not conflict", "F_SETLK on a free range failed",
	"F_SETLK after the unlock failed", "?",
};

/*
 * In a child: the parent's write lock on bytes 0..9 of the file, as
 * another process sees it through @path.
 */
static int posix_lock_child(const char *path, pid_t owner)
{
	struct flock fl = {
		.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_len = 10,
	};
	int fd;

	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return 2;
	if (fcntl(fd, F_GETLK, &fl) || fl.l_type != F_WRLCK ||
	    fl.l_pid != owner || fl.l_start != 0 || fl.l_len != 10)
		return 3;
	fl.l_type = F_RDLCK;
	fl.l_start = 5;
	fl.l_len = 1;
	if (!fcntl(fd, F_SETLK, &fl) || (errno != EAGAIN && errno != EACCES))
		return 4;
	fl.l_type = F_WRLCK;
	fl.l_start = 20;
	fl.l_len = 10;
	if (fcntl(fd, F_SETLK, &fl))
		return 5;
	return 0;
}

/* In a child: bytes 0..9 of @path are free now. */
static int posix_unlocked_child(const char *path)
{
	struct flock fl = {
		.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_len = 10,
	};
	int fd;

	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return 2;
	return fcntl(fd, F_SETLK, &fl) ? 6 : 0;
}

/*
 * Lock bytes 0..9 through the mount, then check in children what another
 * process sees through @other (the mount or the backing file).
 */
static void check_posix_lock(struct __test_metadata *_metadata,
			     const char *mnt_file, const char *other)
{
	struct flock fl = {
		.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_len = 10,
	};
	int fd, status;
	pid_t pid;

	fd = open(mnt_file, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, fcntl(fd, F_SETLK, &fl))
		TH_LOG("F_SETLK: %s", strerror(errno));
	/* our own lock does not conflict with us */
	ASSERT_EQ(0, fcntl(fd, F_GETLK, &fl));
	ASSERT_EQ(F_UNLCK, fl.l_type);

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		_exit(posix_lock_child(other, getppid()));
	status = wait_child(pid, 10000);
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status))
		TH_LOG("%s: %s", other, posix_lock_steps[WEXITSTATUS(status) % 8]);

	fl.l_type = F_UNLCK;
	ASSERT_EQ(0, fcntl(fd, F_SETLK, &fl));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		_exit(posix_unlocked_child(other));
	status = wait_child(pid, 10000);
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status))
		TH_LOG("%s: %s", other, posix_lock_steps[WEXITSTATUS(status) % 8]);
	ASSERT_EQ(0, close(fd));
}

TEST_F(backed, posix_lock)
{
	PUT(BACK("file"), CONTENT);
	check_posix_lock(_metadata, MNT("file"), MNT("file"));
}

/* A POSIX lock through the mount is a lock of the backing file. */
TEST_F(backed, posix_lock_backing)
{
	PUT(BACK("file"), CONTENT);
	check_posix_lock(_metadata, MNT("file"), BACK("file"));
}

/* O_DIRECT through the mount on @mnt_file, backed by @back_file. */
static void check_o_direct(struct __test_metadata *_metadata,
			   const char *mnt_file, const char *back_file)
{
	const size_t size = 16384;
	char *data = malloc(size);
	void *buf;
	int fd;

	ASSERT_NE(NULL, data);
	ASSERT_EQ(0, posix_memalign(&buf, 4096, 4096));
	fill_pattern(data, size, 3);
	put_file(_metadata, back_file, data, size);

	fd = open(mnt_file, O_RDWR | O_DIRECT | O_CLOEXEC);
	ASSERT_LE(0, fd) TH_LOG("open(O_DIRECT): %s", strerror(errno));
	ASSERT_NE(0, fcntl(fd, F_GETFL) & O_DIRECT);
	ASSERT_EQ(4096, pread(fd, buf, 4096, 4096))
		TH_LOG("O_DIRECT read: %s", strerror(errno));
	ASSERT_EQ(0, memcmp(buf, data + 4096, 4096));
	memset(buf, 'D', 4096);
	ASSERT_EQ(4096, pwrite(fd, buf, 4096, 8192))
		TH_LOG("O_DIRECT write: %s", strerror(errno));
	ASSERT_EQ(0, close(fd));
	memset(data + 8192, 'D', 4096);
	check_file(_metadata, back_file, data, size);
	free(buf);
	free(data);
}

TEST_F(backed, o_direct)
{
	int fd;

	PUT(BACK("probe"), "");
	fd = open(BACK("probe"), O_RDONLY | O_DIRECT | O_CLOEXEC);
	if (fd < 0 && errno == EINVAL)
		SKIP(return, "the backing file system has no O_DIRECT");
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, close(fd));
	check_o_direct(_metadata, MNT("file"), BACK("file"));
}

TEST_F(backed, splice)
{
	char data[20000], back[20000];
	int in, out, pfd[2];
	off_t off = 0;

	fill_pattern(data, sizeof(data), 7);
	put_file(_metadata, BACK("src"), data, sizeof(data));
	in = open(MNT("src"), O_RDONLY | O_CLOEXEC);
	out = open(MNT("dst"), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	ASSERT_LE(0, in);
	ASSERT_LE(0, out);

	/* sendfile: splice_read from the mount into a file on the mount */
	ASSERT_EQ(sizeof(data), sendfile(out, in, &off, sizeof(data)))
		TH_LOG("sendfile: %s", strerror(errno));
	check_file(_metadata, BACK("dst"), data, sizeof(data));

	/* splice through a pipe, both ends on the mount (splice_write) */
	ASSERT_EQ(0, pipe(pfd));
	off = 0;
	ASSERT_EQ(4096, splice(in, &off, pfd[1], NULL, 4096, 0));
	off = 100000;
	ASSERT_EQ(4096, splice(pfd[0], NULL, out, &off, 4096, 0))
		TH_LOG("splice to the mount: %s", strerror(errno));
	ASSERT_EQ(0, close(pfd[0]));
	ASSERT_EQ(0, close(pfd[1]));
	ASSERT_EQ(0, close(in));
	ASSERT_EQ(0, close(out));

	in = open(BACK("dst"), O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, in);
	ASSERT_EQ(4096, pread(in, back, 4096, 100000));
	ASSERT_EQ(0, memcmp(back, data, 4096));
	ASSERT_EQ(0, close(in));
}

/* Linux AIO through the raw syscalls (no libaio in the VM). */
TEST_F(backed, aio)
{
	char data[8192], got[8192];
	struct iocb cb = {}, *cbs[1] = { &cb };
	struct io_event ev = {};
	aio_context_t ctx = 0;
	int fd;

	fill_pattern(data, sizeof(data), 9);
	PUT(BACK("file"), "");
	fd = open(MNT("file"), O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, syscall(__NR_io_setup, 4, &ctx));

	cb.aio_fildes = fd;
	cb.aio_lio_opcode = IOCB_CMD_PWRITE;
	cb.aio_buf = (unsigned long)data;
	cb.aio_nbytes = sizeof(data);
	cb.aio_offset = 4096;
	ASSERT_EQ(1, syscall(__NR_io_submit, ctx, 1, cbs));
	ASSERT_EQ(1, syscall(__NR_io_getevents, ctx, 1, 1, &ev, NULL));
	ASSERT_EQ(sizeof(data), ev.res);

	memset(&cb, 0, sizeof(cb));
	cb.aio_fildes = fd;
	cb.aio_lio_opcode = IOCB_CMD_PREAD;
	cb.aio_buf = (unsigned long)got;
	cb.aio_nbytes = sizeof(got);
	cb.aio_offset = 4096;
	ASSERT_EQ(1, syscall(__NR_io_submit, ctx, 1, cbs));
	ASSERT_EQ(1, syscall(__NR_io_getevents, ctx, 1, 1, &ev, NULL));
	ASSERT_EQ(sizeof(got), ev.res);
	ASSERT_EQ(0, memcmp(got, data, sizeof(got)));

	ASSERT_EQ(0, syscall(__NR_io_destroy, ctx));
	ASSERT_EQ(0, close(fd));
	fd = open(BACK("file"), O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(sizeof(got), pread(fd, got, sizeof(got), 4096));
	ASSERT_EQ(0, memcmp(got, data, sizeof(got)));
	ASSERT_EQ(0, close(fd));
}

TEST_F(backed, ioctl)
{
	unsigned int flags, bflags;
	int fd, bfd;

	PUT(BACK("file"), CONTENT);
	fd = open(MNT("file"), O_RDONLY | O_CLOEXEC);
	bfd = open(BACK("file"), O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_LE(0, bfd);

	/* the file attribute ioctls reach the backing inode */
	if (ioctl(bfd, FS_IOC_GETFLAGS, &bflags))
		SKIP(return, "the backing file system has no FS_IOC_GETFLAGS");
	ASSERT_EQ(0, ioctl(fd, FS_IOC_GETFLAGS, &flags))
		TH_LOG("FS_IOC_GETFLAGS: %s", strerror(errno));
	ASSERT_EQ(bflags, flags);
	flags |= FS_NOATIME_FL;
	ASSERT_EQ(0, ioctl(fd, FS_IOC_SETFLAGS, &flags));
	ASSERT_EQ(0, ioctl(bfd, FS_IOC_GETFLAGS, &bflags));
	ASSERT_TRUE(bflags & FS_NOATIME_FL);

	/*
	 * Anything else is refused rather than run with the backing's
	 * credentials, and never reaches the daemon (the teardown checks the
	 * daemon variant got nothing but INIT).
	 */
	ASSERT_FAILS(ENOTTY, ioctl(fd, FS_IOC_GETVERSION, &flags));
	ASSERT_EQ(0, close(fd));
	ASSERT_EQ(0, close(bfd));
}

TEST_F(backed, mmap_shared)
{
	const size_t size = 8192;
	char data[8192];
	struct stat st;
	char *p;
	int fd, bfd;

	fill_pattern(data, size, 5);
	put_file(_metadata, BACK("file"), data, size);
	fd = open(MNT("file"), O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p) TH_LOG("mmap: %s", strerror(errno));
	ASSERT_EQ(0, memcmp(p, data, size));

	memcpy(p + 100, "MMAP", 4);
	ASSERT_EQ(0, msync(p, size, MS_SYNC));
	memcpy(data + 100, "MMAP", 4);
	check_file(_metadata, BACK("file"), data, size);

	/* and the other way round */
	bfd = open(BACK("file"), O_WRONLY | O_CLOEXEC);
	ASSERT_LE(0, bfd);
	ASSERT_EQ(4, pwrite(bfd, "BACK", 4, 5000));
	ASSERT_EQ(0, close(bfd));
	ASSERT_EQ(0, memcmp(p + 5000, "BACK", 4));

	ASSERT_EQ(0, munmap(p, size));
	ASSERT_EQ(0, close(fd));
	ASSERT_EQ(0, stat(BACK("file"), &st));
	ASSERT_EQ(size, st.st_size);
}

TEST_F(backed, tmpfile)
{
	struct dent *d = calloc(MAX_DENTS, sizeof(*d));
	struct stat st, bst;
	int fd, before;

	ASSERT_NE(NULL, d);
	fd = open(self->e.back, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0 && errno == EOPNOTSUPP)
		SKIP(return, "the backing file system has no O_TMPFILE");
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, close(fd));
	before = list_dir(self->e.back, d, MAX_DENTS);

	fd = open(self->e.mnt, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	ASSERT_LE(0, fd) TH_LOG("O_TMPFILE: %s", strerror(errno));
	ASSERT_EQ(strlen(CONTENT), write(fd, CONTENT, strlen(CONTENT)));
	ASSERT_EQ(0, fstat(fd, &st));
	ASSERT_EQ(S_IFREG | 0600, st.st_mode);
	ASSERT_EQ(0, st.st_nlink);
	ASSERT_EQ(before, list_dir(self->e.back, d, MAX_DENTS));

	ASSERT_EQ(0, linkat(fd, "", AT_FDCWD, MNT("linked"), AT_EMPTY_PATH))
		TH_LOG("linkat: %s", strerror(errno));
	ASSERT_EQ(0, close(fd));
	CHECK_FILE(BACK("linked"), CONTENT);
	ASSERT_EQ(0, lstat(BACK("linked"), &bst));
	ASSERT_EQ(st.st_ino, bst.st_ino);
	ASSERT_EQ(1, bst.st_nlink);
	free(d);
}

TEST_F(backed, fsync)
{
	int fd;

	PUT(BACK("file"), "");
	fd = open(MNT("file"), O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(strlen(CONTENT), write(fd, CONTENT, strlen(CONTENT)));
	ASSERT_EQ(0, fsync(fd)) TH_LOG("fsync: %s", strerror(errno));
	ASSERT_EQ(0, fdatasync(fd)) TH_LOG("fdatasync: %s", strerror(errno));
	ASSERT_EQ(0, close(fd));
	fd = open(self->e.mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, fsync(fd)) TH_LOG("fsync of a dir: %s", strerror(errno));
	ASSERT_EQ(0, close(fd));
	CHECK_FILE(BACK("file"), CONTENT);
}

/*
 * Evicted backed nodes come back with the same identity; with a daemon,
 * the teardown checks that none of this sent it a FORGET.
 */
TEST_F(backed, drop_caches)
{
	struct stat st, st2;

	ASSERT_EQ(0, mkdir(BACK("dir"), 0755));
	PUT(BACK("dir/file"), CONTENT);
	PUT(BACK("top"), CONTENT);
	ASSERT_EQ(0, stat(MNT("dir/file"), &st));
	CHECK_FILE(MNT("dir/file"), CONTENT);
	CHECK_FILE(MNT("top"), CONTENT);
	check_same_listing(_metadata, MNT("dir"), BACK("dir"));

	ASSERT_EQ(0, evict_caches());
	usleep(200000);
	ASSERT_EQ(0, stat(MNT("dir/file"), &st2));
	ASSERT_EQ(st.st_ino, st2.st_ino);
	CHECK_FILE(MNT("dir/file"), CONTENT);
	ASSERT_EQ(0, evict_caches());
	usleep(200000);
}

/* Changes made directly in the backing show at once through the mount. */
TEST_F(backed, coherency_create)
{
	struct stat st;

	ASSERT_FAILS(ENOENT, stat(MNT("late"), &st));
	ASSERT_FALSE(dir_has(self->e.mnt, "late"));
	PUT(BACK("late"), CONTENT);
	ASSERT_EQ(0, stat(MNT("late"), &st))
		TH_LOG("a negative dentry hides the new file");
	CHECK_FILE(MNT("late"), CONTENT);
	ASSERT_TRUE(dir_has(self->e.mnt, "late"));

	ASSERT_FAILS(ENOENT, stat(MNT("dir/x"), &st));
	ASSERT_EQ(0, mkdir(BACK("dir"), 0755));
	PUT(BACK("dir/x"), "x");
	CHECK_FILE(MNT("dir/x"), "x");
	check_stat(_metadata, MNT("dir"), BACK("dir"), self->e.dev);
}

TEST_F(backed, coherency_append)
{
	char buf[64];
	struct stat st;
	int fd, bfd;

	PUT(BACK("file"), "one\n");
	fd = open(MNT("file"), O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, stat(MNT("file"), &st));
	ASSERT_EQ(4, st.st_size);

	bfd = open(BACK("file"), O_WRONLY | O_APPEND | O_CLOEXEC);
	ASSERT_LE(0, bfd);
	ASSERT_EQ(4, write(bfd, "two\n", 4));
	ASSERT_EQ(0, close(bfd));

	ASSERT_EQ(0, stat(MNT("file"), &st));
	ASSERT_EQ(8, st.st_size);
	ASSERT_EQ(0, fstat(fd, &st));
	ASSERT_EQ(8, st.st_size);
	ASSERT_EQ(8, pread(fd, buf, sizeof(buf), 0));
	ASSERT_EQ(0, memcmp(buf, "one\ntwo\n", 8));
	CHECK_FILE(MNT("file"), "one\ntwo\n");

	ASSERT_EQ(0, truncate(BACK("file"), 2));
	ASSERT_EQ(0, chmod(BACK("file"), 0604));
	ASSERT_EQ(2, pread(fd, buf, sizeof(buf), 0));
	ASSERT_EQ(0, close(fd));
	check_stat(_metadata, MNT("file"), BACK("file"), self->e.dev);
}

TEST_F(backed, coherency_rename)
{
	struct stat st, st0;

	PUT(BACK("a"), "A");
	ASSERT_EQ(0, stat(MNT("a"), &st0));
	ASSERT_EQ(0, rename(BACK("a"), BACK("b")));
	ASSERT_FAILS(ENOENT, stat(MNT("a"), &st));
	ASSERT_EQ(0, stat(MNT("b"), &st));
	ASSERT_EQ(st0.st_ino, st.st_ino);
	CHECK_FILE(MNT("b"), "A");

	ASSERT_EQ(0, mkdir(BACK("d"), 0755));
	PUT(BACK("d/x"), "X");
	CHECK_FILE(MNT("d/x"), "X");
	ASSERT_EQ(0, rename(BACK("d"), BACK("e")));
	ASSERT_FAILS(ENOENT, stat(MNT("d/x"), &st));
	ASSERT_FAILS(ENOENT, stat(MNT("d"), &st));
	CHECK_FILE(MNT("e/x"), "X");

	/* renamed to a prefix of its name, and to a longer one */
	PUT(BACK("long"), "L");
	CHECK_FILE(MNT("long"), "L");
	ASSERT_EQ(0, rename(BACK("long"), BACK("lo")));
	ASSERT_FAILS(ENOENT, stat(MNT("long"), &st));
	CHECK_FILE(MNT("lo"), "L");
	ASSERT_EQ(0, rename(BACK("lo"), BACK("lon")));
	ASSERT_FAILS(ENOENT, stat(MNT("lo"), &st));
	CHECK_FILE(MNT("lon"), "L");

	/* renamed over a name the mount had looked up */
	PUT(BACK("c"), "C1");
	PUT(BACK("c2"), "C2");
	CHECK_FILE(MNT("c"), "C1");
	ASSERT_EQ(0, rename(BACK("c2"), BACK("c")));
	CHECK_FILE(MNT("c"), "C2");
	check_stat(_metadata, MNT("c"), BACK("c"), self->e.dev);
	check_same_listing(_metadata, self->e.mnt, self->e.back);
}

TEST_F(backed, coherency_unlink)
{
	struct stat st;

	PUT(BACK("a"), "A");
	ASSERT_EQ(0, stat(MNT("a"), &st));
	ASSERT_EQ(0, unlink(BACK("a")));
	ASSERT_FAILS(ENOENT, stat(MNT("a"), &st));
	ASSERT_FALSE(dir_has(self->e.mnt, "a"));

	/* replaced by a new file of the same name */
	PUT(BACK("b"), "old");
	CHECK_FILE(MNT("b"), "old");
	ASSERT_EQ(0, unlink(BACK("b")));
	PUT(BACK("b"), "new content");
	CHECK_FILE(MNT("b"), "new content");
	check_stat(_metadata, MNT("b"), BACK("b"), self->e.dev);

	ASSERT_EQ(0, mkdir(BACK("d"), 0755));
	ASSERT_EQ(0, stat(MNT("d"), &st));
	ASSERT_EQ(0, rmdir(BACK("d")));
	ASSERT_FAILS(ENOENT, stat(MNT("d"), &st));
}

/*
 * ---- cached: backing_timeout=, the opt-in attribute and entry cache ----
 *
 * For backing_timeout milliseconds after the kernel last read a node's
 * attributes (or checked a name) in the backing tree, it uses them without
 * reading again. Changes made through the mount show at once; changes made
 * directly in the backing tree may not until the time runs out. Data is
 * never cached, and names new in the backing tree are found at once.
 */

FIXTURE(cached) {
	struct env e;
};

FIXTURE_VARIANT(cached) {
	bool daemon;
};

FIXTURE_VARIANT_ADD(cached, no_daemon) {
	.daemon = false,
};

FIXTURE_VARIANT_ADD(cached, daemon) {
	.daemon = true,
};

/* An hour: it does not run out during a test. */
#define CACHE_OPT	",backing_timeout=3601234"

FIXTURE_SETUP(cached)
{
	umask(022);
	ASSERT_EQ(0, env_backing(&self->e)) TH_LOG("%s", strerror(errno));
	strcpy(self->e.extra, CACHE_OPT);
	ASSERT_EQ(0, env_mount(&self->e, variant->daemon))
		TH_LOG("mount with %s: %s", CACHE_OPT, strerror(errno));
}

FIXTURE_TEARDOWN(cached)
{
	if (self->e.d)
		expect_only_init(_metadata, self->e.d);
	env_teardown(_metadata, &self->e);
}

/* The option is in /proc/self/mounts, as it was given. */
TEST_F(cached, shown)
{
	char line[4096];
	bool found = false;
	FILE *f = fopen("/proc/self/mounts", "r");

	ASSERT_NE(NULL, f);
	while (fgets(line, sizeof(line), f))
		if (strstr(line, self->e.mnt) &&
		    strstr(line, "backing_timeout=3601234"))
			found = true;
	fclose(f);
	ASSERT_TRUE(found);
}

/* What may show stale: attributes and names changed in the backing. */
TEST_F(cached, stale_from_backing)
{
	struct stat st0, st;
	char buf[64];
	int fd;

	PUT(BACK("file"), CONTENT);
	ASSERT_EQ(0, mkdir(BACK("dir"), 0755));
	ASSERT_EQ(0, stat(MNT("file"), &st0));
	ASSERT_EQ(0, stat(MNT("dir"), &st));

	/* size and times */
	ASSERT_EQ(0, truncate(BACK("file"), 2));
	ASSERT_EQ(0, stat(MNT("file"), &st));
	EXPECT_EQ(st0.st_size, st.st_size) TH_LOG("the size was not cached");

	/* data is the backing file's, always, and an open reads the size */
	ASSERT_EQ(2, read_all(MNT("file"), buf, sizeof(buf)));
	ASSERT_EQ(0, memcmp(buf, CONTENT, 2));
	fd = open(MNT("file"), O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, fstat(fd, &st));
	EXPECT_EQ(2, st.st_size);
	ASSERT_EQ(0, close(fd));

	/* what permissions are decided on is never cached */
	ASSERT_EQ(0, chmod(BACK("file"), 0600));
	ASSERT_EQ(0, stat(MNT("file"), &st));
	EXPECT_EQ(S_IFREG | 0600, st.st_mode);

	/* a name renamed in the backing still leads to its node */
	ASSERT_EQ(0, rename(BACK("dir"), BACK("dir2")));
	ASSERT_EQ(0, stat(MNT("dir"), &st)) TH_LOG("the name was not cached");
	/* but a listing is the backing directory's */
	ASSERT_FALSE(dir_has(self->e.mnt, "dir"));
	ASSERT_TRUE(dir_has(self->e.mnt, "dir2"));
}

/*
 * A read through the mount does not end the cache (it sets the atime); a
 * statx asking for more than the basic fields is not served from it.
 */
TEST_F(cached, reads_and_statx)
{
	struct statx stx;
	struct stat st0, st;
	char buf[64];

	PUT(BACK("file"), CONTENT);
	ASSERT_EQ(0, stat(MNT("file"), &st0));
	ASSERT_EQ(strlen(CONTENT), read_all(MNT("file"), buf, sizeof(buf)));
	ASSERT_EQ(0, truncate(BACK("file"), 3));
	ASSERT_EQ(0, stat(MNT("file"), &st));
	EXPECT_EQ(st0.st_size, st.st_size) TH_LOG("a read ended the cache");
	ASSERT_EQ(0, statx(AT_FDCWD, MNT("file"), 0,
			   STATX_BASIC_STATS | STATX_BTIME, &stx));
	EXPECT_EQ(3, stx.stx_size) TH_LOG("statx with btime was cached");
}

/* What may not: what is done through the mount, and new names. */
TEST_F(cached, fresh_through_mount)
{
	struct timespec times[2] = { { .tv_sec = 1000 }, { .tv_sec = 2000 } };
	struct stat st;
	int fd;

	PUT(BACK("file"), CONTENT);
	ASSERT_EQ(0, stat(MNT("file"), &st));

	ASSERT_EQ(0, chmod(MNT("file"), 0640));
	check_stat(_metadata, MNT("file"), BACK("file"), self->e.dev);
	ASSERT_EQ(0, truncate(MNT("file"), 3));
	check_stat(_metadata, MNT("file"), BACK("file"), self->e.dev);
	fd = open(MNT("file"), O_WRONLY | O_APPEND | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(5, write(fd, "12345", 5));
	ASSERT_EQ(0, fstat(fd, &st));
	ASSERT_EQ(8, st.st_size);
	ASSERT_EQ(0, close(fd));
	check_stat(_metadata, MNT("file"), BACK("file"), self->e.dev);
	ASSERT_EQ(0, utimensat(AT_FDCWD, MNT("file"), times, 0));
	check_stat(_metadata, MNT("file"), BACK("file"), self->e.dev);

	/* a tick between changes, so that each changes the ctime */
	usleep(20000);
	ASSERT_EQ(0, link(MNT("file"), MNT("link")));
	check_stat(_metadata, MNT("file"), BACK("file"), self->e.dev);
	usleep(20000);
	ASSERT_EQ(0, rename(MNT("file"), MNT("moved")));
	ASSERT_FAILS(ENOENT, stat(MNT("file"), &st));
	check_stat(_metadata, MNT("moved"), BACK("moved"), self->e.dev);
	usleep(20000);
	ASSERT_EQ(0, unlink(MNT("moved")));
	ASSERT_FAILS(ENOENT, stat(MNT("moved"), &st));
	check_stat(_metadata, MNT("link"), BACK("link"), self->e.dev);
	check_stat(_metadata, self->e.mnt, self->e.back, self->e.dev);

	/* a name new in the backing tree is found at once */
	ASSERT_FAILS(ENOENT, stat(MNT("late"), &st));
	PUT(BACK("late"), "late");
	check_stat(_metadata, MNT("late"), BACK("late"), self->e.dev);
	/* (after the stat: a read may leave the atime cached) */
	CHECK_FILE(MNT("late"), "late");
}

/* Whether uid 65534 can stat @path. */
static bool nobody_can_stat(const char *path)
{
	struct stat st;
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		if (setgid(65534) || setuid(65534))
			_exit(2);
		_exit(stat(path, &st) ? 1 : 0);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return false;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* The time runs out: then the backing tree's changes show. */
TEST(cached_expires)
{
	struct env e;
	struct stat st;

	umask(022);
	ASSERT_EQ(0, env_backing(&e)) TH_LOG("%s", strerror(errno));
	strcpy(e.extra, ",backing_timeout=300");
	ASSERT_EQ(0, env_mount(&e, false)) TH_LOG("%s", strerror(errno));
	put_str(_metadata, path_in(e.back, "file"), CONTENT);
	put_str(_metadata, path_in(e.back, "file2"), CONTENT);
	ASSERT_EQ(0, stat(path_in(e.mnt, "file"), &st));
	ASSERT_EQ(0, stat(path_in(e.mnt, "file2"), &st));

	ASSERT_EQ(0, truncate(path_in(e.back, "file2"), 1));
	ASSERT_EQ(0, rename(path_in(e.back, "file"), path_in(e.back, "new")));
	usleep(600000);
	ASSERT_FAILS(ENOENT, stat(path_in(e.mnt, "file"), &st));
	check_stat(_metadata, path_in(e.mnt, "new"), path_in(e.back, "new"),
		   e.dev);
	check_stat(_metadata, path_in(e.mnt, "file2"), path_in(e.back, "file2"),
		   e.dev);
	env_teardown(_metadata, &e);
}

/*
 * The caller's permission is never decided on cached attributes: a
 * directory the backing made searchable only for its owner refuses
 * another caller (on an allow_other mount) at once.
 */
TEST(cached_permission)
{
	struct env e;

	umask(022);
	ASSERT_EQ(0, env_backing(&e)) TH_LOG("%s", strerror(errno));
	strcpy(e.extra, ",allow_other" CACHE_OPT);
	ASSERT_EQ(0, env_mount(&e, false)) TH_LOG("%s", strerror(errno));
	ASSERT_EQ(0, mkdir(path_in(e.back, "dir"), 0755));
	put_str(_metadata, path_in(e.back, "dir/file"), CONTENT);
	ASSERT_TRUE(nobody_can_stat(path_in(e.mnt, "dir/file")));
	ASSERT_EQ(0, chmod(path_in(e.back, "dir"), 0700));
	ASSERT_FALSE(nobody_can_stat(path_in(e.mnt, "dir/file")));
	ASSERT_EQ(0, chmod(path_in(e.back, "dir"), 0755));
	ASSERT_TRUE(nobody_can_stat(path_in(e.mnt, "dir/file")));
	env_teardown(_metadata, &e);
}

/* ---- LOOKUP replies with struct fuse_bpf_entry_out ---- */

static const struct ftd_entry lx_tree[] = {
	{ "dir", S_IFDIR | 0755 },
	{ "dir2", S_IFDIR | 0755 },
	{ "file", S_IFREG | 0644, SERVER_DATA },
	{ "plain", S_IFREG | 0644, SERVER_DATA },
	{ "link", S_IFLNK | 0777 },
	{ NULL }
};

enum { DIR_NODE = 2, DIR2_NODE, FILE_NODE, PLAIN_NODE, LINK_NODE };

/* How the daemon answers LOOKUP of one name in the root. */
struct reply_spec {
	char name[16];
	int extra;		/* bytes after struct fuse_entry_out */
	struct fuse_bpf_entry_out ext;
	__u64 nodeid;		/* replaces the node id if set */
	bool uncached;		/* entry and attr timeouts of 0 */
	bool reval;		/* entry timeout 0, attr timeout an hour */
	bool die;		/* leave it unanswered and stop serving */
};

struct lookup_reply {
	struct fuse_entry_out entry;
	struct fuse_bpf_entry_out ext;
	__u64 more[2];
};

struct forgotten {
	__u64 nodeid;
	__u64 nlookup;
};

/* Shared with the daemon thread. */
struct lx {
	struct ftd_config cfg;
	pthread_mutex_t lock;
	struct reply_spec spec[8];
	int nr_forgets;
	struct forgotten forgets[64];
	int open_backing_id;	/* OPEN of "plain" is FOPEN_PASSTHROUGH */
};

static void lx_set(struct lx *lx, const char *name, const struct reply_spec *s)
{
	int i;

	pthread_mutex_lock(&lx->lock);
	for (i = 0; i < ARRAY_SIZE(lx->spec); i++) {
		if (!lx->spec[i].name[0] || !strcmp(lx->spec[i].name, name)) {
			lx->spec[i] = *s;
			snprintf(lx->spec[i].name, sizeof(lx->spec[i].name),
				 "%s", name);
			break;
		}
	}
	pthread_mutex_unlock(&lx->lock);
}

/* A well-formed reply of @type (0: without the extension). */
static void lx_reply(struct lx *lx, const char *name, __u32 type, __u64 id)
{
	struct reply_spec s = {
		.extra = type ? EXT_SIZE : 0,
		.ext = { .entry_type = type, .backing_id = id },
	};

	lx_set(lx, name, &s);
}

static bool lx_get(struct lx *lx, const char *name, struct reply_spec *s)
{
	bool found = false;
	int i;

	pthread_mutex_lock(&lx->lock);
	for (i = 0; i < ARRAY_SIZE(lx->spec) && !found; i++) {
		if (!strcmp(lx->spec[i].name, name)) {
			*s = lx->spec[i];
			found = true;
		}
	}
	pthread_mutex_unlock(&lx->lock);
	return found;
}

static void lx_forgot(struct lx *lx, __u64 nodeid, __u64 nlookup)
{
	pthread_mutex_lock(&lx->lock);
	if (lx->nr_forgets < ARRAY_SIZE(lx->forgets)) {
		lx->forgets[lx->nr_forgets].nodeid = nodeid;
		lx->forgets[lx->nr_forgets].nlookup = nlookup;
	}
	lx->nr_forgets++;
	pthread_mutex_unlock(&lx->lock);
}

static int lx_lookup(struct ftd *d, struct lx *lx,
		     const struct fuse_in_header *in, const char *name)
{
	struct lookup_reply r = {};
	struct reply_spec s;
	__u64 id;

	if (in->nodeid != FUSE_ROOT_ID || !lx_get(lx, name, &s))
		return FTD_DEFAULT;
	if (s.die)
		return FTD_DIE;
	id = ftd_lookup(d, in->nodeid, name);
	if (!id)
		return -ENOENT;
	ftd_fill_entry(d, id, &r.entry);
	if (s.nodeid)
		r.entry.nodeid = s.nodeid;
	if (s.uncached) {
		r.entry.entry_valid = 0;
		r.entry.attr_valid = 0;
	}
	if (s.reval) {
		r.entry.entry_valid = 0;
		r.entry.attr_valid = 3600;
	}
	r.ext = s.ext;
	/* a reply the kernel refuses fails the write; that is expected */
	ftd_reply(d, in->unique, 0, &r, sizeof(r.entry) + s.extra);
	return FTD_HANDLED;
}

static int lx_open(struct ftd *d, struct lx *lx,
		   const struct fuse_in_header *in)
{
	struct fuse_open_out out = { .fh = in->nodeid };

	pthread_mutex_lock(&lx->lock);
	out.backing_id = lx->open_backing_id;
	pthread_mutex_unlock(&lx->lock);
	if (in->nodeid != PLAIN_NODE || !out.backing_id)
		return FTD_DEFAULT;
	out.open_flags = FOPEN_PASSTHROUGH;
	ftd_reply(d, in->unique, 0, &out, sizeof(out));
	return FTD_HANDLED;
}

static int lx_hook(struct ftd *d, const struct fuse_in_header *in,
		   const void *arg, size_t len, void *priv)
{
	const struct fuse_batch_forget_in *batch = arg;
	const struct fuse_forget_in *forget = arg;
	const struct fuse_forget_one *one;
	struct lx *lx = priv;
	__u32 i;

	switch (in->opcode) {
	case FUSE_FORGET:
		lx_forgot(lx, in->nodeid, forget->nlookup);
		return FTD_HANDLED;
	case FUSE_BATCH_FORGET:
		one = (const void *)(batch + 1);
		for (i = 0; i < batch->count &&
		     sizeof(*batch) + (i + 1) * sizeof(*one) <= len; i++)
			lx_forgot(lx, one[i].nodeid, one[i].nlookup);
		return FTD_HANDLED;
	case FUSE_LOOKUP:
		return lx_lookup(d, lx, in, arg);
	case FUSE_OPEN:
		return lx_open(d, lx, in);
	default:
		return FTD_DEFAULT;
	}
}

/*
 * The backing tree: bdir/{f1,sub/file,sub2/}, bfile, blink -> bfile.
 * The daemon's tree is lx_tree.
 */
static int lx_start_cfg(struct env *e, struct lx *lx, bool allow_dev,
			__u64 init_flags)
{
	struct stat st;

	memset(lx, 0, sizeof(*lx));
	pthread_mutex_init(&lx->lock, NULL);
	if (env_backing(e))
		return -1;
	if (mkdir(path_in(e->back, "bdir"), 0755) ||
	    mkdir(path_in(e->back, "bdir/sub"), 0755) ||
	    mkdir(path_in(e->back, "bdir/sub2"), 0755) ||
	    make_file(path_in(e->back, "bdir/f1"), F1_DATA,
		      strlen(F1_DATA)) ||
	    make_file(path_in(e->back, "bdir/sub/file"), NESTED_DATA,
		      strlen(NESTED_DATA)) ||
	    make_file(path_in(e->back, "bfile"), BFILE_DATA,
		      strlen(BFILE_DATA)) ||
	    symlink("bfile", path_in(e->back, "blink")))
		return -1;
	lx->cfg.entries = lx_tree;
	lx->cfg.mount_opts = "fuse_bpf";
	lx->cfg.hook = lx_hook;
	lx->cfg.hook_priv = lx;
	lx->cfg.allow_dev = allow_dev;
	lx->cfg.init_flags = init_flags;
	e->d = ftd_start(&lx->cfg);
	if (!e->d)
		return -1;
	snprintf(e->mnt, sizeof(e->mnt), "%s", e->d->mnt);
	if (stat(e->mnt, &st))
		return -1;
	e->dev = st.st_dev;
	return 0;
}

static int lx_start(struct env *e, struct lx *lx)
{
	return lx_start_cfg(e, lx, false, 0);
}

/* The log is INIT and exactly one LOOKUP, of @name in the root. */
static void assert_only_lookup(struct __test_metadata *_metadata,
			       struct ftd *d, const char *name)
{
	struct ftd_log_entry *log = calloc(FTD_LOG_MAX, sizeof(*log));
	char buf[FTD_LOG_BUF];
	int i, n, lookups = 0, others = 0;

	ASSERT_NE(NULL, log);
	n = ftd_log_get(d, log, FTD_LOG_MAX);
	for (i = 0; i < n && i < FTD_LOG_MAX; i++) {
		if (log[i].opcode == FUSE_INIT)
			continue;
		if (log[i].opcode == FUSE_LOOKUP &&
		    log[i].nodeid == FUSE_ROOT_ID &&
		    !strcmp(log[i].name, name))
			lookups++;
		else
			others++;
	}
	free(log);
	ASSERT_EQ(0, others) TH_LOG("requests for backed nodes: %s",
				    ftd_log_str(d, buf, sizeof(buf)));
	ASSERT_EQ(1, lookups) TH_LOG("expected one LOOKUP of %s: %s", name,
				     ftd_log_str(d, buf, sizeof(buf)));
}

FIXTURE(lookup_ext) {
	struct env e;
	struct lx lx;
	int dir_id;	/* registered "bdir" */
	int file_id;	/* registered "bfile" */
};

static void lx_fixture_setup(struct __test_metadata *_metadata,
			     struct env *e, struct lx *lx,
			     int *dir_id, int *file_id)
{
	int err = 0;

	if (lx_start(e, lx)) {
		err = errno;
		env_cleanup(e);
	}
	ASSERT_EQ(0, err) TH_LOG("fuse_bpf daemon mount: %s", strerror(err));
	*dir_id = backing_register(e->d, path_in(e->back, "bdir"),
				   O_RDONLY | O_DIRECTORY);
	if (*dir_id > 0)
		*file_id = backing_register(e->d, path_in(e->back, "bfile"),
					    O_RDWR);
	if (*dir_id <= 0 || *file_id <= 0) {
		err = errno;
		env_cleanup(e);
	}
	ASSERT_EQ(0, err)
		TH_LOG("FUSE_DEV_IOC_BACKING_OPEN of a %s: %s",
		       *dir_id <= 0 ? "directory" : "file", strerror(err));
	ftd_log_clear(e->d);
}

FIXTURE_SETUP(lookup_ext)
{
	lx_fixture_setup(_metadata, &self->e, &self->lx, &self->dir_id,
			 &self->file_id);
}

FIXTURE_TEARDOWN(lookup_ext)
{
	env_teardown(_metadata, &self->e);
}

TEST_F(lookup_ext, backing_dir)
{
	struct stat st;
	int fd;

	lx_reply(&self->lx, "dir", FUSE_BPF_ENTRY_BACKING, self->dir_id);
	check_same_listing(_metadata, MNT("dir"), BACK("bdir"));
	CHECK_FILE(MNT("dir/f1"), F1_DATA);
	check_stat(_metadata, MNT("dir"), BACK("bdir"), self->e.dev);
	check_stat(_metadata, MNT("dir/f1"), BACK("bdir/f1"), self->e.dev);

	fd = open(MNT("dir/f1"), O_WRONLY | O_APPEND | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(5, write(fd, "more\n", 5));
	ASSERT_EQ(0, close(fd));
	CHECK_FILE(BACK("bdir/f1"), F1_DATA "more\n");
	ASSERT_FAILS(ENOENT, stat(MNT("dir/none"), &st));

	assert_only_lookup(_metadata, self->e.d, "dir");
}

/*
 * FUSE_BPF_ENTRY_TIMEOUT gives a node (and what the kernel finds beneath
 * it) its own backing_timeout; the server's FUSE_NOTIFY_INVAL_INODE ends
 * the node's early. A node without it has the mount's: none here.
 */
TEST_F(lookup_ext, timeout)
{
	struct {
		struct fuse_out_header h;
		struct fuse_notify_inval_inode_out arg;
	} notify = {
		.h.len = sizeof(notify),
		.h.error = FUSE_NOTIFY_INVAL_INODE,
		.arg.off = -1,
	};
	struct reply_spec r = {
		.extra = EXT_SIZE,
		.ext = {
			.entry_type = FUSE_BPF_ENTRY_BACKING,
			.backing_id = self->dir_id,
			.flags = FUSE_BPF_ENTRY_TIMEOUT,
			.backing_timeout = 3600000,
		},
	};
	struct stat st0, st1, st;

	lx_set(&self->lx, "dir", &r);
	lx_reply(&self->lx, "file", FUSE_BPF_ENTRY_BACKING, self->file_id);
	ASSERT_EQ(0, stat(MNT("dir"), &st0));
	ASSERT_EQ(0, stat(MNT("dir/f1"), &st1));
	ASSERT_EQ(0, stat(MNT("file"), &st));

	usleep(20000);
	ASSERT_EQ(0, truncate(BACK("bdir/f1"), 1));
	ASSERT_EQ(0, truncate(BACK("bfile"), 1));
	PUT(BACK("bdir/new"), "new");
	ASSERT_EQ(0, stat(MNT("dir"), &st));
	EXPECT_EQ(st0.st_mtim.tv_nsec, st.st_mtim.tv_nsec)
		TH_LOG("dir: not cached");
	ASSERT_EQ(0, stat(MNT("dir/f1"), &st));
	EXPECT_EQ(st1.st_size, st.st_size) TH_LOG("dir/f1: not cached");
	check_stat(_metadata, MNT("file"), BACK("bfile"), self->e.dev);

	notify.arg.ino = ftd_lookup(self->e.d, FUSE_ROOT_ID, "dir");
	ASSERT_NE(0, notify.arg.ino);
	ASSERT_EQ(sizeof(notify), write(self->e.d->fd, &notify,
					 sizeof(notify)));
	check_stat(_metadata, MNT("dir"), BACK("bdir"), self->e.dev);
	EXPECT_EQ(0, ftd_count(self->e.d, FUSE_GETATTR));
}

/*
 * A server-named node the server revalidates gets the server's attributes
 * in the LOOKUP reply; a backed node shows the backing's all the same, its
 * sticky bit included, with a backing_timeout too.
 */
TEST_F(lookup_ext, timeout_revalidated)
{
	struct reply_spec r = {
		.extra = EXT_SIZE,
		.ext = {
			.entry_type = FUSE_BPF_ENTRY_BACKING,
			.backing_id = self->dir_id,
			.flags = FUSE_BPF_ENTRY_TIMEOUT,
			.backing_timeout = 3600000,
		},
		.reval = true,
	};
	struct stat st;
	int i;

	ASSERT_EQ(0, chmod(BACK("bdir"), 01777));
	lx_set(&self->lx, "dir", &r);
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(0, stat(MNT("dir"), &st));
		EXPECT_EQ(S_IFDIR | 01777, st.st_mode) TH_LOG("stat %d", i);
	}
	check_stat(_metadata, MNT("dir"), BACK("bdir"), self->e.dev);
	EXPECT_LE(2, ftd_count(self->e.d, FUSE_LOOKUP))
		TH_LOG("the server did not revalidate");
}

TEST_F(lookup_ext, nested)
{
	struct stat st;

	lx_reply(&self->lx, "dir", FUSE_BPF_ENTRY_BACKING, self->dir_id);
	CHECK_FILE(MNT("dir/sub/file"), NESTED_DATA);
	check_stat(_metadata, MNT("dir/sub"), BACK("bdir/sub"), self->e.dev);
	check_stat(_metadata, MNT("dir/sub/file"), BACK("bdir/sub/file"),
		   self->e.dev);
	check_same_listing(_metadata, MNT("dir/sub"), BACK("bdir/sub"));

	ASSERT_EQ(0, truncate(MNT("dir/sub/file"), 6));
	check_file(_metadata, BACK("bdir/sub/file"), NESTED_DATA, 6);
	ASSERT_EQ(0, chmod(MNT("dir/sub"), 0700));
	ASSERT_EQ(0, stat(BACK("bdir/sub"), &st));
	ASSERT_EQ(S_IFDIR | 0700, st.st_mode);
	ASSERT_EQ(0, stat(MNT("dir/sub2"), &st));
	ASSERT_TRUE(S_ISDIR(st.st_mode));

	assert_only_lookup(_metadata, self->e.d, "dir");
}

TEST_F(lookup_ext, backing_file)
{
	char expect[sizeof(BFILE_DATA)];
	int fd;

	lx_reply(&self->lx, "file", FUSE_BPF_ENTRY_BACKING, self->file_id);
	/* the size, data and inode number are the backing file's */
	check_stat(_metadata, MNT("file"), BACK("bfile"), self->e.dev);
	CHECK_FILE(MNT("file"), BFILE_DATA);

	fd = open(MNT("file"), O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(2, pwrite(fd, "XY", 2, 0));
	ASSERT_EQ(0, close(fd));
	memcpy(expect, BFILE_DATA, sizeof(expect));
	memcpy(expect, "XY", 2);
	check_file(_metadata, BACK("bfile"), expect, strlen(BFILE_DATA));
	check_file(_metadata, MNT("file"), expect, strlen(BFILE_DATA));
	ASSERT_EQ(0, truncate(MNT("file"), 4));
	check_file(_metadata, BACK("bfile"), expect, 4);

	ASSERT_FUSE_NOT_RECEIVED(self->e.d, FUSE_OPEN);
	ASSERT_FUSE_NOT_RECEIVED(self->e.d, FUSE_READ);
	ASSERT_FUSE_NOT_RECEIVED(self->e.d, FUSE_WRITE);
	ASSERT_FUSE_NOT_RECEIVED(self->e.d, FUSE_RELEASE);
	assert_only_lookup(_metadata, self->e.d, "file");
}

TEST_F(lookup_ext, backing_symlink)
{
	struct fuse_backing_map map = {};
	char buf[64] = {};
	int id;

	/* a symlink can only be opened as O_PATH */
	map.fd = open(BACK("blink"), O_PATH | O_NOFOLLOW | O_CLOEXEC);
	ASSERT_LE(0, map.fd);
	id = ioctl(self->e.d->fd, FUSE_DEV_IOC_BACKING_OPEN, &map);
	ASSERT_LT(0, id) TH_LOG("registering a symlink: %s", strerror(errno));
	ASSERT_EQ(0, close(map.fd));

	lx_reply(&self->lx, "link", FUSE_BPF_ENTRY_BACKING, id);
	ASSERT_EQ(5, readlink(MNT("link"), buf, sizeof(buf)))
		TH_LOG("readlink: %s", strerror(errno));
	ASSERT_STREQ("bfile", buf);
	check_stat(_metadata, MNT("link"), BACK("blink"), self->e.dev);
	assert_only_lookup(_metadata, self->e.d, "link");
}

/*
 * A backed node the daemon named is revalidated with the daemon when its
 * entry times out; the same backing in the reply keeps it.
 */
TEST_F(lookup_ext, revalidate)
{
	struct reply_spec s = {
		.extra = EXT_SIZE,
		.ext = {
			.entry_type = FUSE_BPF_ENTRY_BACKING,
			.backing_id = self->dir_id,
		},
		.uncached = true,
	};
	struct stat st, st2;
	int n;

	lx_set(&self->lx, "dir", &s);
	ASSERT_EQ(0, stat(MNT("dir/f1"), &st));
	n = ftd_count(self->e.d, FUSE_LOOKUP);
	ASSERT_LE(1, n);
	CHECK_FILE(MNT("dir/f1"), F1_DATA);
	check_same_listing(_metadata, MNT("dir"), BACK("bdir"));
	ASSERT_EQ(0, stat(MNT("dir/f1"), &st2));
	ASSERT_EQ(st.st_ino, st2.st_ino);
	/* each walk through "dir" asked the daemon again */
	ASSERT_LT(n, ftd_count(self->e.d, FUSE_LOOKUP));
	ASSERT_FUSE_NOT_RECEIVED(self->e.d, FUSE_GETATTR);
	ASSERT_FUSE_NOT_RECEIVED(self->e.d, FUSE_OPENDIR);
	ASSERT_FUSE_NOT_RECEIVED(self->e.d, FUSE_READDIR);
	ASSERT_FUSE_NOT_RECEIVED(self->e.d, FUSE_OPEN);
	ASSERT_FUSE_NOT_RECEIVED(self->e.d, FUSE_READ);
	/* the node stayed the same: it was never forgotten */
	ASSERT_FUSE_NOT_RECEIVED(self->e.d, FUSE_FORGET);
	ASSERT_FUSE_NOT_RECEIVED(self->e.d, FUSE_BATCH_FORGET);
}

TEST_F(lookup_ext, no_backing)
{
	struct ftd_log_entry *log = calloc(FTD_LOG_MAX, sizeof(*log));
	bool looked_up = false;
	struct stat st;
	int i, n;

	ASSERT_NE(NULL, log);
	lx_reply(&self->lx, "plain", FUSE_BPF_ENTRY_NO_BACKING, 0);
	CHECK_FILE(MNT("plain"), SERVER_DATA);
	ASSERT_EQ(0, stat(MNT("plain"), &st));
	ASSERT_EQ(PLAIN_NODE, st.st_ino);
	ASSERT_FUSE_RECEIVED(self->e.d, FUSE_OPEN);
	ASSERT_FUSE_RECEIVED(self->e.d, FUSE_READ);

	/* the daemon looks names up in a directory without backing */
	lx_reply(&self->lx, "dir2", FUSE_BPF_ENTRY_NO_BACKING, 0);
	ASSERT_FAILS(ENOENT, stat(MNT("dir2/none"), &st));
	n = ftd_log_get(self->e.d, log, FTD_LOG_MAX);
	for (i = 0; i < n && i < FTD_LOG_MAX; i++)
		if (log[i].opcode == FUSE_LOOKUP &&
		    log[i].nodeid == DIR2_NODE && !strcmp(log[i].name, "none"))
			looked_up = true;
	ASSERT_TRUE(looked_up);
	free(log);

	/* a reply without the extension: nothing to inherit from the root */
	ASSERT_EQ(1, ftd_count(self->e.d, FUSE_READ));
	CHECK_FILE(MNT("file"), SERVER_DATA);
	ASSERT_EQ(2, ftd_count(self->e.d, FUSE_READ));
}

static bool lx_forgotten(struct lx *lx, __u64 nodeid)
{
	bool found = false;
	int i;

	pthread_mutex_lock(&lx->lock);
	for (i = 0; i < lx->nr_forgets && i < ARRAY_SIZE(lx->forgets); i++)
		if (lx->forgets[i].nodeid == nodeid)
			found = true;
	pthread_mutex_unlock(&lx->lock);
	return found;
}

/*
 * Evicted nodes the daemon looked up get a FORGET; the nodes the kernel
 * found in their backing, which the daemon never saw, do not.
 */
TEST_F(lookup_ext, forget)
{
	struct lx *lx = &self->lx;
	int i, n;

	lx_reply(lx, "dir", FUSE_BPF_ENTRY_BACKING, self->dir_id);
	CHECK_FILE(MNT("dir/f1"), F1_DATA);
	CHECK_FILE(MNT("dir/sub/file"), NESTED_DATA);
	check_same_listing(_metadata, MNT("dir"), BACK("bdir"));
	check_same_listing(_metadata, MNT("dir/sub2"), BACK("bdir/sub2"));
	CHECK_FILE(MNT("plain"), SERVER_DATA);

	for (i = 0; i < 50; i++) {
		if (lx_forgotten(lx, DIR_NODE) && lx_forgotten(lx, PLAIN_NODE))
			break;
		if (i % 10 == 0)
			ASSERT_EQ(0, evict_caches());
		usleep(100000);
	}
	usleep(200000);

	pthread_mutex_lock(&lx->lock);
	n = lx->nr_forgets;
	for (i = 0; i < n && i < ARRAY_SIZE(lx->forgets); i++) {
		EXPECT_TRUE(lx->forgets[i].nodeid == DIR_NODE ||
			    lx->forgets[i].nodeid == PLAIN_NODE)
			TH_LOG("FORGET of node %#llx, never looked up",
			       (unsigned long long)lx->forgets[i].nodeid);
		EXPECT_EQ(1, lx->forgets[i].nlookup);
	}
	pthread_mutex_unlock(&lx->lock);
	ASSERT_TRUE(lx_forgotten(lx, DIR_NODE))
		TH_LOG("no FORGET for the evicted backed dir");
	ASSERT_TRUE(lx_forgotten(lx, PLAIN_NODE))
		TH_LOG("no FORGET for the evicted daemon node");
	ASSERT_EQ(2, n);

	/* and come back, the backed dir by asking the daemon again */
	n = ftd_count(self->e.d, FUSE_LOOKUP);
	CHECK_FILE(MNT("dir/f1"), F1_DATA);
	ASSERT_EQ(n + 1, ftd_count(self->e.d, FUSE_LOOKUP));
}

/* ---- bad input ---- */

TEST_F(lookup_ext, daemon_dies_during_lookup)
{
	struct reply_spec die = { .die = true };
	int status, code;
	struct stat st;
	pid_t pid;

	lx_reply(&self->lx, "dir", FUSE_BPF_ENTRY_BACKING, self->dir_id);
	CHECK_FILE(MNT("dir/f1"), F1_DATA);
	lx_set(&self->lx, "plain", &die);

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		/* only the daemon may hold /dev/fuse, or it never dies */
		close(self->e.d->fd);
		_exit(stat(MNT("plain"), &st) ? errno : 0);
	}
	status = wait_child(pid, 10000);
	ASSERT_NE(-1, status) TH_LOG("the lookup hung after the daemon died");
	ASSERT_TRUE(WIFEXITED(status));
	code = WEXITSTATUS(status);
	ASSERT_TRUE(code == ECONNABORTED || code == ENOTCONN)
		TH_LOG("stat: %s", code ? strerror(code) : "no error");

	/* backed nodes are still served from their backing */
	CHECK_FILE(MNT("dir/f1"), F1_DATA);
	check_same_listing(_metadata, MNT("dir"), BACK("bdir"));
	/* nodes of the daemon fail, and do not hang */
	ASSERT_FAILS(ENOTCONN, stat(MNT("file"), &st));
}

TEST_F(lookup_ext, unprivileged_backing_open)
{
	int status, id;
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		struct fuse_backing_map map = {};
		int dfd, ffd;

		dfd = open(BACK("bdir"), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		ffd = open(BACK("bfile"), O_RDWR | O_CLOEXEC);
		if (dfd < 0 || ffd < 0)
			_exit(2);
		if (setgid(NOBODY) || setuid(NOBODY))
			_exit(3);
		map.fd = dfd;
		if (ioctl(self->e.d->fd, FUSE_DEV_IOC_BACKING_OPEN, &map) >= 0)
			_exit(4);
		if (errno != EPERM)
			_exit(5);
		map.fd = ffd;
		if (ioctl(self->e.d->fd, FUSE_DEV_IOC_BACKING_OPEN, &map) >= 0)
			_exit(6);
		_exit(errno == EPERM ? 0 : 7);
	}
	status = wait_child(pid, 10000);
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status))
		TH_LOG("2: open, 3: setuid, 4/6: dir/file registered, 5/7: not EPERM");

	/* and root still can */
	id = backing_register(self->e.d, BACK("bfile"), O_RDONLY);
	ASSERT_LT(0, id);
	ASSERT_EQ(0, backing_unregister(self->e.d, id));
}

/* A backing on another fuse-bpf mount would stack too deep: ELOOP. */
TEST_F(lookup_ext, backing_open_stacked)
{
	char nd[128];

	snprintf(nd, sizeof(nd), "%s/nd", self->e.base);
	ASSERT_EQ(0, mkdir(nd, 0755));
	ASSERT_EQ(0, mount_root_dir(self->e.back, nd, "no_daemon"))
		TH_LOG("no_daemon mount: %s", strerror(errno));
	ASSERT_FAILS(ELOOP, backing_register(self->e.d, path_in(nd, "bdir"),
					     O_RDONLY | O_DIRECTORY));
	ASSERT_FAILS(ELOOP, backing_register(self->e.d, path_in(nd, "bfile"),
					     O_RDWR));
	ASSERT_EQ(0, umount2(nd, 0));
}

enum bad_id { ID_NONE, ID_FILE, ID_DIR, ID_UNKNOWN, ID_CLOSED };

FIXTURE(bad_lookup) {
	struct env e;
	struct lx lx;
	int dir_id;
	int file_id;
};

FIXTURE_VARIANT(bad_lookup) {
	const char *name;	/* the node: "file" or "dir" */
	int extra;		/* reply bytes after struct fuse_entry_out */
	__u32 type;
	__u32 flags;
	__u64 reserved;
	__u64 ops_id;
	__u32 timeout;
	enum bad_id id;
	bool kernel_nodeid;	/* a node id with bit 63 set */
	int err;		/* what the caller must get */
};

/*
 * Replies shorter than fuse_entry_out or longer than the extension are
 * refused by the /dev/fuse layer: the daemon's write gets EINVAL and the
 * caller EIO (see struct fuse_bpf_entry_out).
 */
FIXTURE_VARIANT_ADD(bad_lookup, short_reply) {
	.name = "file", .extra = -8, .err = EIO,
};

FIXTURE_VARIANT_ADD(bad_lookup, partial_extension) {
	.name = "file", .extra = 8, .type = FUSE_BPF_ENTRY_BACKING,
	.id = ID_FILE, .err = EINVAL,
};

FIXTURE_VARIANT_ADD(bad_lookup, long_reply) {
	.name = "file", .extra = EXT_SIZE + 8, .type = FUSE_BPF_ENTRY_BACKING,
	.id = ID_FILE, .err = EIO,
};

/* type 0 keeps the node's backing: it names none */
FIXTURE_VARIANT_ADD(bad_lookup, type_zero_with_id) {
	.name = "file", .extra = EXT_SIZE, .type = 0, .id = ID_FILE,
	.err = EINVAL,
};

FIXTURE_VARIANT_ADD(bad_lookup, unknown_type) {
	.name = "file", .extra = EXT_SIZE, .type = 3, .id = ID_FILE,
	.err = EINVAL,
};

/*
 * A whole extension of type FUSE_BPF_ENTRY_BACKING for @node, naming a
 * backing id of the kind @id_kind: where most variants below start from.
 */
#define BACKING_REPLY(node, id_kind)					\
	.name = (node), .extra = EXT_SIZE,				\
	.type = FUSE_BPF_ENTRY_BACKING, .id = (id_kind)

FIXTURE_VARIANT_ADD(bad_lookup, flags_set) {
	BACKING_REPLY("file", ID_FILE), .flags = 1, .err = EINVAL,
};

FIXTURE_VARIANT_ADD(bad_lookup, both_ops_flags) {
	BACKING_REPLY("file", ID_FILE),
	.flags = FUSE_BPF_ENTRY_SET_OPS | FUSE_BPF_ENTRY_NO_OPS, .ops_id = 1,
	.err = EINVAL,
};

FIXTURE_VARIANT_ADD(bad_lookup, timeout_without_flag) {
	BACKING_REPLY("file", ID_FILE), .timeout = 1000, .err = EINVAL,
};

FIXTURE_VARIANT_ADD(bad_lookup, unknown_flag) {
	BACKING_REPLY("file", ID_FILE), .flags = 1 << 3, .err = EINVAL,
};

FIXTURE_VARIANT_ADD(bad_lookup, ops_id_without_flag) {
	BACKING_REPLY("file", ID_FILE), .ops_id = 1, .err = EINVAL,
};

FIXTURE_VARIANT_ADD(bad_lookup, unknown_ops_id) {
	BACKING_REPLY("file", ID_FILE), .flags = FUSE_BPF_ENTRY_SET_OPS,
	.ops_id = 1000, .err = ENOENT,
};

FIXTURE_VARIANT_ADD(bad_lookup, reserved_set) {
	BACKING_REPLY("file", ID_FILE), .reserved = 1, .err = EINVAL,
};

FIXTURE_VARIANT_ADD(bad_lookup, no_backing_with_id) {
	.name = "file", .extra = EXT_SIZE, .type = FUSE_BPF_ENTRY_NO_BACKING,
	.id = ID_FILE, .err = EINVAL,
};

FIXTURE_VARIANT_ADD(bad_lookup, unknown_id) {
	BACKING_REPLY("file", ID_UNKNOWN), .err = ENOENT,
};

FIXTURE_VARIANT_ADD(bad_lookup, closed_id) {
	BACKING_REPLY("file", ID_CLOSED), .err = ENOENT,
};

FIXTURE_VARIANT_ADD(bad_lookup, file_backing_for_dir) {
	BACKING_REPLY("dir", ID_FILE), .err = EINVAL,
};

FIXTURE_VARIANT_ADD(bad_lookup, dir_backing_for_file) {
	BACKING_REPLY("file", ID_DIR), .err = EINVAL,
};

FIXTURE_VARIANT_ADD(bad_lookup, kernel_nodeid) {
	.name = "file", .kernel_nodeid = true, .err = EIO,
};

FIXTURE_VARIANT_ADD(bad_lookup, kernel_nodeid_backed) {
	BACKING_REPLY("dir", ID_DIR), .kernel_nodeid = true, .err = EIO,
};

FIXTURE_SETUP(bad_lookup)
{
	lx_fixture_setup(_metadata, &self->e, &self->lx, &self->dir_id,
			 &self->file_id);
}

FIXTURE_TEARDOWN(bad_lookup)
{
	env_teardown(_metadata, &self->e);
}

/* The variant's extension, with a backing id of the kind it asks for. */
static void bad_lookup_ext(struct __test_metadata *_metadata,
			   FIXTURE_DATA(bad_lookup) *self,
			   const FIXTURE_VARIANT(bad_lookup) *variant,
			   struct fuse_bpf_entry_out *ext)
{
	__u64 id = 0;
	int closed;

	switch (variant->id) {
	case ID_FILE:
		id = self->file_id;
		break;
	case ID_DIR:
		id = self->dir_id;
		break;
	case ID_UNKNOWN:
		id = 1000;
		break;
	case ID_CLOSED:
		closed = backing_register(self->e.d, BACK("bfile"), O_RDONLY);
		ASSERT_LT(0, closed);
		ASSERT_EQ(0, backing_unregister(self->e.d, closed));
		id = closed;
		break;
	case ID_NONE:
		break;
	}
	ext->entry_type = variant->type;
	ext->flags = variant->flags;
	ext->backing_id = id;
	ext->reserved = variant->reserved;
	ext->backing_timeout = variant->timeout;
	ext->ops_id = variant->ops_id;
}

/*
 * The lookup fails with the right errno, is not cached, leaves the rest
 * of the mount working, and a good reply for the node works afterwards;
 * the teardown then checks that nothing holds the mounts.
 */
TEST_F(bad_lookup, fails_cleanly)
{
	bool is_dir = !strcmp(variant->name, "dir");
	struct reply_spec s = { .extra = variant->extra };
	struct stat st;

	bad_lookup_ext(_metadata, self, variant, &s.ext);
	if (variant->kernel_nodeid)
		s.nodeid = KERNEL_NODEID_BIT | (is_dir ? DIR_NODE : FILE_NODE);
	lx_set(&self->lx, variant->name, &s);

	ASSERT_FAILS(variant->err, stat(MNT(variant->name), &st));
	ASSERT_FAILS(variant->err, stat(MNT(variant->name), &st));
	ASSERT_EQ(2, ftd_count(self->e.d, FUSE_LOOKUP));

	/* the daemon's other nodes still work */
	CHECK_FILE(MNT("plain"), SERVER_DATA);

	/* and a good reply for the node now works */
	lx_reply(&self->lx, variant->name, FUSE_BPF_ENTRY_BACKING,
		 is_dir ? self->dir_id : self->file_id);
	if (is_dir)
		check_same_listing(_metadata, MNT("dir"), BACK("bdir"));
	else
		CHECK_FILE(MNT("file"), BFILE_DATA);
	check_stat(_metadata, MNT(variant->name),
		   BACK(is_dir ? "bdir" : "bfile"), self->e.dev);
}

/*
 * A refused LOOKUP reply still counted a lookup in the daemon: the kernel
 * must give it back with a FORGET (or BATCH_FORGET) of the node id the
 * reply named, once per refused reply. Refusals of the reply itself come
 * at once; those of the extension's target (an unknown id, a wrong type)
 * come when the inode fuse_iget() made is evicted.
 */
static __u64 lx_forget_sum(struct lx *lx, __u64 nodeid)
{
	__u64 sum = 0;
	int i;

	pthread_mutex_lock(&lx->lock);
	for (i = 0; i < lx->nr_forgets && i < ARRAY_SIZE(lx->forgets); i++)
		if (lx->forgets[i].nodeid == nodeid)
			sum += lx->forgets[i].nlookup;
	pthread_mutex_unlock(&lx->lock);
	return sum;
}

TEST_F(bad_lookup, refused_reply_forgotten)
{
	bool is_dir = !strcmp(variant->name, "dir");
	struct reply_spec s = { .extra = variant->extra };
	struct stat st;
	__u64 nodeid;
	int i;

	/* the /dev/fuse layer refuses these: the daemon's write failed */
	if (variant->extra < 0 || variant->extra > EXT_SIZE)
		SKIP(return, "the reply never reached fuse-bpf");
	bad_lookup_ext(_metadata, self, variant, &s.ext);
	nodeid = is_dir ? DIR_NODE : FILE_NODE;
	if (variant->kernel_nodeid)
		nodeid |= KERNEL_NODEID_BIT;
	s.nodeid = nodeid;
	lx_set(&self->lx, variant->name, &s);

	ASSERT_FAILS(variant->err, stat(MNT(variant->name), &st));
	ASSERT_FAILS(variant->err, stat(MNT(variant->name), &st));
	ASSERT_EQ(2, ftd_count(self->e.d, FUSE_LOOKUP));

	for (i = 0; i < 50 && lx_forget_sum(&self->lx, nodeid) < 2; i++) {
		if (i % 10 == 5)
			ASSERT_EQ(0, evict_caches());
		usleep(100000);
	}
	usleep(100000);
	ASSERT_EQ(2, lx_forget_sum(&self->lx, nodeid))
		TH_LOG("node %#llx: 2 lookups counted, %llu given back",
		       (unsigned long long)nodeid,
		       (unsigned long long)lx_forget_sum(&self->lx, nodeid));
}

/*
 * A LOOKUP reply naming the root's node id with an extension must not
 * touch the root: the lookup fails, and the root of a fuse_bpf mount
 * without root_dir= stays the daemon's.
 */
TEST_F(lookup_ext, root_nodeid_keeps_root)
{
	struct reply_spec s = {
		.extra = EXT_SIZE,
		.ext = {
			.entry_type = FUSE_BPF_ENTRY_BACKING,
			.backing_id = self->dir_id,
		},
		.nodeid = FUSE_ROOT_ID,
	};
	struct stat st;
	int ret, err;

	lx_set(&self->lx, "dir", &s);
	errno = 0;
	ret = stat(MNT("dir"), &st);
	err = errno;
	ASSERT_EQ(-1, ret) TH_LOG("a reply naming the root was accepted");
	ASSERT_TRUE(err == EINVAL || err == EIO || err == ESTALE)
		TH_LOG("stat: %s", strerror(err));

	/* the root is not backed by bdir: its names are still the daemon's */
	CHECK_FILE(MNT("plain"), SERVER_DATA);
	ASSERT_TRUE(dir_has(self->e.mnt, "plain"));
	ASSERT_FALSE(dir_has(self->e.mnt, "f1"));
	ASSERT_FAILS(ENOENT, stat(MNT("f1"), &st));
	ASSERT_FUSE_RECEIVED(self->e.d, FUSE_READDIR);
}

/*
 * A file the daemon opened stays the daemon's when a later LOOKUP reply
 * backs its node: poll and read are the daemon's file's (and do not
 * dereference a passthrough file it does not have), close sends RELEASE.
 * Reaching a server-opened file of a backed node this way needs no BPF
 * (an open prefilter returning FUSE_BPF_USER is the other way). The
 * daemon opens the file plainly, or with FOPEN_PASSTHROUGH on bfile.
 */
FIXTURE(server_open) {
	struct env e;
	struct lx lx;
	int dir_id;
	int file_id;
};

FIXTURE_VARIANT(server_open) {
	bool passthrough;
};

FIXTURE_VARIANT_ADD(server_open, plain) {
	.passthrough = false,
};

FIXTURE_VARIANT_ADD(server_open, passthrough) {
	.passthrough = true,
};

FIXTURE_SETUP(server_open)
{
	struct env *e = &self->e;
	int err = 0;

	if (lx_start_cfg(e, &self->lx, false,
			 variant->passthrough ? FUSE_PASSTHROUGH : 0))
		err = errno;
	if (!err && variant->passthrough && !(e->d->flags & FUSE_PASSTHROUGH)) {
		env_cleanup(e);
		SKIP(return, "no FUSE_PASSTHROUGH");
	}
	if (!err) {
		self->file_id = backing_register(e->d, BACK("bfile"), O_RDWR);
		if (self->file_id <= 0)
			err = errno;
	}
	if (err)
		env_cleanup(e);
	ASSERT_EQ(0, err) TH_LOG("setup: %s", strerror(err));
	if (variant->passthrough)
		self->lx.open_backing_id = self->file_id;
	ftd_log_clear(e->d);
}

FIXTURE_TEARDOWN(server_open)
{
	env_teardown(_metadata, &self->e);
}

TEST_F(server_open, backed_later)
{
	const char *data = variant->passthrough ? BFILE_DATA : SERVER_DATA;
	struct reply_spec s = { .uncached = true };
	struct pollfd pfd = {};
	char buf[128] = {};
	struct stat st;
	int fd, n;

	lx_set(&self->lx, "plain", &s);
	fd = open(MNT("plain"), O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_FUSE_RECEIVED(self->e.d, FUSE_OPEN);

	/* the next walk revalidates "plain": now backed by bfile */
	s.extra = EXT_SIZE;
	s.ext.entry_type = FUSE_BPF_ENTRY_BACKING;
	s.ext.backing_id = self->file_id;
	lx_set(&self->lx, "plain", &s);
	n = ftd_count(self->e.d, FUSE_LOOKUP);
	ASSERT_EQ(0, stat(MNT("plain"), &st));
	ASSERT_LT(n, ftd_count(self->e.d, FUSE_LOOKUP));

	ASSERT_EQ(strlen(data), pread(fd, buf, sizeof(buf), 0))
		TH_LOG("read: %s", strerror(errno));
	ASSERT_STREQ(data, buf);
	pfd.fd = fd;
	pfd.events = POLLIN;
	ASSERT_EQ(1, poll(&pfd, 1, 0)) TH_LOG("poll: %s", strerror(errno));
	ASSERT_TRUE(pfd.revents & POLLIN);

	ASSERT_FUSE_NOT_RECEIVED(self->e.d, FUSE_RELEASE);
	ASSERT_EQ(0, close(fd));
	ASSERT_TRUE(ftd_wait_count(self->e.d, FUSE_RELEASE, 1, 3000))
		TH_LOG("no RELEASE for the daemon's file");
	/* opened again, the node is backed: fuse-bpf's, not the daemon's */
	n = ftd_count(self->e.d, FUSE_OPEN);
	CHECK_FILE(MNT("plain"), BFILE_DATA);
	ASSERT_EQ(n, ftd_count(self->e.d, FUSE_OPEN));
}

/* ---- reserved node ids in replies that name a node ---- */

#define RESV_NODEID	(KERNEL_NODEID_BIT | 100)
#define RESV_INO	100

struct rn {
	struct ftd_config cfg;
};

static void rn_entry(struct fuse_entry_out *e, mode_t mode, __u64 size)
{
	memset(e, 0, sizeof(*e));
	e->nodeid = RESV_NODEID;
	e->generation = 1;
	e->entry_valid = 3600;
	e->attr_valid = 3600;
	e->attr.ino = RESV_INO;
	e->attr.mode = mode;
	e->attr.nlink = S_ISDIR(mode) ? 2 : 1;
	e->attr.size = size;
	e->attr.blksize = 4096;
}

static int rn_readdirplus(struct ftd *d, const struct fuse_in_header *in,
			  const struct fuse_read_in *rd)
{
	static const char * const names[] = { ".", "..", "ghost" };
	char buf[1024] = {};
	size_t len = 0;
	__u64 i;

	for (i = rd->offset; i < ARRAY_SIZE(names); i++) {
		struct fuse_direntplus *dp = (void *)(buf + len);
		size_t namelen = strlen(names[i]);

		if (len + FUSE_DIRENT_ALIGN(FUSE_NAME_OFFSET_DIRENTPLUS +
					    namelen) > rd->size)
			break;
		if (i < 2)
			ftd_fill_entry(d, FUSE_ROOT_ID, &dp->entry_out);
		else
			rn_entry(&dp->entry_out, S_IFREG | 0644, 0);
		dp->dirent.ino = dp->entry_out.attr.ino;
		dp->dirent.off = i + 1;
		dp->dirent.namelen = namelen;
		dp->dirent.type = i < 2 ? DT_DIR : DT_REG;
		memcpy(dp->dirent.name, names[i], namelen);
		len += FUSE_DIRENTPLUS_SIZE(dp);
	}
	ftd_reply(d, in->unique, 0, buf, len);
	return FTD_HANDLED;
}

/* Every new node in the root gets RESV_NODEID. */
static int rn_hook(struct ftd *d, const struct fuse_in_header *in,
		   const void *arg, size_t len, void *priv)
{
	struct {
		struct fuse_entry_out e;
		struct fuse_open_out o;
	} r = {};
	const char *target;
	mode_t mode;

	if (in->nodeid != FUSE_ROOT_ID)
		return FTD_DEFAULT;
	switch (in->opcode) {
	case FUSE_MKDIR:
		mode = ((const struct fuse_mkdir_in *)arg)->mode;
		rn_entry(&r.e, S_IFDIR | (mode & 07777), 0);
		break;
	case FUSE_MKNOD:
		rn_entry(&r.e, ((const struct fuse_mknod_in *)arg)->mode, 0);
		break;
	case FUSE_SYMLINK:
		target = (const char *)arg + strlen(arg) + 1;
		rn_entry(&r.e, S_IFLNK | 0777, strlen(target));
		break;
	case FUSE_LINK:
		ftd_fill_entry(d, ((const struct fuse_link_in *)arg)->oldnodeid,
			       &r.e);
		r.e.nodeid = RESV_NODEID;
		r.e.attr.ino = RESV_INO;
		r.e.attr.nlink = 2;
		break;
	case FUSE_CREATE:
		mode = ((const struct fuse_create_in *)arg)->mode;
		rn_entry(&r.e, S_IFREG | (mode & 07777), 0);
		r.o.fh = 100;
		ftd_reply(d, in->unique, 0, &r, sizeof(r));
		return FTD_HANDLED;
	case FUSE_READDIRPLUS:
		return rn_readdirplus(d, in, arg);
	default:
		return FTD_DEFAULT;
	}
	ftd_reply(d, in->unique, 0, &r.e, sizeof(r.e));
	return FTD_HANDLED;
}

/* The daemon received @opcode for @nodeid. */
static bool log_has_node(struct ftd *d, __u32 opcode, __u64 nodeid)
{
	struct ftd_log_entry *log = calloc(FTD_LOG_MAX, sizeof(*log));
	bool found = false;
	int i, n;

	if (!log)
		return false;
	n = ftd_log_get(d, log, FTD_LOG_MAX);
	for (i = 0; i < n && i < FTD_LOG_MAX; i++)
		if (log[i].opcode == opcode && log[i].nodeid == nodeid)
			found = true;
	free(log);
	return found;
}

enum rn_op { RN_MKDIR, RN_MKNOD, RN_SYMLINK, RN_LINK, RN_CREATE,
	     RN_READDIRPLUS };

FIXTURE(reserved_nodeid) {
	struct env e;
	struct rn rn;
};

FIXTURE_VARIANT(reserved_nodeid) {
	enum rn_op op;
	__u32 opcode;
};

FIXTURE_VARIANT_ADD(reserved_nodeid, mkdir) {
	.op = RN_MKDIR, .opcode = FUSE_MKDIR,
};

FIXTURE_VARIANT_ADD(reserved_nodeid, mknod) {
	.op = RN_MKNOD, .opcode = FUSE_MKNOD,
};

FIXTURE_VARIANT_ADD(reserved_nodeid, symlink) {
	.op = RN_SYMLINK, .opcode = FUSE_SYMLINK,
};

FIXTURE_VARIANT_ADD(reserved_nodeid, link) {
	.op = RN_LINK, .opcode = FUSE_LINK,
};

FIXTURE_VARIANT_ADD(reserved_nodeid, create) {
	.op = RN_CREATE, .opcode = FUSE_CREATE,
};

FIXTURE_VARIANT_ADD(reserved_nodeid, readdirplus) {
	.op = RN_READDIRPLUS, .opcode = FUSE_READDIRPLUS,
};

FIXTURE_SETUP(reserved_nodeid)
{
	struct env *e = &self->e;
	int err = 0;

	umask(022);
	memset(&self->rn, 0, sizeof(self->rn));
	self->rn.cfg.entries = lx_tree;
	self->rn.cfg.mount_opts = "fuse_bpf";
	self->rn.cfg.hook = rn_hook;
	self->rn.cfg.hook_priv = &self->rn;
	if (variant->op == RN_READDIRPLUS)
		self->rn.cfg.init_flags = FUSE_DO_READDIRPLUS;
	if (env_backing(e))
		err = errno;
	if (!err) {
		e->d = ftd_start(&self->rn.cfg);
		if (!e->d)
			err = errno;
	}
	if (err)
		env_cleanup(e);
	ASSERT_EQ(0, err) TH_LOG("fuse_bpf daemon mount: %s", strerror(err));
	snprintf(e->mnt, sizeof(e->mnt), "%s", e->d->mnt);
	ftd_log_clear(e->d);
}

FIXTURE_TEARDOWN(reserved_nodeid)
{
	env_teardown(_metadata, &self->e);
}

/*
 * In a directory the daemon serves, a reply that names a new node with
 * FUSE_BPF_NODEID_BIT set fails with EIO and leaves no node behind, as a
 * LOOKUP reply does.
 */
TEST_F(reserved_nodeid, refused)
{
	char buf[FTD_LOG_BUF];
	struct stat st;
	int fd, i;

	switch (variant->op) {
	case RN_MKDIR:
		ASSERT_FAILS(EIO, mkdir(MNT("new"), 0755));
		break;
	case RN_MKNOD:
		ASSERT_FAILS(EIO, mknod(MNT("new"), S_IFIFO | 0644, 0));
		break;
	case RN_SYMLINK:
		ASSERT_FAILS(EIO, symlink("target", MNT("new")));
		break;
	case RN_LINK:
		ASSERT_EQ(0, stat(MNT("plain"), &st));
		ASSERT_FAILS(EIO, link(MNT("plain"), MNT("new")));
		break;
	case RN_CREATE:
		errno = 0;
		fd = open(MNT("new"), O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
		if (fd >= 0)
			close(fd);
		ASSERT_EQ(-1, fd) TH_LOG("CREATE of a reserved node id worked");
		ASSERT_EQ(EIO, errno) TH_LOG("open: %s", strerror(errno));
		break;
	case RN_READDIRPLUS:
		/* a listing is not failed for an entry: the entry is dropped */
		ASSERT_TRUE(dir_has(self->e.mnt, "ghost"));
		for (i = 0; i < 30; i++) {
			if (log_has_node(self->e.d, FUSE_FORGET, RESV_NODEID))
				break;
			usleep(100000);
		}
		ASSERT_TRUE(log_has_node(self->e.d, FUSE_FORGET, RESV_NODEID))
			TH_LOG("the refused entry was not forgotten: %s",
			       ftd_log_str(self->e.d, buf, sizeof(buf)));
		ASSERT_FAILS(ENOENT, lstat(MNT("ghost"), &st));
		/* the name was looked up: no dentry came from the listing */
		ASSERT_FUSE_RECEIVED(self->e.d, FUSE_LOOKUP);
		return;
	}
	ASSERT_FUSE_RECEIVED(self->e.d, variant->opcode);
	/* no node: the next walk asks the daemon, which has none */
	i = ftd_count(self->e.d, FUSE_LOOKUP);
	ASSERT_FAILS(ENOENT, lstat(MNT("new"), &st));
	ASSERT_LT(i, ftd_count(self->e.d, FUSE_LOOKUP));
}

/* ---- the backing mount's flags and identity ---- */

/* A copy of /bin/true at @dst, mode 0755. */
static int copy_true(const char *dst)
{
	static const char * const srcs[] = { "/bin/true", "/usr/bin/true" };
	size_t size = 4 << 20;
	char *buf = malloc(size);
	ssize_t n = -1;
	int i;

	if (!buf)
		return -1;
	for (i = 0; i < ARRAY_SIZE(srcs) && n < 0; i++)
		n = read_all(srcs[i], buf, size);
	if (n <= 0 || make_file(dst, buf, n) || chmod(dst, 0755)) {
		free(buf);
		return -1;
	}
	free(buf);
	return 0;
}

/* Exec @path: 0 when it ran (true exits 0), else the exec's errno. */
static int run_exec(const char *path)
{
	pid_t pid = fork();

	if (!pid) {
		execl(path, path, (char *)NULL);
		_exit(errno ? errno : 255);
	}
	return child_status(pid, 10000);
}

/* Open @path with @flags: 0 when it opened, else the errno. */
static int try_open(const char *path, int flags)
{
	int fd = open(path, flags | O_CLOEXEC);

	if (fd < 0)
		return errno;
	close(fd);
	return 0;
}

/* A bind mount of @src on @dst (made), with @flags (MS_RDONLY, ...). */
static int bind_mount(const char *src, const char *dst, unsigned long flags)
{
	if (mkdir(dst, 0755) || mount(src, dst, NULL, MS_BIND, NULL))
		return -1;
	return mount(NULL, dst, NULL, MS_BIND | MS_REMOUNT | flags, NULL);
}

/*
 * The backing tmpfs (lx_start's tree, plus true, xdir/true, ddir/null, a
 * character device 1:3 like /dev/null) is also bind mounted noexec (nx),
 * nodev (nd) and read-only (ro). The daemon mount allows devices, so that
 * only the backing's nodev can refuse them.
 */
FIXTURE(mnt_flags) {
	struct env e;
	struct lx lx;
	char nx[128];
	char nd[128];
	char ro[128];
	char nm[128];	/* a no_daemon mount point */
};

FIXTURE_SETUP(mnt_flags)
{
	struct env *e = &self->e;
	int err = 0;

	umask(022);
	if (lx_start_cfg(e, &self->lx, true, 0))
		err = errno;
	snprintf(self->nx, sizeof(self->nx), "%s/nx", e->base);
	snprintf(self->nd, sizeof(self->nd), "%s/nd", e->base);
	snprintf(self->ro, sizeof(self->ro), "%s/ro", e->base);
	snprintf(self->nm, sizeof(self->nm), "%s/nm", e->base);
	if (!err &&
	    (copy_true(BACK("true")) || mkdir(BACK("xdir"), 0755) ||
	     copy_true(BACK("xdir/true")) || mkdir(BACK("ddir"), 0755) ||
	     mknod(BACK("ddir/null"), S_IFCHR | 0666, makedev(1, 3)) ||
	     bind_mount(e->back, self->nx, MS_NOEXEC) ||
	     bind_mount(e->back, self->nd, MS_NODEV) ||
	     bind_mount(e->back, self->ro, MS_RDONLY) ||
	     mkdir(self->nm, 0755)))
		err = errno;
	if (err)
		env_cleanup(e);
	ASSERT_EQ(0, err) TH_LOG("setup: %s", strerror(err));
	ftd_log_clear(e->d);

	/* what the bare backing mounts do */
	ASSERT_EQ(0, run_exec(BACK("true")));
	ASSERT_EQ(EACCES, run_exec(path_in(self->nx, "true")));
	ASSERT_EQ(0, try_open(BACK("ddir/null"), O_RDWR));
	ASSERT_EQ(EACCES, try_open(path_in(self->nd, "ddir/null"), O_RDWR));
	ASSERT_EQ(EROFS, try_open(path_in(self->ro, "bdir/f1"), O_WRONLY));
}

FIXTURE_TEARDOWN(mnt_flags)
{
	if (is_mounted(self->nm))
		umount2(self->nm, MNT_DETACH);
	env_teardown(_metadata, &self->e);
}

/* root_dir= on a noexec mount: nothing is executed through the mount. */
TEST_F(mnt_flags, root_dir_noexec)
{
	char *mtrue = path_in(self->nm, "true");
	int ret;

	ASSERT_EQ(0, mount_root_dir(self->nx, self->nm, "no_daemon"))
		TH_LOG("no_daemon mount: %s", strerror(errno));
	ret = run_exec(mtrue);
	ASSERT_EQ(EACCES, ret) TH_LOG("exec %s: %s", mtrue,
				      ret ? strerror(ret) : "it ran");
	ret = run_exec(path_in(self->nm, "xdir/true"));
	ASSERT_EQ(EACCES, ret) TH_LOG("exec xdir/true: %s",
				      ret ? strerror(ret) : "it ran");
	/* and the same tree through an exec mount runs */
	ASSERT_EQ(0, umount2(self->nm, 0));
	ASSERT_EQ(0, mount_root_dir(self->e.back, self->nm, "no_daemon"));
	ASSERT_EQ(0, run_exec(mtrue));
	ASSERT_EQ(0, umount2(self->nm, 0));
}

/* root_dir= on a nodev mount: its devices do not open through the mount. */
TEST_F(mnt_flags, root_dir_nodev)
{
	char *mnull = path_in(self->nm, "ddir/null");
	struct stat st;
	int ret;

	ASSERT_EQ(0, mount_root_dir(self->nd, self->nm, "no_daemon"))
		TH_LOG("no_daemon mount: %s", strerror(errno));
	ASSERT_EQ(0, stat(mnull, &st));
	ASSERT_TRUE(S_ISCHR(st.st_mode));
	ret = try_open(mnull, O_RDWR);
	ASSERT_EQ(EACCES, ret) TH_LOG("open %s: %s", mnull,
				      ret ? strerror(ret) : "it opened");
	ASSERT_EQ(0, umount2(self->nm, 0));
	/* through a mount of a dev mount, it opens */
	ASSERT_EQ(0, mount_root_dir(self->e.back, self->nm, "no_daemon"));
	ASSERT_EQ(0, try_open(mnull, O_RDWR));
	ASSERT_EQ(0, umount2(self->nm, 0));
}

/* Backing the daemon names on a noexec mount is not executed. */
/*
 * mmap @path PROT_READ | PROT_EXEC (or, with @later, PROT_READ and then
 * mprotect() to add PROT_EXEC): 0, or the errno.
 */
static int map_exec(const char *path, bool later)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), err = 0;
	void *p;

	if (fd < 0)
		return errno;
	p = mmap(NULL, 4096, PROT_READ | (later ? 0 : PROT_EXEC), MAP_PRIVATE,
		 fd, 0);
	if (p == MAP_FAILED)
		err = errno;
	else if (later && mprotect(p, 4096, PROT_READ | PROT_EXEC))
		err = errno;
	if (p != MAP_FAILED)
		munmap(p, 4096);
	close(fd);
	return err;
}

TEST_F(mnt_flags, named_noexec)
{
	int fid, did, ret;

	fid = backing_register(self->e.d, path_in(self->nx, "true"), O_RDONLY);
	ASSERT_LT(0, fid) TH_LOG("registering nx/true: %s", strerror(errno));
	did = backing_register(self->e.d, path_in(self->nx, "xdir"),
			       O_RDONLY | O_DIRECTORY);
	ASSERT_LT(0, did) TH_LOG("registering nx/xdir: %s", strerror(errno));
	lx_reply(&self->lx, "file", FUSE_BPF_ENTRY_BACKING, fid);
	lx_reply(&self->lx, "dir", FUSE_BPF_ENTRY_BACKING, did);

	ret = run_exec(MNT("file"));
	ASSERT_EQ(EACCES, ret) TH_LOG("exec of a named nx/true: %s",
				      ret ? strerror(ret) : "it ran");
	/* what the kernel finds below a named directory, too */
	ret = run_exec(MNT("dir/true"));
	ASSERT_EQ(EACCES, ret) TH_LOG("exec of nx/xdir/true: %s",
				      ret ? strerror(ret) : "it ran");
	/* the data is still readable */
	ASSERT_EQ(0, try_open(MNT("file"), O_RDONLY));
	/* and mapped, but not executable, as on the noexec mount itself */
	ASSERT_EQ(EPERM, map_exec(path_in(self->nx, "true"), false));
	ASSERT_EQ(EPERM, map_exec(MNT("file"), false));
	ASSERT_EQ(EACCES, map_exec(path_in(self->nx, "true"), true));
	ASSERT_EQ(EACCES, map_exec(MNT("file"), true));
}

/*
 * A device on a nodev mount cannot be reached through a daemon's mount:
 * it cannot be registered, and below a directory the daemon names from a
 * nodev mount it does not open.
 */
TEST_F(mnt_flags, named_nodev)
{
	char *mnull = MNT("dir/null");
	int did, ret;

	ASSERT_GT(0, backing_register(self->e.d,
				      path_in(self->nd, "ddir/null"),
				      O_PATH | O_NOFOLLOW));
	did = backing_register(self->e.d, path_in(self->nd, "ddir"),
			       O_RDONLY | O_DIRECTORY);
	ASSERT_LT(0, did) TH_LOG("registering nd/ddir: %s", strerror(errno));
	lx_reply(&self->lx, "dir", FUSE_BPF_ENTRY_BACKING, did);

	ret = try_open(mnull, O_RDWR);
	ASSERT_NE(0, ret) TH_LOG("%s opened through a dev mount", mnull);
	ASSERT_TRUE(ret == EACCES || ret == EPERM)
		TH_LOG("open %s: %s", mnull, strerror(ret));
}

/*
 * The same backing file under a read-write and a read-only mount is two
 * nodes: writing through the read-only one fails as on the bind mount,
 * whichever was looked up first.
 */
TEST_F(mnt_flags, keyed_by_mount)
{
	struct stat sa, sb;
	int rw, ro, ret;

	rw = backing_register(self->e.d, BACK("bdir"), O_RDONLY | O_DIRECTORY);
	ASSERT_LT(0, rw);
	ro = backing_register(self->e.d, path_in(self->ro, "bdir"),
			      O_RDONLY | O_DIRECTORY);
	ASSERT_LT(0, ro);
	lx_reply(&self->lx, "dir", FUSE_BPF_ENTRY_BACKING, rw);
	lx_reply(&self->lx, "dir2", FUSE_BPF_ENTRY_BACKING, ro);

	ASSERT_EQ(0, stat(MNT("dir/f1"), &sa));
	ASSERT_EQ(0, stat(MNT("dir2/f1"), &sb));
	ASSERT_EQ(sa.st_ino, sb.st_ino);
	ret = try_open(MNT("dir2/f1"), O_WRONLY);
	ASSERT_EQ(EROFS, ret) TH_LOG("open dir2/f1 for writing: %s",
				     ret ? strerror(ret) : "it opened");
	ASSERT_FAILS(EROFS, truncate(MNT("dir2/f1"), 0));
	CHECK_FILE(BACK("bdir/f1"), F1_DATA);
	ASSERT_EQ(0, try_open(MNT("dir/f1"), O_WRONLY));

	/* the read-only one first */
	ASSERT_EQ(0, stat(MNT("dir2/sub/file"), &sb));
	ASSERT_EQ(0, try_open(MNT("dir/sub/file"), O_WRONLY));
	ASSERT_EQ(EROFS, try_open(MNT("dir2/sub/file"), O_WRONLY));
}

/* ---- atime: the fuse-bpf mount's atime options ---- */

/*
 * The same access on the fuse-bpf mount and on a bind mount of its backing
 * tmpfs ("bare"), both remounted with the same flags: the atime must
 * change on both or on neither, as the case says, and the mount must show
 * the backing's. The backing tmpfs mount itself stays relatime, so a
 * mount that left atime to the backing mount's options (a backing file
 * opened without O_NOATIME) fails the strictatime, noatime and read-only
 * cases.
 */
FIXTURE(atime) {
	struct env e;
	char bare[128];
};

FIXTURE_VARIANT(atime) {
	bool daemon;
};

FIXTURE_VARIANT_ADD(atime, no_daemon) {
	.daemon = false,
};

FIXTURE_VARIANT_ADD(atime, daemon) {
	.daemon = true,
};

FIXTURE_SETUP(atime)
{
	struct env *e = &self->e;
	int err = 0;

	umask(022);
	if (env_backing(e))
		err = errno;
	snprintf(e->extra, sizeof(e->extra), ",allow_other");
	if (!err && env_mount(e, variant->daemon))
		err = errno;
	snprintf(self->bare, sizeof(self->bare), "%s/bare", e->base);
	if (!err && bind_mount(e->back, self->bare, 0))
		err = errno;
	if (err)
		env_cleanup(e);
	ASSERT_EQ(0, err) TH_LOG("setup: %s", strerror(err));
}

FIXTURE_TEARDOWN(atime)
{
	if (self->e.d)
		expect_only_init(_metadata, self->e.d);
	if (is_mounted(self->bare))
		EXPECT_EQ(0, umount(self->bare));
	env_teardown(_metadata, &self->e);
}

enum atime_access {
	AT_READ, AT_MMAP, AT_READDIR, AT_READLINK, AT_COPY, AT_ROOT,
};

static const char * const atime_access_name[] = {
	"read", "mmap", "readdir", "readlink", "copy_file_range",
	"readdir of the root",
};

struct atime_case {
	unsigned long flags;	/* the mounts' flags */
	long offset;		/* atime set to now + offset s; ctime is now */
	enum atime_access how;
	int oflags;		/* more open flags */
	bool nobody;		/* as uid 65534 */
	bool changes;		/* whether the atime must change */
	bool chattr_a;		/* the backing inode marked chattr +A */
};

/* Access @path by @how: 0, or the errno of what failed. */
static int atime_access(const char *path, const char *dst,
			const struct atime_case *c)
{
	char buf[64];
	struct dirent *de;
	void *map;
	DIR *dir;
	int fd, out, err = 0;

	switch (c->how) {
	case AT_READDIR:
	case AT_ROOT:
		dir = opendir(path);
		if (!dir)
			return errno;
		errno = 0;
		while ((de = readdir(dir)))
			;
		err = errno;
		closedir(dir);
		return err;
	case AT_READLINK:
		return readlink(path, buf, sizeof(buf)) > 0 ? 0 : errno;
	default:
		break;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC | c->oflags);
	if (fd < 0)
		return errno;
	switch (c->how) {
	case AT_READ:
		if (read(fd, buf, 1) != 1)
			err = errno ?: EIO;
		break;
	case AT_MMAP:
		map = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0);
		if (map == MAP_FAILED) {
			err = errno;
			break;
		}
		if (memcmp(map, CONTENT, strlen(CONTENT)))
			err = EIO;
		munmap(map, 4096);
		break;
	case AT_COPY:
		out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (out < 0) {
			err = errno;
			break;
		}
		if (copy_file_range(fd, NULL, out, NULL, 8, 0) != 8)
			err = errno ?: EIO;
		close(out);
		break;
	default:
		err = EINVAL;
	}
	close(fd);
	return err;
}

/* atime_access() as uid 65534 when @c says so. */
static int atime_access_as(const char *path, const char *dst,
			   const struct atime_case *c)
{
	int status;
	pid_t pid;

	if (!c->nobody)
		return atime_access(path, dst, c);
	pid = fork();
	if (pid < 0)
		return errno;
	if (!pid) {
		if (setgid(NOBODY) || setuid(NOBODY))
			_exit(255);
		_exit(atime_access(path, dst, c));
	}
	if (waitpid(pid, &status, 0) == pid && WIFEXITED(status))
		return WEXITSTATUS(status);
	return errno ?: ECHILD;
}

/* Set or clear FS_NOATIME_FL (chattr +A) on @path: 0 or -1. */
static int set_noatime_flag(const char *path, bool on)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), flags, ret = -1;

	if (fd < 0)
		return -1;
	if (!ioctl(fd, FS_IOC_GETFLAGS, &flags)) {
		flags = on ? flags | FS_NOATIME_FL : flags & ~FS_NOATIME_FL;
		ret = ioctl(fd, FS_IOC_SETFLAGS, &flags);
	}
	close(fd);
	return ret;
}

/*
 * Give @name in the backing its case's atime, access it through @root and
 * return whether the backing atime changed (-1: an error, logged).
 */
static int atime_changes(struct __test_metadata *_metadata,
			 const char *back, const char *root, const char *name,
			 const struct atime_case *c)
{
	char bpath[256], path[256], dst[256];
	struct timespec ts[2];
	struct stat before, after, st;
	int err;

	snprintf(bpath, sizeof(bpath), "%s/%s", back, name);
	snprintf(path, sizeof(path), "%s/%s", root, name);
	snprintf(dst, sizeof(dst), "%s/%s.copy", root, name);
	clock_gettime(CLOCK_REALTIME, &ts[0]);
	ts[0].tv_sec += c->offset;
	ts[1].tv_nsec = UTIME_OMIT;
	if (utimensat(AT_FDCWD, bpath, ts, AT_SYMLINK_NOFOLLOW) ||
	    (c->chattr_a && set_noatime_flag(bpath, true)) ||
	    lstat(bpath, &before)) {
		TH_LOG("%s: %s", bpath, strerror(errno));
		return -1;
	}
	err = atime_access_as(path, dst, c);
	if (c->chattr_a && set_noatime_flag(bpath, false)) {
		TH_LOG("chattr -A %s: %s", bpath, strerror(errno));
		return -1;
	}
	if (err) {
		TH_LOG("%s of %s: %s", atime_access_name[c->how], path,
		       strerror(err));
		return -1;
	}
	if (lstat(bpath, &after) || lstat(path, &st)) {
		TH_LOG("stat %s: %s", path, strerror(errno));
		return -1;
	}
	check_time(_metadata, path, "atime", &after.st_atim, &st.st_atim);
	return before.st_atim.tv_sec != after.st_atim.tv_sec ||
	       before.st_atim.tv_nsec != after.st_atim.tv_nsec;
}

TEST_F(atime, mount_options)
{
	static const struct atime_case cases[] = {
		{ 0, 1000, AT_READ, 0, false, false },
		{ 0, -1000, AT_READ, 0, false, true },
		{ 0, -1000, AT_READ, 0, true, true },
		{ 0, 1000, AT_READDIR, 0, false, false },
		{ 0, -1000, AT_READDIR, 0, false, true },
		{ MS_STRICTATIME, 1000, AT_READ, 0, false, true },
		{ MS_STRICTATIME, 1000, AT_READ, 0, true, true },
		{ MS_STRICTATIME, 1000, AT_READ, O_NOATIME, false, false },
		{ MS_STRICTATIME, 1000, AT_MMAP, 0, false, true },
		{ MS_STRICTATIME, 1000, AT_COPY, 0, false, true },
		{ MS_STRICTATIME, 1000, AT_READDIR, 0, false, true },
		{ MS_STRICTATIME, 1000, AT_READDIR, 0, true, true },
		{ MS_STRICTATIME, 1000, AT_READLINK, 0, false, true },
		{ MS_STRICTATIME, 1000, AT_ROOT, 0, false, true },
		{ MS_STRICTATIME, 1000, AT_READ, 0, false, false, true },
		{ MS_STRICTATIME, 1000, AT_READDIR, 0, true, false, true },
		{ MS_NOATIME, -1000, AT_READ, 0, false, false },
		{ MS_NOATIME, -1000, AT_MMAP, 0, false, false },
		{ MS_NOATIME, -1000, AT_READDIR, 0, false, false },
		{ MS_NOATIME, -1000, AT_READLINK, 0, false, false },
		{ MS_NOATIME, -1000, AT_ROOT, 0, false, false },
		{ MS_NODIRATIME, -1000, AT_READDIR, 0, false, false },
		{ MS_NODIRATIME, -1000, AT_READ, 0, false, true },
		{ MS_RDONLY | MS_STRICTATIME, -1000, AT_READ, 0, false, false },
		{ MS_RDONLY | MS_STRICTATIME, -1000, AT_MMAP, 0, true, false },
		{ MS_RDONLY | MS_STRICTATIME, -1000, AT_READDIR, 0, false,
		  false },
		{ MS_RDONLY | MS_STRICTATIME, -1000, AT_READLINK, 0, false,
		  false },
	};
	const char *const roots[] = { self->e.mnt, self->bare };
	static const char * const names[] = { "m", "b" };
	char name[32];
	size_t i;
	int r;

	for (r = 0; r < 2; r++) {
		snprintf(name, sizeof(name), "%s.file", names[r]);
		PUT(BACK(name), CONTENT);
		snprintf(name, sizeof(name), "%s.dir", names[r]);
		ASSERT_EQ(0, mkdir(BACK(name), 0755));
		snprintf(name, sizeof(name), "%s.link", names[r]);
		ASSERT_EQ(0, symlink("target", BACK(name)));
	}
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct atime_case *c = &cases[i];
		static const char * const obj[] = {
			[AT_READ] = "file", [AT_MMAP] = "file",
			[AT_COPY] = "file", [AT_READDIR] = "dir",
			[AT_READLINK] = "link", [AT_ROOT] = "",
		};

		for (r = 0; r < 2; r++) {
			ASSERT_EQ(0, mount(NULL, roots[r], NULL,
					   MS_BIND | MS_REMOUNT | c->flags,
					   NULL))
				TH_LOG("remount %s: %s", roots[r],
				       strerror(errno));
			snprintf(name, sizeof(name), "%s%s%s",
				 *obj[c->how] ? names[r] : "",
				 *obj[c->how] ? "." : "", obj[c->how]);
			EXPECT_EQ(c->changes,
				  atime_changes(_metadata, self->e.back,
						roots[r], name, c))
				TH_LOG("case %zu (%s, flags %#lx, atime %+ld s%s%s%s) on %s",
				       i, atime_access_name[c->how], c->flags,
				       c->offset, c->nobody ? ", uid 65534" : "",
				       c->oflags ? ", O_NOATIME" : "",
				       c->chattr_a ? ", chattr +A" : "",
				       r ? "the bare backing" : "fuse-bpf");
		}
	}
}

/* A caller may not open another's file O_NOATIME, as on the backing. */
TEST_F(atime, o_noatime_needs_owner)
{
	const char *const roots[] = { self->e.mnt, self->bare };
	const struct atime_case c = {
		.how = AT_READ, .oflags = O_NOATIME, .nobody = true,
	};
	int r;

	PUT(BACK("file"), CONTENT);
	for (r = 0; r < 2; r++)
		EXPECT_EQ(EPERM, atime_access_as(path_in(roots[r], "file"),
						 NULL, &c))
			TH_LOG("%s", r ? "the bare backing" : "fuse-bpf");
}

/*
 * root_dir= on a read-only mount: a read-write strictatime fuse mount reads
 * and lists without writing the backing atime, as the read-only mount
 * itself does.
 */
TEST_F(mnt_flags, root_dir_ro_atime)
{
	static const char * const objs[] = { "bdir/f1", "bdir" };
	const struct timespec ts[2] = { { .tv_sec = 1000 },
					{ .tv_nsec = UTIME_OMIT } };
	const char *const roots[] = { self->nm, self->ro };
	struct atime_case c = { .how = AT_READ };
	struct stat st;
	int r, i;

	ASSERT_EQ(0, mount_root_dir(self->ro, self->nm, "no_daemon"))
		TH_LOG("no_daemon mount: %s", strerror(errno));
	ASSERT_EQ(0, mount(NULL, self->nm, NULL,
			   MS_BIND | MS_REMOUNT | MS_STRICTATIME, NULL));
	ASSERT_EQ(0, mount(NULL, self->ro, NULL,
			   MS_BIND | MS_REMOUNT | MS_RDONLY | MS_STRICTATIME,
			   NULL));
	for (r = 0; r < 2; r++) {
		for (i = 0; i < 2; i++) {
			c.how = i ? AT_READDIR : AT_READ;
			ASSERT_EQ(0, utimensat(AT_FDCWD, BACK(objs[i]), ts, 0));
			ASSERT_EQ(0, atime_access(path_in(roots[r], objs[i]),
						  NULL, &c));
			ASSERT_EQ(0, stat(BACK(objs[i]), &st));
			EXPECT_EQ(1000, st.st_atim.tv_sec)
				TH_LOG("%s of %s wrote the atime",
				       atime_access_name[c.how],
				       path_in(roots[r], objs[i]));
			ASSERT_EQ(0, stat(path_in(roots[r], objs[i]), &st));
			EXPECT_EQ(1000, st.st_atim.tv_sec);
		}
	}
	ASSERT_EQ(0, umount2(self->nm, 0));
}

/* ---- mount options ---- */

struct scratch {
	char base[64];
	char back[96];
	char mnt[96];
};

/* A private mount namespace and a tmpfs with back/ and mnt/. */
static int scratch_setup(struct scratch *s)
{
	memset(s, 0, sizeof(*s));
	if (private_mounts())
		return -1;
	snprintf(s->base, sizeof(s->base), "/tmp/fuse_bpf.XXXXXX");
	if (!mkdtemp(s->base))
		return -1;
	if (mount("fuse_bpf_test", s->base, "tmpfs", 0, "size=16m,mode=0755"))
		return -1;
	snprintf(s->back, sizeof(s->back), "%s/back", s->base);
	snprintf(s->mnt, sizeof(s->mnt), "%s/mnt", s->base);
	if (mkdir(s->back, 0755) || mkdir(s->mnt, 0755))
		return -1;
	return 0;
}

static void scratch_cleanup(struct scratch *s)
{
	umount2(s->base, MNT_DETACH);
	rmdir(s->base);
}

TEST(no_daemon_needs_root_dir)
{
	struct scratch s;

	ASSERT_EQ(0, scratch_setup(&s)) TH_LOG("%s", strerror(errno));
	ASSERT_FAILS(EINVAL, mount("none", s.mnt, "fuse", 0, "no_daemon"));
	ASSERT_FALSE(is_mounted(s.mnt));
	scratch_cleanup(&s);
}

TEST(no_daemon_forbids_fd)
{
	struct scratch s;
	int devfd, dirfd;
	char opts[128];

	ASSERT_EQ(0, scratch_setup(&s)) TH_LOG("%s", strerror(errno));
	devfd = open("/dev/fuse", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, devfd);
	dirfd = open(s.back, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ASSERT_LE(0, dirfd);
	snprintf(opts, sizeof(opts),
		 "no_daemon,root_dir=%d,fd=%d,rootmode=40000,user_id=0,group_id=0",
		 dirfd, devfd);
	ASSERT_FAILS(EINVAL, mount("none", s.mnt, "fuse", 0, opts));
	ASSERT_FALSE(is_mounted(s.mnt));
	ASSERT_EQ(0, close(devfd));
	ASSERT_EQ(0, close(dirfd));

	/* the same without fd= works */
	ASSERT_EQ(0, mount_root_dir(s.back, s.mnt, "no_daemon"));
	ASSERT_TRUE(is_mounted(s.mnt));
	ASSERT_EQ(0, umount2(s.mnt, 0));
	scratch_cleanup(&s);
}

TEST(root_dir_not_a_directory)
{
	char file[128], opts[128];
	struct scratch s;
	int devfd, fd;

	ASSERT_EQ(0, scratch_setup(&s)) TH_LOG("%s", strerror(errno));
	snprintf(file, sizeof(file), "%s/file", s.back);
	PUT(file, CONTENT);
	ASSERT_FAILS(ENOTDIR, mount_root_dir(file, s.mnt, "no_daemon"));
	ASSERT_FALSE(is_mounted(s.mnt));

	/* the same on a daemon mount */
	devfd = open("/dev/fuse", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, devfd);
	fd = open(file, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	snprintf(opts, sizeof(opts),
		 "fd=%d,rootmode=40000,user_id=0,group_id=0,root_dir=%d",
		 devfd, fd);
	ASSERT_FAILS(ENOTDIR, mount("none", s.mnt, "fuse", 0, opts));
	ASSERT_FALSE(is_mounted(s.mnt));
	ASSERT_EQ(0, close(fd));
	ASSERT_EQ(0, close(devfd));
	scratch_cleanup(&s);
}

TEST(root_dir_on_fuse_bpf_mount)
{
	char mnt2[128], sub[128];
	struct scratch s;

	ASSERT_EQ(0, scratch_setup(&s)) TH_LOG("%s", strerror(errno));
	snprintf(mnt2, sizeof(mnt2), "%s/mnt2", s.base);
	snprintf(sub, sizeof(sub), "%s/sub", s.mnt);
	ASSERT_EQ(0, mkdir(mnt2, 0755));
	ASSERT_EQ(0, mkdir(path_in(s.back, "sub"), 0755));
	ASSERT_EQ(0, mount_root_dir(s.back, s.mnt, "no_daemon"))
		TH_LOG("no_daemon mount: %s", strerror(errno));

	ASSERT_FAILS(ELOOP, mount_root_dir(s.mnt, mnt2, "no_daemon"));
	ASSERT_FAILS(ELOOP, mount_root_dir(sub, mnt2, "no_daemon"));
	ASSERT_FALSE(is_mounted(mnt2));
	ASSERT_TRUE(is_mounted(s.mnt));
	ASSERT_EQ(0, umount2(s.mnt, 0));
	scratch_cleanup(&s);
}

TEST(root_dir_on_overlayfs)
{
	char l1[128], l2[128], ovl[128], opts[512];
	struct scratch s;

	ASSERT_EQ(0, scratch_setup(&s)) TH_LOG("%s", strerror(errno));
	snprintf(l1, sizeof(l1), "%s/l1", s.base);
	snprintf(l2, sizeof(l2), "%s/l2", s.base);
	snprintf(ovl, sizeof(ovl), "%s/ovl", s.base);
	ASSERT_EQ(0, mkdir(l1, 0755));
	ASSERT_EQ(0, mkdir(l2, 0755));
	ASSERT_EQ(0, mkdir(ovl, 0755));
	snprintf(opts, sizeof(opts), "lowerdir=%s:%s", l1, l2);
	if (mount("overlay", ovl, "overlay", 0, opts)) {
		scratch_cleanup(&s);
		if (errno == ENODEV)
			SKIP(return, "no overlayfs (CONFIG_OVERLAY_FS)");
		ASSERT_EQ(0, errno) TH_LOG("overlay mount");
	}
	ASSERT_FAILS(ELOOP, mount_root_dir(ovl, s.mnt, "no_daemon"));
	ASSERT_FALSE(is_mounted(s.mnt));
	scratch_cleanup(&s);
}

#define USERNS_UNAVAILABLE	99

static const char * const userns_steps[20] = {
	[10] = "open", [11] = "uid/gid maps",
	[12] = "no_daemon mounted", [13] = "no_daemon: not EPERM",
	[14] = "open /dev/fuse", [15] = "fuse_bpf mounted",
	[16] = "fuse_bpf: not EPERM", [17] = "plain fuse mount failed",
};

/* As root of a user namespace: mounting fuse works, fuse-bpf does not. */
static int userns_mounts(const char *back, const char *mnt)
{
	char opts[128];
	int dirfd, devfd;

	dirfd = open(back, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return 10;
	if (unshare(CLONE_NEWUSER | CLONE_NEWNS))
		return USERNS_UNAVAILABLE;
	if (write_str("/proc/self/setgroups", "deny") ||
	    write_str("/proc/self/uid_map", "0 0 1") ||
	    write_str("/proc/self/gid_map", "0 0 1"))
		return 11;

	snprintf(opts, sizeof(opts), "no_daemon,root_dir=%d", dirfd);
	if (!mount("none", mnt, "fuse", 0, opts))
		return 12;
	if (errno != EPERM)
		return 13;

	devfd = open("/dev/fuse", O_RDWR | O_CLOEXEC);
	if (devfd < 0)
		return 14;
	snprintf(opts, sizeof(opts),
		 "fd=%d,rootmode=40000,user_id=0,group_id=0,fuse_bpf", devfd);
	if (!mount("none", mnt, "fuse", 0, opts))
		return 15;
	if (errno != EPERM)
		return 16;

	/* the EPERM is fuse-bpf's: a plain fuse mount is allowed here */
	devfd = open("/dev/fuse", O_RDWR | O_CLOEXEC);
	if (devfd < 0)
		return 14;
	snprintf(opts, sizeof(opts),
		 "fd=%d,rootmode=40000,user_id=0,group_id=0", devfd);
	if (mount("none", mnt, "fuse", 0, opts))
		return 17;
	umount2(mnt, MNT_DETACH);
	return 0;
}

TEST(unprivileged_mount)
{
	struct scratch s;
	int status;
	pid_t pid;

	ASSERT_EQ(0, scratch_setup(&s)) TH_LOG("%s", strerror(errno));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		_exit(userns_mounts(s.back, s.mnt));
	status = wait_child(pid, 10000);
	ASSERT_TRUE(WIFEXITED(status));
	if (WEXITSTATUS(status) == USERNS_UNAVAILABLE) {
		scratch_cleanup(&s);
		SKIP(return, "no user namespaces");
	}
	ASSERT_EQ(0, WEXITSTATUS(status))
		TH_LOG("step %d: %s", WEXITSTATUS(status),
		       userns_steps[WEXITSTATUS(status) % 20]);
	scratch_cleanup(&s);
}

static int run_mkfs(const char *mkfs, const char *dev)
{
	int status;
	pid_t pid;

	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		int null = open("/dev/null", O_WRONLY);

		if (null >= 0) {
			dup2(null, 1);
			dup2(null, 2);
		}
		execl(mkfs, mkfs, "-q", "-F", dev, (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/* O_DIRECT through a no_daemon mount of an ext4 on /dev/ram0. */
TEST(o_direct_ext4)
{
	static const char * const mkfs[] = {
		"/sbin/mkfs.ext4", "/usr/sbin/mkfs.ext4",
	};
	char file[128], bfile[128], *buf;
	const char *prog = NULL;
	struct scratch s;
	int i, fd;

	for (i = 0; i < ARRAY_SIZE(mkfs) && !prog; i++)
		if (!access(mkfs[i], X_OK))
			prog = mkfs[i];
	if (!prog)
		SKIP(return, "no mkfs.ext4");
	if (access("/dev/ram0", R_OK | W_OK))
		SKIP(return, "no /dev/ram0 (CONFIG_BLK_DEV_RAM)");
	ASSERT_EQ(0, scratch_setup(&s)) TH_LOG("%s", strerror(errno));
	ASSERT_EQ(0, run_mkfs(prog, "/dev/ram0"))
		TH_LOG("mkfs.ext4 /dev/ram0 failed");
	if (mount("/dev/ram0", s.back, "ext4", 0, NULL)) {
		scratch_cleanup(&s);
		if (errno == ENODEV)
			SKIP(return, "no ext4 (CONFIG_EXT4_FS)");
		ASSERT_EQ(0, errno) TH_LOG("mounting ext4");
	}
	ASSERT_EQ(0, mount_root_dir(s.back, s.mnt, "no_daemon"))
		TH_LOG("no_daemon mount: %s", strerror(errno));
	snprintf(file, sizeof(file), "%s/file", s.mnt);
	snprintf(bfile, sizeof(bfile), "%s/file", s.back);
	check_o_direct(_metadata, file, bfile);

	/* on the device: read back with O_DIRECT from the backing */
	ASSERT_EQ(0, posix_memalign((void **)&buf, 4096, 4096));
	fd = open(bfile, O_RDONLY | O_DIRECT | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(4096, pread(fd, buf, 4096, 8192));
	ASSERT_EQ('D', buf[0]);
	ASSERT_EQ('D', buf[4095]);
	ASSERT_EQ(0, close(fd));
	free(buf);
	ASSERT_EQ(0, umount2(s.mnt, 0));
	ASSERT_EQ(0, umount2(s.back, 0));
	scratch_cleanup(&s);
}

/* ---- differential: the mount against a plain tmpfs ---- */

FIXTURE(differential) {
	struct env e;
	char twin[96];
	struct fsd_report rep;
};

FIXTURE_VARIANT(differential) {
	unsigned int seed;
	bool daemon;
};

FIXTURE_VARIANT_ADD(differential, no_daemon_seed_1) {
	.seed = 1,
};

FIXTURE_VARIANT_ADD(differential, no_daemon_seed_42) {
	.seed = 42,
};

FIXTURE_VARIANT_ADD(differential, no_daemon_seed_0x5eed) {
	.seed = 0x5eed,
};

FIXTURE_VARIANT_ADD(differential, daemon_seed_7) {
	.seed = 7,
	.daemon = true,
};

FIXTURE_SETUP(differential)
{
	int err;

	umask(022);
	err = env_setup(&self->e, variant->daemon);
	ASSERT_EQ(0, err) TH_LOG("mount: %s", strerror(err));
	snprintf(self->twin, sizeof(self->twin), "%s/twin", self->e.base);
	if (mkdir(self->twin, 0755) ||
	    mount("fuse_bpf_twin", self->twin, "tmpfs", 0,
		  "size=64m,mode=0755")) {
		err = errno;
		env_cleanup(&self->e);
	}
	ASSERT_EQ(0, err) TH_LOG("twin tmpfs: %s", strerror(err));
}

FIXTURE_TEARDOWN(differential)
{
	if (self->e.d)
		expect_only_init(_metadata, self->e.d);
	env_teardown(_metadata, &self->e);
}

TEST_F_TIMEOUT(differential, same_as_tmpfs, 240)
{
	struct fsd_report *rep = &self->rep;
	int ret;

	ret = fsd_run(self->e.mnt, self->twin, variant->seed, DIFF_OPS, rep);
	ASSERT_LE(0, ret) TH_LOG("fs_diff could not run: %s", strerror(errno));
	if (ret)
		fsd_print_report(stderr, rep);
	ASSERT_EQ(0, rep->nr_diffs);
	ASSERT_EQ(DIFF_OPS, rep->nr_ops);
	/* the sequence did something */
	ASSERT_LT(DIFF_OPS / 4, rep->nr_ok);

	/* the backing tree is what the twin became */
	ret = fsd_compare_trees(self->e.back, self->twin, rep);
	if (ret)
		fsd_print_report(stderr, rep);
	ASSERT_EQ(0, ret);
}

TEST_HARNESS_MAIN
