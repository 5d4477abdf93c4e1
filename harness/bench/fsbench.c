// SPDX-License-Identifier: GPL-2.0
/*
 * fsbench: small file system workloads, timed, for side-by-side ratios.
 *
 *   fsbench DIR WORKLOAD SECONDS
 *
 * Repeats the workload for about SECONDS and prints "WORKLOAD ops_per_second"
 * (the guest clock may tick coarsely, so runs should last a second or
 * more). DIR must exist and be empty; the workload leaves files there.
 *   stat        stat() one file (hot cache)
 *   open_close  open()+close() one file
 *   read4k      open()+read 4 KiB+close()
 *   create      create+write 4 KiB+close new files (unlinked afterwards,
 *               untimed)
 *   mkdir       mkdir+rmdir
 *   rename      rename a file back and forth
 *   readdir     list a directory of 1000 files and stat each entry
 *               (ops = entries)
 *   seqread     read a 32 MiB file in 1 MiB blocks (ops = MiB)
 *   seqwrite    write 1 MiB blocks, starting over at 64 MiB (ops = MiB)
 *   randread    random 4 KiB preads from a 16 MiB file
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

static double t0, limit;
static long ops;

/* True while the run should go on; counts one operation per call. */
static int more(void)
{
	if ((++ops & 15) == 0 && now() - t0 >= limit)
		return 0;
	return 1;
}

int main(int argc, char **argv)
{
	char path[4096], path2[4096];
	const char *w;
	struct stat st;
	long i, count;
	int fd;

	if (argc != 4) {
		fprintf(stderr, "usage: fsbench DIR WORKLOAD SECONDS\n");
		return 2;
	}
	if (chdir(argv[1]))
		die(argv[1]);
	w = argv[2];
	limit = atof(argv[3]);
	memset(buf, 'x', sizeof(buf));

	if (!strcmp(w, "stat") || !strcmp(w, "open_close") ||
	    !strcmp(w, "read4k") || !strcmp(w, "rename"))
		make_file("f", 4096);
	if (!strcmp(w, "seqread"))
		make_file("big", 32 << 20);
	if (!strcmp(w, "randread"))
		make_file("big", 16 << 20);
	if (!strcmp(w, "readdir")) {
		if (mkdir("d", 0755))
			die("mkdir");
		for (i = 0; i < 1000; i++) {
			snprintf(path, sizeof(path), "d/file%ld", i);
			make_file(path, 0);
		}
	}

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
	printf("%s %.1f\n", w, (count ? count : ops) / (now() - t0));
	if (!strcmp(w, "create"))
		for (i = 0; i < ops; i++) {
			snprintf(path, sizeof(path), "c%ld", i);
			unlink(path);
		}
	return 0;
}
