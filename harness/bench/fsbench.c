// SPDX-License-Identifier: GPL-2.0
/*
 * fsbench: small file system workloads, timed, for side-by-side ratios.
 *
 *   fsbench DIR WORKLOAD SECONDS [SETUP]
 *
 * Repeats the workload for about SECONDS and prints "WORKLOAD ops_per_second
 * ops" (the guest clock may tick coarsely, so runs should last a second or
 * more). DIR must exist and be empty; the workload leaves files there.
 * SETUP, when given, is the same directory reached another way (the
 * backing directory of a stacked mount): the untimed preparation (files to
 * stat, read, unlink, list) is made there, so that it costs the same under
 * every configuration. With FSBENCH_STOP set in the environment, fsbench
 * stops itself (SIGSTOP) between the preparation and the timed loop, so
 * that a profiler can attach and continue it.
 *   stat        stat() one file (hot cache)
 *   stat_cold   stat() 2000 files once each, caches dropped before each
 *               pass (untimed)
 *   stat_dir    stat() the 100 files of a directory in turn (hot cache;
 *               each looked up once, untimed, first)
 *   open_close  open()+close() one file
 *   read4k      open()+read 4 KiB+close()
 *   create      create+write 4 KiB+close new files (left there)
 *   unlink      unlink 1000 files (made untimed through SETUP and looked up
 *               through DIR), per pass
 *   mkdir       mkdir+rmdir
 *   rename      rename a file back and forth
 *   getxattr    getxattr() of a user.* attribute of one file
 *   readdir     list a directory of $FSBENCH_DIRENTS (default 10000) files
 *               and lstat each entry (ops = entries); the entries are
 *               looked up once, untimed, first
 *   seqread     read a 32 MiB file in 1 MiB blocks (ops = MiB)
 *   seqwrite    write 1 MiB blocks, starting over at 64 MiB (ops = MiB)
 *   seqwrite4k  pwrite 4 KiB blocks in turn over a 16 MiB file
 *   randread    random 4 KiB preads from a 16 MiB file
 * The hide policy's workloads (bench/hide-bench.sh): a directory of
 * HIDE_VISIBLE (90) files and $FSBENCH_HIDDEN (default 0) more whose names
 * start with "secret", which the file system under test hides:
 *   hide_ls     list it (opendir, readdir to the end, closedir; ops =
 *               listings); fails if it lists another number of entries
 *               than the visible ones and . and ..
 *   hide_stat   stat() its visible files in turn (each looked up once,
 *               untimed, first)
 *   hide_enoent stat() of one hidden name, which must fail with ENOENT
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

static char buf[1 << 20];

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static void make_file(const char *path, long size)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	long done;

	if (fd < 0)
		die(path);
	for (done = 0; done < size; done += sizeof(buf))
		if (write(fd, buf, size - done < (long)sizeof(buf) ?
			  size - done : (long)sizeof(buf)) < 0)
			die("write");
	close(fd);
}

static double t0, limit, paused;
static long ops;
/* how often more() reads the clock: every 16 operations, or every one */
static long check_mask = 15;

/* True while the run should go on; counts one operation per call. */
static int more(void)
{
	if ((++ops & check_mask) == 0 && paused + now() - t0 >= limit)
		return 0;
	return 1;
}

/* Stop and restart the clock around untimed work. */
static void pause_clock(void)
{
	paused += now() - t0;
}

static void resume_clock(void)
{
	t0 = now();
}

static void drop_caches(void)
{
	int fd = open("/proc/sys/vm/drop_caches", O_WRONLY);

	sync();
	if (fd < 0 || write(fd, "3", 1) != 1)
		die("drop_caches");
	close(fd);
}

#define COLD_FILES	2000
#define DIR_FILES	100
#define UNLINK_FILES	1000
#define HIDE_VISIBLE	90

