// SPDX-License-Identifier: GPL-2.0
/*
 * filtered_mount BACKING MNT COMMAND [ARG...]
 *
 * Mount BACKING on MNT as a fuse-bpf mount without a daemon, with the
 * hide pre- and postfilters of progs/filters.bpf.c attached to the root
 * (a lookup prefilter and a readdir postfilter: names starting with
 * "secret" do not exist, everything else passes through them), run
 * COMMAND, then print how often the filters ran and unmount (no
 * MNT_DETACH: the unmount must find nothing still held). Exits with
 * COMMAND's status, or 1 when the mount, the attach or the unmount fails.
 * For harness/soak.sh, which runs fsstress in MNT.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "conn_fd.h"
#include "filters.skel.h"

int main(int argc, char **argv)
{
	struct filters__hide__fuse_bpf_prefilters *pre;
	struct filters__hide_post__fuse_bpf_postfilters *post;
	struct bpf_link *lpre, *lpost;
	struct filters *skel;
	char opts[64];
	int fd, status, ret = 1;
	pid_t pid;

	if (argc < 4) {
		fprintf(stderr, "usage: %s BACKING MNT COMMAND [ARG...]\n", argv[0]);
		return 2;
	}
	skel = filters__open();
	if (!skel) {
		perror("filters__open");
		return 1;
	}
	pre = bpf_map__initial_value(skel->maps.hide, NULL);
	post = bpf_map__initial_value(skel->maps.hide_post, NULL);
	pre->fuse_fd = CONN_FD;
	pre->ops_id = 1;
	post->fuse_fd = CONN_FD;
	post->ops_id = 1;
	if (filters__load(skel)) {
		perror("loading progs/filters.bpf.o");
		return 1;
	}
	fd = open(argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		perror(argv[1]);
		return 1;
	}
	snprintf(opts, sizeof(opts), "no_daemon,ops=1,root_dir=%d", fd);
	if (mount("fuse_bpf_soak", argv[2], "fuse", 0, opts)) {
		perror("mount");
		return 1;
	}
	close(fd);
	lpre = conn_attach_mnt(argv[2], skel->maps.hide);
	lpost = conn_attach_mnt(argv[2], skel->maps.hide_post);
	if (!lpre || !lpost) {
		perror("attaching the filters");
		umount2(argv[2], MNT_DETACH);
		return 1;
	}

	pid = fork();
	if (pid < 0) {
		perror("fork");
	} else if (!pid) {
		execvp(argv[3], argv + 3);
		perror(argv[3]);
		_exit(127);
	} else if (waitpid(pid, &status, 0) == pid) {
		ret = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	}

	printf("filtered_mount: lookup prefilter ran %u times, readdir postfilter %u times\n",
	       skel->bss->lookup_calls, skel->bss->readdir_calls);
	bpf_link__destroy(lpre);
	bpf_link__destroy(lpost);
	if (umount2(argv[2], 0)) {
		perror("umount (without MNT_DETACH)");
		umount2(argv[2], MNT_DETACH);
		ret = ret ?: 1;
	}
	filters__destroy(skel);
	return ret;
}
