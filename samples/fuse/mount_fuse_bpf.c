// SPDX-License-Identifier: GPL-2.0
/*
 * mount.fuse.fuse-bpf: the mount(8) helper for fuse-bpf no_daemon mounts.
 *
 * Installed as /sbin/mount.fuse.fuse-bpf, it lets one command mount a
 * directory through fuse-bpf without a server:
 *
 *   mount -t fuse.fuse-bpf /srv/backing /mnt -o allow_other
 *
 * For "-t fuse.fuse-bpf", mount(8) of util-linux (2.38) looks in /sbin,
 * then /sbin/fs.d and /sbin/fs, for mount.fuse.fuse-bpf and, if that is
 * missing, mount.fuse in each (so on a system with fuse3's /sbin/mount.fuse
 * this helper must be in /sbin itself). It runs the helper as
 *
 *   mount.fuse.fuse-bpf SOURCE TARGET [-s] [-f] [-n] [-v] [-o OPTIONS] [-N NS]
 *
 * with its real ids (a setuid mount(8) drops its privilege first) and
 * without PATH, HOME, IFS, SHELL or LD_* in the environment, and exits
 * with the helper's exit status. The helper opens SOURCE as a
 * directory and calls mount(2) with the data
 * "no_daemon,root_dir=<fd>,subtype=fuse-bpf,<OPTIONS>": the generic
 * options (ro, nosuid, ...) become mount flags, the options only mount(8)
 * reads (defaults, nofail, x-*, ...) are dropped, the ones the helper sets
 * itself are refused, and the rest go to the kernel's fuse.
 *
 * "mount -o remount,FLAGS TARGET" runs it with "remount" among the
 * options: then it calls mount(2) with MS_REMOUNT and the flags (and
 * MS_BIND for "remount,bind", which changes only the mount's flags), and
 * drops the fuse options, which a remount cannot change (the kernel
 * ignores them; mount(8) repeats the mount's own ones). TARGET must be
 * the root of a fuse mount. Like any old-API remount it sets all of the
 * mount's flags: mount(8) repeats the mount's flags before the new ones,
 * while the helper run by hand with "-o remount,ro" clears nosuid,
 * nodev and noexec.
 *
 * It needs no privilege of its own and must not be setuid: the kernel
 * decides who may mount (CAP_SYS_ADMIN in the initial user namespace).
 *
 * Exit status as mount(8)'s: 0 mounted, 1 incorrect invocation or
 * options, 2 system error, 32 mount failure.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

#define PROG		"mount.fuse.fuse-bpf"
#define TYPE		"fuse.fuse-bpf"

/* mount(8)'s exit codes */
#define EX_OK		0
#define EX_USAGE	1
#define EX_SYSERR	2
#define EX_FAIL		32

#ifndef MS_LAZYTIME
#define MS_LAZYTIME	0x02000000
#endif
#ifndef MS_NOSYMFOLLOW
#define MS_NOSYMFOLLOW	256
#endif

#define FUSE_SUPER_MAGIC	0x65735546

/* What an option of -o is to the helper. */
enum opt_kind {
	OPT_SET,	/* a generic option: sets a mount(2) flag */
	OPT_CLEAR,	/* a generic option: clears one */
	OPT_IGNORE,	/* for mount(8) alone (fstab, utab, user mounts) */
	OPT_OWNED,	/* set by the helper itself: refused */
	OPT_REFUSED,	/* another kind of mount: refused */
	OPT_KERNEL,	/* an option of the kernel's fuse: given to it */
};

/*
 * A name ending in '=' takes any value, one ending in '*' any suffix.
 * @flag is the mount flag of OPT_SET and OPT_CLEAR, @why says why an
 * option is refused.
 */
struct opt_rule {
	const char *name;
	enum opt_kind kind;
	unsigned long flag;
	const char *why;
};

#define SET(n, f)	{ .name = n, .kind = OPT_SET, .flag = f }
#define CLEAR(n, f)	{ .name = n, .kind = OPT_CLEAR, .flag = f }
#define IGNORE(n)	{ .name = n, .kind = OPT_IGNORE }
#define OWNED(n, w)	{ .name = n, .kind = OPT_OWNED, .why = w }
#define REFUSED(n, w)	{ .name = n, .kind = OPT_REFUSED, .why = w }
#define KERNEL(n)	{ .name = n, .kind = OPT_KERNEL }

