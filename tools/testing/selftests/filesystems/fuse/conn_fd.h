/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Attaching fuse-bpf struct_ops maps (filters, request programs) in the
 * tests.
 *
 * A map names its connection by a file descriptor, in the attaching
 * process, of the connection: the server's /dev/fuse, or an O_PATH
 * descriptor of the mount. The maps are loaded before there is a
 * connection, so they all name CONN_FD, which these helpers make the
 * connection's for the attach only: an extra /dev/fuse descriptor would
 * keep the connection alive after the server. Whatever the process had
 * open at CONN_FD is closed. The callers define _GNU_SOURCE (O_PATH).
 */
#ifndef __FUSE_CONN_FD_H
#define __FUSE_CONN_FD_H

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#define CONN_FD		200

/* Attach @map to the connection of @fd; NULL and errno on failure. */
static inline struct bpf_link *conn_attach(int fd, struct bpf_map *map)
{
	struct bpf_link *link;
	int err;

	if (fd != CONN_FD && dup3(fd, CONN_FD, O_CLOEXEC) < 0)
		return NULL;
	link = bpf_map__attach_struct_ops(map);
	err = errno;
	if (fd != CONN_FD)
		close(CONN_FD);
	errno = err;
	return link;
}

/* Attach @map to the connection mounted on @mnt; NULL and errno. */
static inline struct bpf_link *conn_attach_mnt(const char *mnt,
					       struct bpf_map *map)
{
	struct bpf_link *link;
	int fd, err;

	fd = open(mnt, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	link = conn_attach(fd, map);
	err = errno;
	close(fd);
	errno = err;
	return link;
}

/* Move @link to @map, for the connection of @fd: 0, or -errno and errno. */
static inline int conn_update(int fd, struct bpf_link *link,
			      struct bpf_map *map)
{
	int ret, err;

	if (fd != CONN_FD && dup3(fd, CONN_FD, O_CLOEXEC) < 0)
		return -errno;
	ret = bpf_link__update_map(link, map);
	err = errno;
	if (fd != CONN_FD)
		close(CONN_FD);
	errno = err;
	return ret;
}

#endif /* __FUSE_CONN_FD_H */
