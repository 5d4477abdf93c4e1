/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The names of the FUSE opcodes, for logs and counts: the test daemon's
 * and those of other raw /dev/fuse servers, which include it by path.
 */
#ifndef __FUSE_OPNAMES_H
#define __FUSE_OPNAMES_H

#include <linux/fuse.h>

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#endif

/**
 * fuse_opname() - the name of a FUSE opcode
 * @opcode: the opcode of a request
 *
 * Return: the name of @opcode in enum fuse_opcode without "FUSE_", or
 * NULL for a number that is not an opcode.
 */
static inline const char *fuse_opname(__u32 opcode)
{
	static const char * const names[] = {
		[FUSE_LOOKUP] = "LOOKUP",	[FUSE_FORGET] = "FORGET",
		[FUSE_GETATTR] = "GETATTR",	[FUSE_SETATTR] = "SETATTR",
		[FUSE_READLINK] = "READLINK",	[FUSE_SYMLINK] = "SYMLINK",
		[FUSE_MKNOD] = "MKNOD",		[FUSE_MKDIR] = "MKDIR",
		[FUSE_UNLINK] = "UNLINK",	[FUSE_RMDIR] = "RMDIR",
		[FUSE_RENAME] = "RENAME",	[FUSE_LINK] = "LINK",
		[FUSE_OPEN] = "OPEN",		[FUSE_READ] = "READ",
		[FUSE_WRITE] = "WRITE",		[FUSE_STATFS] = "STATFS",
		[FUSE_RELEASE] = "RELEASE",	[FUSE_FSYNC] = "FSYNC",
		[FUSE_SETXATTR] = "SETXATTR",	[FUSE_GETXATTR] = "GETXATTR",
		[FUSE_LISTXATTR] = "LISTXATTR",
		[FUSE_REMOVEXATTR] = "REMOVEXATTR",
		[FUSE_FLUSH] = "FLUSH",		[FUSE_INIT] = "INIT",
		[FUSE_OPENDIR] = "OPENDIR",	[FUSE_READDIR] = "READDIR",
		[FUSE_RELEASEDIR] = "RELEASEDIR",
		[FUSE_FSYNCDIR] = "FSYNCDIR",	[FUSE_GETLK] = "GETLK",
		[FUSE_SETLK] = "SETLK",		[FUSE_SETLKW] = "SETLKW",
		[FUSE_ACCESS] = "ACCESS",	[FUSE_CREATE] = "CREATE",
		[FUSE_INTERRUPT] = "INTERRUPT",	[FUSE_BMAP] = "BMAP",
		[FUSE_DESTROY] = "DESTROY",	[FUSE_IOCTL] = "IOCTL",
		[FUSE_POLL] = "POLL",
		[FUSE_NOTIFY_REPLY] = "NOTIFY_REPLY",
		[FUSE_BATCH_FORGET] = "BATCH_FORGET",
		[FUSE_FALLOCATE] = "FALLOCATE",
		[FUSE_READDIRPLUS] = "READDIRPLUS",
		[FUSE_RENAME2] = "RENAME2",	[FUSE_LSEEK] = "LSEEK",
		[FUSE_COPY_FILE_RANGE] = "COPY_FILE_RANGE",
		[FUSE_SETUPMAPPING] = "SETUPMAPPING",
		[FUSE_REMOVEMAPPING] = "REMOVEMAPPING",
		[FUSE_SYNCFS] = "SYNCFS",	[FUSE_TMPFILE] = "TMPFILE",
		[FUSE_STATX] = "STATX",
	};

	if (opcode < ARRAY_SIZE(names))
		return names[opcode];
	return NULL;
}

#endif /* __FUSE_OPNAMES_H */
