#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The work tree: build/linux holds the base (a git repository whose
# commit tagged "base" is the pristine Debian source) plus the series.
#
#   tree.sh create   extract the base once, then sync
#   tree.sh sync     bring repository and work tree together (below)
#   tree.sh status   exit 1 and list what the work tree holds that the
#                    repository does not (and the reverse)
#
# Files the series adds live in the repository and are symlinked into
# the tree, so an edit in either place edits the same file. Files the
# series changes are kept in the repository as one "<path>.diff" each
# against the base. For those, build/state remembers the diff at the
# last sync, which tells which side changed since:
#   only the tree changed       -> the diff is re-exported into the repo
#   only the repository changed -> the diff is applied to the tree
#   both changed, differently   -> conflict: nothing is touched, exit 1
. "$(dirname "$0")/lib.sh"

LINKS=$STATE/links
DIFFS=$STATE/diffs

git_tree() {
	git -C "$TREE" -c core.quotepath=off "$@"
}

create() {
	if [ -d "$TREE/.git" ] && git_tree rev-parse -q --verify base >/dev/null; then
		return 0
	fi
	[ -f "$BASE_TARBALL" ] ||
		die "$BASE_TARBALL not found: install $BASE_PKG (make deps)"
	local ver tmp
	ver=$(dpkg-query -W -f='${Version}' "$BASE_PKG" 2>/dev/null || echo unknown)
	note "extracting $BASE_TARBALL ($BASE_PKG $ver) into $TREE"
	rm -rf "$BUILD/linux.tmp"
	tmp=$BUILD/linux.tmp
	mkdir -p "$tmp"
	if ! tar -C "$tmp" -xJf "$BASE_TARBALL"; then
		rm -rf "$tmp"
		die "cannot extract $BASE_TARBALL: the tarball is corrupt; reinstall it with 'apt-get install --reinstall $BASE_PKG'"
	fi
	[ -f "$tmp/linux-source-6.12/Makefile" ] || {
		rm -rf "$tmp"
		die "$BASE_TARBALL does not hold linux-source-6.12/Makefile"
	}
	note "recording the base as a git commit"
	(
		cd "$tmp/linux-source-6.12"
		# Debian's tarball ignores everything at the top level in
		# .gitignore; drop that block so the base is upstream's.
		sed -i '/^# Debian packaging/,/^!\/debian\/$/d' .gitignore
		sed -i '${/^#$/d}' .gitignore
		git init -q -b fbt
		git config gc.auto 0
		git config user.name "fuse-bpf harness"
		git config user.email "harness@localhost"
		git add -A .
		git commit -q -m "Linux $BASE_PKG $ver (Debian)"
		git tag base
	) || {
		rm -rf "$tmp"
		die "cannot record the base tree in git"
	}
	echo "$ver" >"$tmp/linux-source-6.12/.git/fbt-base-version"
	rm -rf "$TREE" "$STATE"
	mv "$tmp/linux-source-6.12" "$TREE"
	rmdir "$tmp"
}

# The diff of one upstream file in the tree against the base.
tree_diff() {
	git_tree diff --no-color --no-ext-diff --abbrev=12 base -- "$1"
}

# Print the content of a file, or nothing when it does not exist.
cat_or_empty() {
	if [ -f "$1" ]; then cat "$1"; fi
}

# Every upstream path that has a diff somewhere: in the repository, in
# the tree, or at the last sync.
changed_paths() {
	{
		series_files | sed -n 's/\.diff$//p'
		git_tree diff --name-only base
		if [ -d "$DIFFS" ]; then
			(cd "$DIFFS" && find . -type f -name '*.diff' | sed 's|^\./||; s/\.diff$//')
		fi
	} | sort -u
}