int main(int argc, char **argv)
{
	char path[4096], path2[4096];
	const char *w;
	struct stat st;
	long i, count;
	int fd;

	const char *setup;
	long dirents = getenv("FSBENCH_DIRENTS") ?
		       atol(getenv("FSBENCH_DIRENTS")) : 10000;
	long hidden = getenv("FSBENCH_HIDDEN") ?
		      atol(getenv("FSBENCH_HIDDEN")) : 0;
	int hide_w;
	int dfd, wfd;

	if (argc != 4 && argc != 5) {
		fprintf(stderr, "usage: fsbench DIR WORKLOAD SECONDS [SETUP]\n");
		return 2;
	}
	setup = argc == 5 ? argv[4] : argv[1];
	w = argv[2];
	limit = atof(argv[3]);
	memset(buf, 'x', sizeof(buf));
	wfd = open(argv[1], O_RDONLY | O_DIRECTORY);
	if (wfd < 0)
		die(argv[1]);
	/* the preparation, in SETUP */
	if (chdir(setup))
		die(setup);

	if (!strcmp(w, "stat") || !strcmp(w, "open_close") ||
	    !strcmp(w, "read4k") || !strcmp(w, "rename") ||
	    !strcmp(w, "getxattr"))
		make_file("f", 4096);
	if (!strcmp(w, "getxattr") &&
	    setxattr("f", "user.bench", "value", 5, 0))
		die("setxattr");
	if (!strcmp(w, "stat_cold")) {
		for (i = 0; i < COLD_FILES; i++) {
			snprintf(path, sizeof(path), "s%ld", i);
			make_file(path, 0);
		}
	}
	if (!strcmp(w, "stat_dir")) {
		if (mkdir("d", 0755))
			die("mkdir");
		for (i = 0; i < DIR_FILES; i++) {
			snprintf(path, sizeof(path), "d/f%ld", i);
			make_file(path, 0);
		}
	}
	hide_w = !strncmp(w, "hide_", 5);
	if (hide_w) {
		if (mkdir("d", 0755))
			die("mkdir");
		for (i = 0; i < HIDE_VISIBLE; i++) {
			snprintf(path, sizeof(path), "d/f%ld", i);
			make_file(path, 0);
		}
		for (i = 0; i < hidden; i++) {
			snprintf(path, sizeof(path), "d/secret%ld", i);
			make_file(path, 0);
		}
	}
	if (!strcmp(w, "seqread"))
		make_file("big", 32 << 20);
	if (!strcmp(w, "randread") || !strcmp(w, "seqwrite4k"))
		make_file("big", 16 << 20);
	if (!strcmp(w, "readdir")) {
		if (mkdir("d", 0755))
			die("mkdir");
		for (i = 0; i < dirents; i++) {
			snprintf(path, sizeof(path), "d/file%ld", i);
			make_file(path, 0);
		}
	}
	dfd = open(".", O_RDONLY | O_DIRECTORY);
	if (dfd < 0)
		die("open SETUP");
	if (fchdir(wfd))
		die(argv[1]);
	close(wfd);
	/*
	 * Look the files up once where the workload will, untimed: natively
	 * and through overlayfs (whose preparation goes through the mount)
	 * they are in the dcache already, and so they must be elsewhere.
	 */
	if (!strcmp(w, "readdir"))
		for (i = 0; i < dirents; i++) {
			snprintf(path, sizeof(path), "d/file%ld", i);
			if (lstat(path, &st))
				die("lstat");
		}
	if (!strcmp(w, "stat_dir"))
		for (i = 0; i < DIR_FILES; i++) {
			snprintf(path, sizeof(path), "d/f%ld", i);
			if (stat(path, &st))
				die("stat");
		}
	if (hide_w && stat("d", &st))
		die("stat");
	if (!strcmp(w, "hide_stat"))
		for (i = 0; i < HIDE_VISIBLE; i++) {
			snprintf(path, sizeof(path), "d/f%ld", i);
			if (stat(path, &st))
				die("stat");
		}
	if (getenv("FSBENCH_STOP"))
		raise(SIGSTOP);

	t0 = now();
	count = 0;
	if (!strcmp(w, "stat")) {
		do {
			if (stat("f", &st))
				die("stat");
		} while (more());
	} else if (!strcmp(w, "open_close")) {
		do {
			fd = open("f", O_RDONLY);
			if (fd < 0)
				die("open");
			close(fd);
		} while (more());
	} else if (!strcmp(w, "read4k")) {
		do {
			fd = open("f", O_RDONLY);
			if (fd < 0 || read(fd, buf, 4096) != 4096)
				die("read");
			close(fd);
		} while (more());
	} else if (!strcmp(w, "create")) {
		do {
			snprintf(path, sizeof(path), "c%ld", ops);
			fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
			if (fd < 0 || write(fd, buf, 4096) != 4096)
				die("create");
			close(fd);
		} while (more());
	} else if (!strcmp(w, "stat_dir")) {
		do {
			snprintf(path, sizeof(path), "d/f%ld", ops % DIR_FILES);
			if (stat(path, &st))
				die("stat");
		} while (more());
	} else if (!strcmp(w, "stat_cold")) {
		do {
			if (ops % COLD_FILES == 0) {
				pause_clock();
				drop_caches();
				resume_clock();
			}
			snprintf(path, sizeof(path), "s%ld", ops % COLD_FILES);
			if (stat(path, &st))
				die("stat");
		} while (more());
	} else if (!strcmp(w, "unlink")) {
		do {
			if (ops % UNLINK_FILES == 0) {
				pause_clock();
				for (i = 0; i < UNLINK_FILES; i++) {
					snprintf(path, sizeof(path), "u%ld", i);
					fd = openat(dfd, path, O_WRONLY | O_CREAT, 0644);
					if (fd < 0)
						die("create");
					close(fd);
				}
				/* as after a create where the workload runs */
				for (i = 0; i < UNLINK_FILES; i++) {
					snprintf(path, sizeof(path), "u%ld", i);
					if (lstat(path, &st))
						die("lstat");
				}
				resume_clock();
			}
			snprintf(path, sizeof(path), "u%ld", ops % UNLINK_FILES);
			if (unlink(path))
				die("unlink");
		} while (more());
		/* leave no half-deleted batch behind */
		for (i = ops % UNLINK_FILES; i && i < UNLINK_FILES; i++) {
			snprintf(path, sizeof(path), "u%ld", i);
			unlinkat(dfd, path, 0);
		}
	} else if (!strcmp(w, "getxattr")) {
		do {
			if (getxattr("f", "user.bench", path, sizeof(path)) != 5)
				die("getxattr");
		} while (more());
	} else if (!strcmp(w, "mkdir")) {
		do {
			if (mkdir("m", 0755) || rmdir("m"))
				die("mkdir");
		} while (more());
	} else if (!strcmp(w, "rename")) {
		do {
			if (rename(ops & 1 ? "g" : "f", ops & 1 ? "f" : "g"))
				die("rename");
		} while (more());
	} else if (!strcmp(w, "readdir")) {
		/* a pass lists the whole directory: look at the clock each time */
		check_mask = 0;
		do {
			DIR *d = opendir("d");
			struct dirent *de;

			if (!d)
				die("opendir");
			while ((de = readdir(d))) {
				snprintf(path2, sizeof(path2), "d/%s",
					 de->d_name);
				if (lstat(path2, &st))
					die("lstat");
				count++;
			}
			closedir(d);
		} while (more());
	} else if (!strcmp(w, "hide_ls")) {
		do {
			DIR *d = opendir("d");
			long n = 0;

			if (!d)
				die("opendir");
			while (readdir(d))
				n++;
			closedir(d);
			if (n != HIDE_VISIBLE + 2) {
				fprintf(stderr, "hide_ls: %ld entries listed\n", n);
				exit(1);
			}
		} while (more());
	} else if (!strcmp(w, "hide_stat")) {
		do {
			snprintf(path, sizeof(path), "d/f%ld", ops % HIDE_VISIBLE);
			if (stat(path, &st))
				die("stat");
		} while (more());
	} else if (!strcmp(w, "hide_enoent")) {
		do {
			if (!stat("d/secret0", &st) || errno != ENOENT) {
				fprintf(stderr, "hide_enoent: stat did not fail with ENOENT\n");
				exit(1);
			}
		} while (more());
	} else if (!strcmp(w, "seqread")) {
		fd = open("big", O_RDONLY);
		do {
			ssize_t r = read(fd, buf, sizeof(buf));

			if (r == 0)
				r = lseek(fd, 0, SEEK_SET) ? -1 :
				    read(fd, buf, sizeof(buf));
			if (r != sizeof(buf))
				die("read");
		} while (more());
		close(fd);
	} else if (!strcmp(w, "seqwrite")) {
		fd = open("big", O_WRONLY | O_CREAT | O_TRUNC, 0644);
		do {
			if ((ops & 63) == 63 && ftruncate(fd, 0))
				die("ftruncate");
			if (pwrite(fd, buf, sizeof(buf),
				   (off_t)(ops & 63) << 20) != sizeof(buf))
				die("write");
		} while (more());
		close(fd);
	} else if (!strcmp(w, "seqwrite4k")) {
		fd = open("big", O_WRONLY);
		do {
			if (pwrite(fd, buf, 4096, (off_t)(ops & 4095) << 12) != 4096)
				die("pwrite");
		} while (more());
		close(fd);
	} else if (!strcmp(w, "randread")) {
		unsigned int seed = 1;

		fd = open("big", O_RDONLY);
		do {
			off_t off = (off_t)(rand_r(&seed) % 4096) * 4096;

			if (pread(fd, buf, 4096, off) != 4096)
				die("pread");
		} while (more());
		close(fd);
	} else {
		fprintf(stderr, "unknown workload %s\n", w);
		return 2;
	}
	pause_clock();
	printf("%s %.1f %ld\n", w, (count ? count : ops) / paused,
	       count ? count : ops);
	return 0;
}