static const struct opt_rule opt_rules[] = {
	SET("ro", MS_RDONLY),
	CLEAR("rw", MS_RDONLY),
	SET("nosuid", MS_NOSUID),
	CLEAR("suid", MS_NOSUID),
	SET("nodev", MS_NODEV),
	CLEAR("dev", MS_NODEV),
	SET("noexec", MS_NOEXEC),
	CLEAR("exec", MS_NOEXEC),
	SET("sync", MS_SYNCHRONOUS),
	CLEAR("async", MS_SYNCHRONOUS),
	SET("dirsync", MS_DIRSYNC),
	SET("noatime", MS_NOATIME),
	CLEAR("atime", MS_NOATIME),
	SET("nodiratime", MS_NODIRATIME),
	CLEAR("diratime", MS_NODIRATIME),
	SET("relatime", MS_RELATIME),
	CLEAR("norelatime", MS_RELATIME),
	SET("strictatime", MS_STRICTATIME),
	CLEAR("nostrictatime", MS_STRICTATIME),
	SET("lazytime", MS_LAZYTIME),
	CLEAR("nolazytime", MS_LAZYTIME),
	SET("nosymfollow", MS_NOSYMFOLLOW),
	CLEAR("symfollow", MS_NOSYMFOLLOW),
	SET("silent", MS_SILENT),
	CLEAR("loud", MS_SILENT),

	/* mount(8)'s own, which it may pass on: dropped, as by mount.fuse3 */
	IGNORE("defaults"),
	IGNORE("auto"),
	IGNORE("noauto"),
	IGNORE("user"),
	IGNORE("user="),
	IGNORE("nouser"),
	IGNORE("users"),
	IGNORE("nousers"),
	IGNORE("owner"),
	IGNORE("noowner"),
	IGNORE("group"),
	IGNORE("nogroup"),
	IGNORE("_netdev"),
	IGNORE("nofail"),
	IGNORE("comment="),
	IGNORE("x-*"),
	IGNORE("X-*"),
	IGNORE("helper="),
	IGNORE("uhelper="),

	/* what the helper sets itself */
	OWNED("fd=", "a no_daemon mount has no server"),
	OWNED("root_dir=", "the helper opens SOURCE and passes it"),
	OWNED("no_daemon", "the helper always sets it"),
	OWNED("fuse_bpf", "the helper sets no_daemon, which implies it"),
	OWNED("subtype=", "the helper sets subtype=fuse-bpf"),
	OWNED("source=", "SOURCE is the first argument"),
	OWNED("rootmode=", "the root's mode is SOURCE's"),
	OWNED("ops=", "only a server attaches filters, and there is none"),

	/* a remount: the flags change, the rest is the mount's */
	SET("remount", MS_REMOUNT),
	SET("bind", MS_BIND),	/* with remount only */

	/* other kinds of mount */
	REFUSED("rbind", "mount --rbind"),
	REFUSED("move", "mount --move"),

	/* what the kernel's fuse takes on a no_daemon mount, for -s */
	KERNEL("user_id="),
	KERNEL("group_id="),
	KERNEL("default_permissions"),
	KERNEL("allow_other"),
	KERNEL("max_read="),
	KERNEL("backing_timeout="),
};

/* The flags of opt_rules, by name, for -v. */
static const struct {
	unsigned long flag;
	const char *name;
} flag_names[] = {
	{ MS_RDONLY,		"MS_RDONLY" },
	{ MS_NOSUID,		"MS_NOSUID" },
	{ MS_NODEV,		"MS_NODEV" },
	{ MS_NOEXEC,		"MS_NOEXEC" },
	{ MS_SYNCHRONOUS,	"MS_SYNCHRONOUS" },
	{ MS_DIRSYNC,		"MS_DIRSYNC" },
	{ MS_NOATIME,		"MS_NOATIME" },
	{ MS_NODIRATIME,	"MS_NODIRATIME" },
	{ MS_RELATIME,		"MS_RELATIME" },
	{ MS_STRICTATIME,	"MS_STRICTATIME" },
	{ MS_LAZYTIME,		"MS_LAZYTIME" },
	{ MS_NOSYMFOLLOW,	"MS_NOSYMFOLLOW" },
	{ MS_SILENT,		"MS_SILENT" },
	{ MS_REMOUNT,		"MS_REMOUNT" },
	{ MS_BIND,		"MS_BIND" },
};