# Files in the tree that git does not know and that are not our links.
# git in the tree cannot read the series' own .gitignore files (they are
# symlinks), so what the repository ignores is filtered out here.
tree_new_files() {
	local f
	git_tree ls-files --others --exclude-standard 2>/dev/null | while IFS= read -r f; do
		[ -L "$TREE/$f" ] && case "$(readlink -f "$TREE/$f")" in
			"$REPO"/*) continue ;;
			esac
		git -C "$REPO" check-ignore -q --no-index -- "$f" && continue
		printf '%s\n' "$f"
	done
	return 0
}

# Compare repository, tree and last-sync state. With $1 = apply, bring
# them together; otherwise only report. Reports go to stdout; returns 1
# if anything is out of sync (report mode) or in conflict (apply mode).
reconcile() {
	local mode=$1 rc=0 p r t s f target
	mkdir -p "$DIFFS"
	touch "$LINKS"

	while IFS= read -r p; do
		[ -n "$p" ] || continue
		r=$(cat_or_empty "$REPO/$p.diff")
		t=$(tree_diff "$p")
		s=$(cat_or_empty "$DIFFS/$p.diff")
		if [ "$r" = "$t" ]; then
			[ "$mode" = apply ] && save_state "$p" "$r"
			continue
		fi
		if [ "$mode" != apply ]; then
			if [ "$t" = "$s" ]; then
				echo "repository changed, tree not updated: $p"
			elif [ "$r" = "$s" ]; then
				echo "tree changed, not exported: $p"
			else
				echo "conflict (both changed): $p"
			fi
			rc=1
			continue
		fi
		if [ "$t" = "$s" ]; then
			apply_to_tree "$p" || rc=1
		elif [ "$r" = "$s" ]; then
			export_to_repo "$p" "$t"
		else
			echo "conflict: $p changed both in the tree and in $p.diff; resolve by hand, then remove $DIFFS/$p.diff"
			rc=1
		fi
	done < <(changed_paths)

	# Added files: symlinks from the tree into the repository.
	while IFS= read -r f; do
		case "$f" in *.diff) continue ;; esac
		target=$TREE/$f
		if [ -L "$target" ] && [ "$(readlink -f "$target")" = "$REPO/$f" ]; then
			continue
		fi
		if [ -e "$target" ] || [ -L "$target" ]; then
			if [ -f "$target" ] && cmp -s "$target" "$REPO/$f"; then
				[ "$mode" = apply ] && link_file "$f"
				continue
			fi
			echo "conflict: $f exists in the tree and differs from the repository"
			rc=1
			continue
		fi
		if [ "$mode" = apply ]; then
			link_file "$f"
		else
			echo "repository file not linked into the tree: $f"
			rc=1
		fi
	done < <(series_files)

	# Links whose repository file is gone.
	while IFS= read -r f; do
		[ -n "$f" ] || continue
		if [ -L "$TREE/$f" ] && [ ! -e "$TREE/$f" ]; then
			if [ "$mode" = apply ]; then
				rm -f "$TREE/$f"
			else
				echo "repository file removed, link left in the tree: $f"
				rc=1
			fi
		fi
	done <"$LINKS"

	# New files made in the tree: adopted into the repository.
	while IFS= read -r f; do
		if [ "$mode" = apply ]; then
			mkdir -p "$(dirname "$REPO/$f")"
			mv "$TREE/$f" "$REPO/$f"
			link_file "$f"
			echo "adopted new file into the repository: $f"
		else
			echo "new file in the tree, not in the repository: $f"
			rc=1
		fi
	done < <(tree_new_files)

	if [ "$mode" = apply ]; then
		sort -u -o "$LINKS" "$LINKS"
	fi
	return $rc
}

save_state() {
	mkdir -p "$(dirname "$DIFFS/$1.diff")"
	if [ -n "$2" ]; then
		printf '%s\n' "$2" >"$DIFFS/$1.diff"
	else
		rm -f "$DIFFS/$1.diff"
	fi
}

link_file() {
	mkdir -p "$(dirname "$TREE/$1")"
	rm -f "$TREE/$1"
	ln -sr "$REPO/$1" "$TREE/$1"
	echo "$1" >>"$LINKS"
}

apply_to_tree() {
	local p=$1 keep
	keep=$(mktemp)
	cp -p "$TREE/$p" "$keep" 2>/dev/null || : >"$keep"
	git_tree checkout -q base -- "$p" 2>/dev/null || rm -f "$TREE/$p"
	if [ -f "$REPO/$p.diff" ] && ! git_tree apply --whitespace=nowarn "$REPO/$p.diff" 2>&1; then
		cp -p "$keep" "$TREE/$p"
		rm -f "$keep"
		echo "error: $p.diff no longer applies to the base ($(cat "$TREE/.git/fbt-base-version")); tree left as it was"
		return 1
	fi
	rm -f "$keep"
	echo "applied to the tree: $p.diff"
	save_state "$p" "$(tree_diff "$p")"
}

export_to_repo() {
	local p=$1 t=$2
	if [ -n "$t" ]; then
		mkdir -p "$(dirname "$REPO/$p.diff")"
		printf '%s\n' "$t" >"$REPO/$p.diff"
		echo "exported from the tree: $p.diff"
	else
		rm -f "$REPO/$p.diff"
		echo "tree file back to base, removed: $p.diff"
	fi
	save_state "$p" "$t"
}

case "${1:-}" in
create)
	build_lock tree
	create
	reconcile apply
	;;
sync)
	[ -d "$TREE/.git" ] || die "no work tree at $TREE: run 'make tree'"
	build_lock tree
	reconcile apply || die "the work tree and the repository are in conflict (see above)"
	;;
status)
	[ -d "$TREE/.git" ] || {
		echo "no work tree at $TREE (make tree creates it)"
		exit 0
	}
	if reconcile report; then
		echo "work tree and repository agree"
	else
		echo "run 'make sync' to bring them together"
		exit 1
	fi
	;;
*)
	die "usage: tree.sh create|sync|status"
	;;
esac
