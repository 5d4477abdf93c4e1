// SPDX-License-Identifier: GPL-2.0
/*
 * fuse_bpf_reqcache: the BPF half of the fuse_bpf_reqcache sample, a
 * request program (struct fuse_bpf_request_ops) for a classic FUSE daemon.
 *
 * It answers GETATTR from the attrs map (node id -> struct fuse_attr_out)
 * and LOOKUP from the entries map ((parent node id, name) -> struct
 * fuse_entry_out); the daemon fills both with the replies it sends itself
 * and deletes what a change makes stale before it replies to the change.
 * Everything else, and whatever is not in the maps, goes to the daemon.
 *
 * A LOOKUP answered here gives the kernel a reference to the node that
 * the daemon did not see, and the kernel's FORGET counts it. So a LOOKUP
 * is answered only for a node that has a counter in the handed map, which
 * the program increments first; the daemon adds it to its own count. The
 * entry is looked up again after the increment: if the daemon deleted it
 * meanwhile, the increment is undone and the LOOKUP goes to the daemon.
 * Either the daemon sees the increment by the time it deletes the entry
 * and then reads the counter, or the program sees the deletion; a node
 * the kernel got from here is never freed under it.
 *
 * With --hide=PREFIX (hide_prefix, hide_len, set before load), names
 * starting with PREFIX do not exist, in every directory, for every
 * caller, as with fuse_bpf_mirror --hide: a LOOKUP of one fails with
 * -ENOENT here (the kernel makes a negative entry, and asks again on the
 * next walk: the daemon never hears of it), every request that names one
 * (CREATE, MKNOD, MKDIR, SYMLINK, LINK, UNLINK, RMDIR, RENAME, RENAME2;
 * either name of a rename) fails with -ENOENT as the mirror's failed
 * lookup makes them fail, and READDIR replies lose their records in the
 * reply callback. The kernel never gets a node id of a hidden name, so
 * no other request can reach one.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "fuse_bpf_reqcache.h"

char LICENSE[] SEC("license") = "GPL";

extern int bpf_fuse_req_in_dynptr(struct fuse_bpf_request *req, __u32 i,
				  struct bpf_dynptr *ptr) __ksym;
extern int bpf_fuse_req_out_dynptr(struct fuse_bpf_request *req, __u32 i,
				   __u64 size, struct bpf_dynptr *ptr) __ksym;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, REQCACHE_MAX_ENTRIES);
	__type(key, __u64);
	__type(value, struct fuse_attr_out);
} attrs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, REQCACHE_MAX_ENTRIES);
	__type(key, struct reqcache_key);
	__type(value, struct fuse_entry_out);
} entries SEC(".maps");

/* node id -> LOOKUPs of it answered here */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, REQCACHE_MAX_ENTRIES);
	__type(key, __u64);
	__type(value, __u64);
} handed SEC(".maps");

/* for the daemon's status file */
__u64 served_getattr;
__u64 served_lookup;
__u64 sent;
/* --send-all: answer nothing, as a trivial program (set before load) */
const volatile bool send_all;

/* --hide=PREFIX (set before load); hide_len 0: nothing is hidden */
const volatile char hide_prefix[REQCACHE_HIDE_MAX];
const volatile __u32 hide_len;
__u64 hidden_lookups;	/* LOOKUPs of hidden names failed */
__u64 hidden_refused;	/* other requests naming one, failed */
__u64 hidden_dirents;	/* records removed from READDIR replies */

#define ENOENT		2
#define EIO		5
#define DIRENT_HDR	sizeof(struct fuse_dirent)
#define DIRENT_MAX	(DIRENT_HDR + 256)
/* records of a one-page listing, at most (32 bytes each, the smallest) */
#define DIRENTS_MAX	128

/* Do the first hide_len bytes at @s match hide_prefix? */
static __always_inline bool prefix_match(const char *s)
{
	__u32 i;

	for (i = 0; i < REQCACHE_HIDE_MAX; i++) {
		if (i >= hide_len)
			return true;
		if (s[i] != hide_prefix[i])
			return false;
	}
	return true;
}

/*
 * Is in-argument @i of @req, a name with its NUL, hidden? A name that
 * cannot be read is taken as hidden: the request fails rather than
 * reach the daemon with a name nobody checked.
 */
static __always_inline bool arg_hidden(struct fuse_bpf_request *req, __u32 i)
{
	char buf[REQCACHE_HIDE_MAX];
	struct bpf_dynptr in;
	__u32 len = hide_len;

	if (i >= 3)
		return true;
	if (req->in_size[i] < len + 1)
		return false;
	if (len > sizeof(buf) || bpf_fuse_req_in_dynptr(req, i, &in) ||
	    bpf_dynptr_read(buf, len, &in, 0, 0))
		return true;
	return prefix_match(buf);
}

/* A request that names an entry: fail it if the name is hidden. */
static __always_inline int refuse_hidden(struct fuse_bpf_request *req,
					 __u32 i, __u32 j)
{
	if (arg_hidden(req, i) || (j && arg_hidden(req, j))) {
		__sync_fetch_and_add(&hidden_refused, 1);
		return -ENOENT;
	}
	return FUSE_BPF_REQ_SEND;
}

/*
 * Remove the records of hidden names from the daemon's READDIR reply, in
 * its page: move the others to the front and give the reply its new
 * size. A record that cannot be read fails the READDIR: nothing hidden
 * leaks through a reply the program could not check.
 */