/* The parsed command line. */
struct args {
	const char *source;
	const char *target;
	const char *ns;
	char *opts;
	bool fake;
	bool verbose;
	bool sloppy;
	bool remount;		/* "remount" is among the options */
	/* from the options */
	unsigned long flags;
	bool nofail;
	char *fs_opts;		/* for the kernel */
};

static void print_usage(FILE *out)
{
	fprintf(out,
		"usage: " PROG " SOURCE TARGET [-sfnv] [-o OPTIONS] [-t " TYPE "] [-N NS]\n"
		"\n"
		"Mount the directory SOURCE at TARGET through fuse-bpf with no server\n"
		"(a no_daemon mount). mount(8) runs it for\n"
		"\n"
		"  mount -t " TYPE " SOURCE TARGET [-o OPTIONS]\n"
		"\n"
		"  -o OPTIONS  comma-separated: the generic options (ro, nosuid, nodev,\n"
		"              noexec, noatime, ...) become mount flags; allow_other,\n"
		"              default_permissions, backing_timeout=MS, user_id=,\n"
		"              group_id=, max_read= go to the kernel; mount(8)'s own\n"
		"              (defaults, nofail, _netdev, user, x-*, ...) are ignored;\n"
		"              with remount (and remount,bind) only the flags change\n"
		"  -f          fake: check everything but do not call mount(2)\n"
		"  -v          print the mount(2) call\n"
		"  -s          sloppy: ignore options the kernel's fuse does not take\n"
		"  -n          ignored (there is no /etc/mtab to write)\n"
		"  -t TYPE     accepted if TYPE is " TYPE "\n"
		"  -N NS       mount in the mount namespace NS (as /proc/PID/ns/mnt),\n"
		"              where SOURCE and TARGET are looked up from its root\n"
		"  -h, --help  print this text\n"
		"\n"
		"Refused options: fd=, root_dir=, no_daemon, fuse_bpf, subtype=,\n"
		"source=, rootmode=, ops= (the helper sets what the mount needs; a\n"
		"remount ignores them), bind without remount, rbind, move. The kernel\n"
		"lets only CAP_SYS_ADMIN mount.\n"
		"Exit status: 0 mounted, 1 bad usage or option, 2 system error,\n"
		"32 mount failure.\n");
}

static const struct opt_rule *find_rule(const char *opt)
{
	size_t i, n;

	for (i = 0; i < ARRAY_SIZE(opt_rules); i++) {
		const char *name = opt_rules[i].name;

		n = strlen(name);
		if (name[n - 1] == '*' || name[n - 1] == '=') {
			if (!strncmp(opt, name, name[n - 1] == '*' ? n - 1 : n))
				return &opt_rules[i];
		} else if (!strcmp(opt, name)) {
			return &opt_rules[i];
		}
	}
	return NULL;
}

/* Append @opt to the comma-separated list @list, which has room for it. */
static void list_add(char *list, const char *opt)
{
	size_t len = strlen(list);

	if (len)
		list[len++] = ',';
	memcpy(list + len, opt, strlen(opt) + 1);
}

/*
 * Sort one option of -o into @a. Returns 0, or an exit status after
 * saying why the option is refused.
 */
static int parse_opt(struct args *a, const char *opt)
{
	const struct opt_rule *rule = find_rule(opt);

	if (!*opt)
		return 0;
	/* A remount keeps what is not a flag (mount(8) passes it on). */
	if (a->remount &&
	    (!rule || rule->kind == OPT_OWNED || rule->kind == OPT_KERNEL)) {
		if (a->verbose)
			printf(PROG ": ignoring option %s: a remount keeps it\n",
			       opt);
		return 0;
	}
	switch (rule ? rule->kind : OPT_KERNEL) {
	case OPT_SET:
		a->flags |= rule->flag;
		return 0;
	case OPT_CLEAR:
		a->flags &= ~rule->flag;
		return 0;
	case OPT_IGNORE:
		if (!strcmp(opt, "nofail"))
			a->nofail = true;
		return 0;
	case OPT_OWNED:
		fprintf(stderr, PROG ": option %s: not allowed: %s\n", opt,
			rule->why);
		return EX_USAGE;
	case OPT_REFUSED:
		fprintf(stderr, PROG ": option %s: not supported (use %s)\n",
			opt, rule->why);
		return EX_USAGE;
	case OPT_KERNEL:
		break;
	}
	if (!rule && a->sloppy) {
		if (a->verbose)
			printf(PROG ": ignoring option %s (-s)\n", opt);
		return 0;
	}
	list_add(a->fs_opts, opt);
	return 0;
}

