/* SPDX-License-Identifier: GPL-2.0 */
/*
 * fuse-bpf: the BPF struct_ops type of request programs, which a FUSE
 * server attaches to its own connection to answer requests in the kernel.
 * See Documentation/filesystems/fuse-bpf.rst.
 */
#ifndef _LINUX_FUSE_BPF_REQUEST_H
#define _LINUX_FUSE_BPF_REQUEST_H

#include <linux/types.h>
#include <uapi/linux/fuse.h>

/**
 * struct fuse_bpf_request - a FUSE request, as a request program sees it
 * @opcode: the FUSE opcode (FUSE_GETATTR...), with %FUSE_PREFILTER or
 *	%FUSE_POSTFILTER for a filter's upcall
 * @error: in @reply, the server's result: 0 or a negative errno; 0 in
 *	@request
 * @nodeid: the node id the request is for (0 for requests on none)
 * @uid: fsuid of the caller, as the server gets it in &struct
 *	fuse_in_header: in the user namespace of the connection, through the
 *	mount's idmap when the server allows idmapped mounts (then
 *	%FUSE_INVALID_UIDGID in requests that create nothing)
 * @gid: fsgid of the caller, likewise
 * @pid: id of the calling thread, in the pid namespace of the connection,
 *	as the server would see it in &struct fuse_in_header
 * @in_numargs: number of in-arguments
 * @out_numargs: number of out-arguments
 * @in_size: the size of each in-argument, in the request's layout (names
 *	with their NUL); of data in a page, the part in the page
 * @out_size: the size of each out-argument; for the variable-size last
 *	one of READ, READDIR, READLINK, GETXATTR, LISTXATTR (and others),
 *	the largest reply the request takes. In @reply, the size of the
 *	server's reply (0 after an error); bpf_fuse_req_out_dynptr() still
 *	takes sizes up to the largest
 *
 * Read-only for programs. The arguments are those of the request the
 * server would get, in its layout: bpf_fuse_req_in_dynptr() reads them,
 * bpf_fuse_req_out_dynptr() writes the reply.
 */
struct fuse_bpf_request {
	u32 opcode;
	s32 error;
	u64 nodeid;
	u32 uid;
	u32 gid;
	u32 pid;
	u32 in_numargs;
	u32 out_numargs;
	u32 in_size[3];
	u32 out_size[2];
};

struct fuse_bpf_req_slot;

/**
 * struct fuse_bpf_request_ops - a server's program for its requests
 * @request: runs for every request of the connection that the kernel
 *	sends and waits for, on classic mounts as on fuse-bpf ones, before
 *	the request is queued; not for background requests (FUSE_INIT,
 *	asynchronous reads and writes), nor for those that end what the
 *	server counts or holds (FORGET, RELEASE, RELEASEDIR, DESTROY), nor
 *	for interrupts. It returns a value of &enum fuse_bpf_req_ret or a
 *	negative errno above -512 (one a server may reply), which fails the
 *	request. It may sleep (a sleepable program).
 * @reply: for a request @request returned %FUSE_BPF_REQ_SEND_WATCH for,
 *	after the server replied: &fuse_bpf_request.error is the server's
 *	result, the out-arguments hold its reply. It returns
 *	%FUSE_BPF_REQ_SEND to keep the reply (with the changes it made
 *	through bpf_fuse_req_out_dynptr()), %FUSE_BPF_REQ_REPLIED to
 *	answer instead of the server (even after an error), or a negative
 *	errno above -512. It may not sleep.
 * @fuse_fd: a /dev/fuse file descriptor of the connection (the server's,
 *	or one passed or duplicated from it), in the attaching process; a
 *	file of the mount does not name the connection
 * @flags: zero
 * @slot: kernel-private, zero
 *
 * A server attaches one map of this type to its own connection (its link
 * lives as long as the program serves; a second map: -EEXIST). Attaching
 * needs CAP_SYS_ADMIN, as registering a backing file does: the program
 * answers for every caller. A value of neither kind from a callback fails
 * the request with -EIO. When the map is detached, requests go to the
 * server again; no callback runs after the detach returns.
 */
struct fuse_bpf_request_ops {
	int (*request)(struct fuse_bpf_request *req);
	int (*reply)(struct fuse_bpf_request *req);
	int fuse_fd;
	u32 flags;
	struct fuse_bpf_req_slot *slot;
};

#endif /* _LINUX_FUSE_BPF_REQUEST_H */
