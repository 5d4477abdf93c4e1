# SPDX-License-Identifier: GPL-2.0
# Common settings for the fuse-bpf harness scripts. Sourced, never run.

set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-$REPO/build}
TREE=$BUILD/linux
STATE=$BUILD/state
BASE_PKG=linux-source-6.12
BASE_TARBALL=/usr/src/linux-source-6.12.tar.xz
# The Debian version of $BASE_PKG the series was made against.
BASE_VERSION=$(cat "$REPO/harness/base-version")
NPROC=$(nproc)
# clang for BPF programs: bookworm's default clang 14 is too old for
# the kernel's BPF headers, so the harness installs and uses clang-19.
CLANG=${CLANG:-clang-19}
LLVM_STRIP=${LLVM_STRIP:-llvm-strip-19}

die() {
	printf 'error: %s\n' "$*" >&2
	exit 1
}

note() {
	printf '%s\n' "$*" >&2
}

# install_packages TARGET LOG PKG...: install with apt-get the Debian
# packages of the list that are missing (as root; "make TARGET" is what
# to run as root otherwise), logging to LOG.
install_packages() {
	local target=$1 log=$2 p st
	local missing=()

	shift 2
	for p in "$@"; do
		st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
		[ "$st" = installed ] || missing+=("$p")
	done
	[ ${#missing[@]} -gt 0 ] || return 0
	[ "$(id -u)" = 0 ] ||
		die "missing Debian packages (${missing[*]}); run 'make $target' as root"
	note "installing Debian packages: ${missing[*]}"
	mkdir -p "$(dirname "$log")"
	if ! DEBIAN_FRONTEND=noninteractive apt-get install -y \
		--no-install-recommends "${missing[@]}" >"$log" 2>&1; then
		apt-get update >>"$log" 2>&1 ||
			die "apt-get update failed (see $log)"
		DEBIAN_FRONTEND=noninteractive apt-get install -y \
			--no-install-recommends "${missing[@]}" >>"$log" 2>&1 ||
			die "could not install Debian packages: ${missing[*]} (see $log)"
	fi
}

# Serialise a build step against the same step of another make run
# (several developers or agents share build/): hold an exclusive lock on
# build/.NAME.lock until the script exits.
build_lock() {
	mkdir -p "$BUILD"
	exec 8>"$BUILD/.$1.lock"
	flock 8
}

# The top-level directories of a Linux 6.12 tree.
KERNEL_DIRS="arch block certs crypto Documentation drivers fs include init
io_uring ipc kernel lib LICENSES mm net rust samples scripts security sound
tools usr virt"
KERNEL_DIRS=$(echo $KERNEL_DIRS)

# True for a repository path that belongs to the kernel series: a file
# under one of the base tree's top-level directories, or a .diff of a
# top-level base file (MAINTAINERS.diff). The harness itself, the
# top-level Makefile and README.md are not part of the series.
series_path() {
	case "$1" in
	harness/* | .ci/* | build/* | .git/* | .gitignore | Makefile | README.md) return 1 ;;
	*/*)
		case " $KERNEL_DIRS " in
		*" ${1%%/*} "*) return 0 ;;
		*) return 1 ;;
		esac
		;;
	*.diff) return 0 ;;
	*) return 1 ;;
	esac
}

# Repository files (tracked, or untracked and not ignored) that belong
# to the series, one per line.
series_files() {
	local f
	git -C "$REPO" ls-files --cached --others --exclude-standard |
		sort -u | while IFS= read -r f; do
		[ -e "$REPO/$f" ] || continue
		series_path "$f" && printf '%s\n' "$f"
	done
	return 0
}

# The kernel output folder for this variant.
kernel_out() {
	if [ "${DEBUG:-0}" = 1 ]; then
		echo "$BUILD/kernel-debug"
	else
		echo "$BUILD/kernel"
	fi
}

# Configure build/kernel-nobpf as the kernel in $1 with CONFIG_FUSE_BPF=n
# (again only when $1's config changed); prints the folder.
nobpf_config() {
	local src=$1 nobpf=$BUILD/kernel-nobpf
	mkdir -p "$nobpf"
	if ! cmp -s "$src/.config" "$nobpf/.config.src" 2>/dev/null; then
		cp "$src/.config" "$nobpf/.config"
		cp "$src/.config" "$nobpf/.config.src"
		sed -i 's/^CONFIG_FUSE_BPF=y/# CONFIG_FUSE_BPF is not set/' "$nobpf/.config"
		make -s -C "$TREE" O="$nobpf" olddefconfig >/dev/null
	fi
	grep -q '^# CONFIG_FUSE_BPF is not set' "$nobpf/.config" ||
		die "could not turn CONFIG_FUSE_BPF off in $nobpf"
	echo "$nobpf"
}