/*
 * Split -o at the commas outside double quotes (mount(8) allows
 * name="a,b") and sort each option.
 */
static int parse_opts(struct args *a)
{
	size_t n = 0, i;
	bool quoted = false;
	char **opt, *p;
	int err = 0;

	a->fs_opts = calloc(1, strlen(a->opts) + 1);
	opt = calloc(strlen(a->opts) + 2, sizeof(*opt));
	if (!a->fs_opts || !opt) {
		perror(PROG);
		return EX_SYSERR;
	}
	opt[n++] = a->opts;
	for (p = a->opts; *p; p++) {
		if (*p == '"') {
			quoted = !quoted;
		} else if (*p == ',' && !quoted) {
			*p = '\0';
			opt[n++] = p + 1;
		}
	}
	/* "remount" anywhere decides how the others are read */
	for (i = 0; i < n; i++)
		if (!strcmp(opt[i], "remount"))
			a->remount = true;
	for (i = 0; i < n && !err; i++)
		err = parse_opt(a, opt[i]);
	free(opt);
	if (err)
		return err;
	if ((a->flags & MS_BIND) && !a->remount) {
		fprintf(stderr, PROG ": option bind: not supported (use mount --bind)\n");
		return EX_USAGE;
	}
	return 0;
}

/* -v: the mount(2) call; NULL @type and @data for a remount. */
static void print_call(const struct args *a, const char *type,
		       const char *data)
{
	const char *sep = "";
	size_t i;

	printf("mount(\"%s\", \"%s\", %s%s%s, ", a->source, a->target,
	       type ? "\"" : "", type ? type : "NULL", type ? "\"" : "");
	for (i = 0; i < ARRAY_SIZE(flag_names); i++) {
		if (a->flags & flag_names[i].flag) {
			printf("%s%s", sep, flag_names[i].name);
			sep = "|";
		}
	}
	printf("%s, %s%s%s)%s\n", *sep ? "" : "0", data ? "\"" : "",
	       data ? data : "NULL", data ? "\"" : "",
	       a->fake ? " (not called: -f)" : "");
	fflush(stdout);
}

static const struct option long_opts[] = {
	{ "help", no_argument, NULL, 'h' },
	{ }
};

/* SOURCE, then TARGET. Returns 0 or an exit status. */
static int add_arg(struct args *a, const char *arg)
{
	if (!a->source) {
		a->source = arg;
	} else if (!a->target) {
		a->target = arg;
	} else {
		fprintf(stderr, PROG ": too many arguments: %s\n", arg);
		return EX_USAGE;
	}
	return 0;
}

/* Returns 0 with @a filled in, or an exit status. */
static int parse_args(struct args *a, int argc, char **argv)
{
	char *opts;
	int c, err;

	/* "-": the arguments in order, before, between or after options */
	while ((c = getopt_long(argc, argv, "-sfnvho:t:N:", long_opts,
				NULL)) != -1) {
		switch (c) {
		case 1:
			err = add_arg(a, optarg);
			if (err)
				return err;
			break;
		case 's':
			a->sloppy = true;
			break;
		case 'f':
			a->fake = true;
			break;
		case 'n':
			break;
		case 'v':
			a->verbose = true;
			break;
		case 'h':
			print_usage(stdout);
			exit(EX_OK);
		case 'o':
			/* several -o add up */
			if (a->opts) {
				if (asprintf(&opts, "%s,%s", a->opts, optarg) < 0) {
					perror(PROG);
					return EX_SYSERR;
				}
				a->opts = opts;
			} else {
				a->opts = optarg;
			}
			break;
		case 't':
			if (strcmp(optarg, TYPE)) {
				fprintf(stderr, PROG ": -t %s: this helper mounts " TYPE "\n",
					optarg);
				return EX_USAGE;
			}
			break;
		case 'N':
			a->ns = optarg;
			break;
		default:
			print_usage(stderr);
			return EX_USAGE;
		}
	}
	/* after "--" */
	for (; optind < argc; optind++) {
		err = add_arg(a, argv[optind]);
		if (err)
			return err;
	}
	if (!a->source || !a->target) {
		fprintf(stderr, PROG ": %s\n", a->source ? "no TARGET given" :
			"no SOURCE and TARGET given");
		print_usage(stderr);
		return EX_USAGE;
	}
	/* -s and -v apply to the options wherever they came */
	return a->opts ? parse_opts(a) : 0;
}