static __always_inline int hide_in_listing(struct fuse_bpf_request *req)
{
	__u32 size = req->out_size[0], rd = 0, wr = 0, reclen;
	char rec[DIRENT_MAX];
	struct fuse_dirent *de = (void *)rec;
	struct bpf_dynptr d;
	int i;

	if (req->error || !size)
		return FUSE_BPF_REQ_SEND;
	if (bpf_fuse_req_out_dynptr(req, 0, size, &d))
		return -EIO;
	bpf_for(i, 0, DIRENTS_MAX) {
		if (rd >= size)
			break;
		if (bpf_dynptr_read(rec, DIRENT_HDR, &d, rd, 0))
			return -EIO;
		reclen = (DIRENT_HDR + de->namelen + 7) & ~7U;
		if (reclen > sizeof(rec) || bpf_dynptr_read(rec, reclen, &d, rd, 0))
			return -EIO;
		rd += reclen;
		if (de->namelen >= hide_len && prefix_match(de->name)) {
			__sync_fetch_and_add(&hidden_dirents, 1);
			continue;
		}
		if (wr != rd - reclen && bpf_dynptr_write(&d, wr, rec, reclen, 0))
			return -EIO;
		wr += reclen;
	}
	if (rd < size)
		return -EIO;
	/* The last size given is the reply's. */
	if (wr != size && bpf_fuse_req_out_dynptr(req, 0, wr, &d))
		return -EIO;
	return FUSE_BPF_REQ_SEND;
}

static __always_inline int reply(struct fuse_bpf_request *req, void *data,
				 __u32 size)
{
	struct bpf_dynptr out;

	if (bpf_fuse_req_out_dynptr(req, 0, size, &out) ||
	    bpf_dynptr_write(&out, 0, data, size, 0))
		return -1;
	return 0;
}

static __always_inline int getattr(struct fuse_bpf_request *req)
{
	__u64 id = req->nodeid;
	struct fuse_attr_out *a;

	a = bpf_map_lookup_elem(&attrs, &id);
	if (!a || reply(req, a, sizeof(*a)))
		return FUSE_BPF_REQ_SEND;
	__sync_fetch_and_add(&served_getattr, 1);
	return FUSE_BPF_REQ_REPLIED;
}

static __always_inline int lookup(struct fuse_bpf_request *req)
{
	struct reqcache_key key = { .parent = req->nodeid };
	__u32 len = req->in_size[0];
	struct fuse_entry_out *e;
	struct bpf_dynptr in;
	__u64 id, *count;

	if (req->in_numargs != 1)
		return FUSE_BPF_REQ_SEND;
	if (len > sizeof(key.name) || bpf_fuse_req_in_dynptr(req, 0, &in) ||
	    bpf_dynptr_read(key.name, len, &in, 0, 0)) {
		/* not published: a name too long for a key */
		if (hide_len && arg_hidden(req, 0))
			goto hidden;
		return FUSE_BPF_REQ_SEND;
	}
	/* the name is in the key, zero-padded past its NUL */
	if (hide_len && len >= hide_len + 1 && prefix_match(key.name))
		goto hidden;
	e = bpf_map_lookup_elem(&entries, &key);
	if (!e)
		return FUSE_BPF_REQ_SEND;
	id = e->nodeid;
	count = bpf_map_lookup_elem(&handed, &id);
	if (!count)
		return FUSE_BPF_REQ_SEND;
	__sync_fetch_and_add(count, 1);
	/* Still published? (see the comment at the top) */
	e = bpf_map_lookup_elem(&entries, &key);
	if (!e || e->nodeid != id || reply(req, e, sizeof(*e))) {
		__sync_fetch_and_sub(count, 1);
		return FUSE_BPF_REQ_SEND;
	}
	__sync_fetch_and_add(&served_lookup, 1);
	return FUSE_BPF_REQ_REPLIED;
hidden:
	__sync_fetch_and_add(&hidden_lookups, 1);
	return -ENOENT;
}

/* The requests that name an entry, and where the names are. */
static __always_inline int hide(struct fuse_bpf_request *req)
{
	switch (req->opcode) {
	case FUSE_UNLINK:
	case FUSE_RMDIR:
	case FUSE_SYMLINK:
		return refuse_hidden(req, 0, 0);
	case FUSE_CREATE:
	case FUSE_MKNOD:
	case FUSE_MKDIR:
	case FUSE_LINK:
		return refuse_hidden(req, 1, 0);
	case FUSE_RENAME:
	case FUSE_RENAME2:
		return refuse_hidden(req, 1, 2);
	case FUSE_READDIR:
		return FUSE_BPF_REQ_SEND_WATCH;
	case FUSE_READDIRPLUS:
		/* the daemon turns it off; its entries are not filtered */
		return -EIO;
	}
	return FUSE_BPF_REQ_SEND;
}

SEC("struct_ops/reqcache_request")
int BPF_PROG(reqcache_request, struct fuse_bpf_request *req)
{
	int ret = FUSE_BPF_REQ_SEND;

	if (send_all)
		return FUSE_BPF_REQ_SEND;
	switch (req->opcode) {
	case FUSE_GETATTR:
		ret = getattr(req);
		break;
	case FUSE_LOOKUP:
		ret = lookup(req);
		break;
	default:
		if (hide_len)
			ret = hide(req);
		break;
	}
	if (ret == FUSE_BPF_REQ_SEND || ret == FUSE_BPF_REQ_SEND_WATCH)
		__sync_fetch_and_add(&sent, 1);
	return ret;
}

/* Only READDIR is watched, with --hide. */
SEC("struct_ops/reqcache_reply")
int BPF_PROG(reqcache_reply, struct fuse_bpf_request *req)
{
	if (req->opcode != FUSE_READDIR || !hide_len)
		return FUSE_BPF_REQ_SEND;
	return hide_in_listing(req);
}

SEC(".struct_ops.link")
struct fuse_bpf_request_ops reqcache = {
	.request = (void *)reqcache_request,
	.reply = (void *)reqcache_reply,
};