/*
 * mount -o remount,FLAGS TARGET: the flags (of the super block and the
 * mount, or with bind of the mount alone) change; SOURCE is not opened.
 * TARGET must be the root of a fuse mount, and is remounted through the
 * descriptor that was checked.
 */
static int remount(struct args *a)
{
	char path[64];
	struct statfs sfs;
	struct statx stx;
	int fd, ret = EX_FAIL;

	fd = open(a->target, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, PROG ": %s: %s\n", a->target, strerror(errno));
		return EX_FAIL;
	}
	if (fstatfs(fd, &sfs) ||
	    statx(fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &stx)) {
		fprintf(stderr, PROG ": %s: %s\n", a->target, strerror(errno));
		goto out;
	}
	if (sfs.f_type != FUSE_SUPER_MAGIC ||
	    !(stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) ||
	    !(stx.stx_attributes & STATX_ATTR_MOUNT_ROOT)) {
		fprintf(stderr, PROG ": %s: not the root of a fuse mount\n",
			a->target);
		goto out;
	}
	if (a->verbose)
		print_call(a, NULL, NULL);
	ret = EX_OK;
	if (a->fake)
		goto out;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if (mount(a->source, path, NULL, a->flags, NULL)) {
		fprintf(stderr, PROG ": remounting %s: %s\n", a->target,
			strerror(errno));
		ret = EX_FAIL;
	}
out:
	close(fd);
	return ret;
}

int main(int argc, char **argv)
{
	struct args a = { };
	size_t size, max;
	struct stat st;
	char *data;
	int fd, err;

	/* mount(8) runs helpers with their real ids: never setuid */
	if (getuid() != geteuid() || getgid() != getegid()) {
		fprintf(stderr, PROG ": must not run setuid or setgid\n");
		return EX_USAGE;
	}
	err = parse_args(&a, argc, argv);
	if (err)
		return err;

	if (a.ns) {
		fd = open(a.ns, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || setns(fd, CLONE_NEWNS)) {
			fprintf(stderr, PROG ": mount namespace %s: %s\n", a.ns,
				strerror(errno));
			return EX_FAIL;
		}
		close(fd);
	}

	if (a.remount)
		return remount(&a);

	fd = open(a.source, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		err = errno;
		/* nofail: a SOURCE that does not exist is not an error */
		if (err == ENOENT && a.nofail) {
			if (a.verbose)
				printf(PROG ": %s does not exist, nothing mounted (nofail)\n",
				       a.source);
			return EX_OK;
		}
		fprintf(stderr, PROG ": %s: %s\n", a.source, strerror(err));
		return EX_FAIL;
	}
	if (stat(a.target, &st)) {
		fprintf(stderr, PROG ": %s: %s\n", a.target, strerror(errno));
		return EX_FAIL;
	}
	if (!S_ISDIR(st.st_mode)) {
		fprintf(stderr, PROG ": %s: %s\n", a.target, strerror(ENOTDIR));
		return EX_FAIL;
	}

	/* The kernel copies a page of data, NUL included. */
	max = sysconf(_SC_PAGESIZE) - 1;
	size = 64 + (a.fs_opts ? strlen(a.fs_opts) : 0);
	data = malloc(size);
	if (!data) {
		perror(PROG);
		return EX_SYSERR;
	}
	snprintf(data, size, "no_daemon,root_dir=%d,subtype=fuse-bpf%s%s", fd,
		 a.fs_opts && *a.fs_opts ? "," : "",
		 a.fs_opts ? a.fs_opts : "");
	if (strlen(data) > max) {
		fprintf(stderr, PROG ": the options are too long (%zu bytes, at most %zu)\n",
			strlen(data), max);
		return EX_USAGE;
	}

	if (a.verbose)
		print_call(&a, "fuse", data);
	if (a.fake)
		return EX_OK;
	if (mount(a.source, a.target, "fuse", a.flags, data)) {
		err = errno;
		fprintf(stderr, PROG ": mounting %s on %s: %s\n", a.source,
			a.target, strerror(err));
		if (err == EINVAL)
			fprintf(stderr,
				PROG ": the kernel log (dmesg) names the option it refused\n");
		return EX_FAIL;
	}
	return EX_OK;
}
