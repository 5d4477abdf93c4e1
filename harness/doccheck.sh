#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Check Documentation/filesystems/fuse-bpf.rst; fail on any warning:
#   1. docutils, with the kernel's Sphinx-only directives and roles
#      stubbed, plus a lint for simple-table rows that were meant as
#      continuation lines (a first cell ending in a comma), and that
#      Documentation/filesystems/index.rst.diff puts it in the toctree;
#   2. scripts/kernel-doc -none over the headers it pulls in with
#      ".. kernel-doc::" (htmldocs prints every warning of such a
#      header once per directive), and that each identifier those
#      directives list is found;
#   3. the kernel's own Sphinx configuration (Documentation/conf.py with
#      its extensions, kernel-doc included) on just that file, next to
#      a stub index, into build/doccheck/html.
# The rst is the repository's; headers and scripts come from build/linux.
. "$(dirname "$0")/lib.sh"

RST=Documentation/filesystems/fuse-bpf.rst
INDEX_DIFF=Documentation/filesystems/index.rst.diff
OUT=$BUILD/doccheck
HEADERS="include/uapi/linux/fuse.h include/linux/fuse_bpf.h"

[ -f "$REPO/$RST" ] || die "no $RST"
[ -x "$TREE/scripts/kernel-doc" ] || die "no $TREE/scripts/kernel-doc: run 'make tree'"
command -v sphinx-build >/dev/null || die "no sphinx-build: run 'make deps'"
python3 -c 'import docutils' 2>/dev/null || die "no python3 docutils: run 'make deps'"

sv=$(sphinx-build --version | awk '{print $NF}')
rm -rf "$OUT"
mkdir -p "$OUT/src/filesystems"
start=$(date +%s)
fails=0

# 1. docutils.
if ! (cd "$REPO" && python3 - "$RST") >"$OUT/docutils.log" 2>&1 <<'EOF'; then
import sys
from docutils import nodes
from docutils.core import publish_doctree
from docutils.parsers.rst import Directive, directives, roles

class Stub(Directive):
    """A Sphinx or kernel directive: accepted, not rendered."""
    required_arguments = 0
    optional_arguments = 1
    final_argument_whitespace = True
    option_spec = None  # any option
    has_content = True
    def run(self):
        return []

class AnyOptions(dict):
    def __missing__(self, key):
        return directives.unchanged

Stub.option_spec = AnyOptions()
for d in ('kernel-doc', 'kernel-include', 'kernel-figure', 'kernel-image',
          'kernel-render', 'kernel-abi', 'kernel-feat', 'flat-table',
          'maintainers-include', 'toctree', 'code-block', 'highlight',
          'only', 'ifconfig', 'c:function', 'c:macro', 'c:struct',
          'c:union', 'c:enum', 'c:enumerator', 'c:type', 'c:member',
          'c:var', 'c:namespace', 'c:namespace-push', 'c:namespace-pop'):
    directives.register_directive(d, Stub)

def literal_role(name, rawtext, text, lineno, inliner, options={}, content=[]):
    return [nodes.literal(rawtext, text)], []

for r in ('c:func', 'c:type', 'c:macro', 'c:struct', 'c:union', 'c:enum',
          'c:enumerator', 'c:member', 'c:data', 'c:var', 'c:expr',
          'c:texpr', 'c:id', 'ref', 'doc', 'numref', 'any', 'manpage',
          'envvar', 'term', 'file', 'samp', 'kbd', 'command', 'program',
          'option', 'menuselection', 'abbr', 'download'):
    roles.register_local_role(r, literal_role)

path = sys.argv[1]
with open(path, encoding='utf-8') as f:
    src = f.read()
doc = publish_doctree(src, source_path=path, settings_overrides={
    'report_level': 2, 'halt_level': 5, 'warning_stream': sys.stdout})
bad = doc.reporter.max_level >= 2

# A simple table continues a row only on a line whose first column is
# blank: a first cell ending in a comma is a row split by mistake.
for table in doc.findall(nodes.table):
    for row in table.findall(nodes.row):
        first = row.children[0].astext().strip() if row.children else ''
        if first.endswith(','):
            line = next((n.line for n in row.findall() if n.line), None) \
                or table.line or 0
            print('%s:%s: (WARNING/2) table row "%s" ends with a comma: '
                  'a simple table continues a row only when its first '
                  'column is blank' % (path, line, first))
            bad = True
sys.exit(1 if bad else 0)
EOF
	fails=$((fails + 1))
fi
grep -q . "$OUT/docutils.log" && cat "$OUT/docutils.log" >&2
if ! grep -qx '+   fuse-bpf' "$REPO/$INDEX_DIFF" 2>/dev/null; then
	note "$INDEX_DIFF: WARNING: does not add fuse-bpf to the toctree"
	fails=$((fails + 1))
fi

# kernel-doc warnings come as "file:line: warning: text", maybe followed
# by the source line. Two are the same when all but file:line is.
cat >"$OUT/kdoc.py" <<'EOF'
import re, sys
kdoc = re.compile(r'\S+:\d+: warning: ')
sphinx = re.compile(r'WARNING|ERROR|SEVERE|CRITICAL|Traceback')

def groups(path):
    """[warning, source line...] for each kernel-doc warning, other lines alone."""
    out = []
    for raw in open(path, encoding='utf-8', errors='replace'):
        # kernel-doc ends some warnings without a newline
        for line in re.split(r'(?<=\S)(?=%s)' % kdoc.pattern, raw.rstrip('\n')):
            if out and kdoc.match(out[-1][0]) and line.startswith(' *'):
                out[-1].append(line)
            else:
                out.append([line])
    return out

mode, log = sys.argv[1], sys.argv[2]
for g in groups(log):
    if kdoc.match(g[0]):
        print('\n'.join(g))
    elif mode == 'sphinx' and sphinx.search(g[0]):
        print(g[0])
EOF

# 2. kernel-doc -none over the headers.
refs=$(sed -n 's/^\.\. kernel-doc:: *//p' "$REPO/$RST")
# shellcheck disable=SC2086 # split into paths
hdrs=$(printf '%s\n' $HEADERS $refs | sort -u)
kdoc() { (cd "$1" && perl "$TREE/scripts/kernel-doc" -none "$2" >/dev/null 2>"$3") || true; }
for h in $hdrs; do
	[ -f "$TREE/$h" ] || { note "$h: WARNING: not in $TREE"; fails=$((fails + 1)); continue; }
	kdoc "$TREE" "$h" "$OUT/kdoc.log"
	new=$(python3 "$OUT/kdoc.py" kdoc "$OUT/kdoc.log")
	if [ -n "$new" ]; then
		printf '%s\n' "$new" >&2
		fails=$((fails + 1))
	fi
done
# kernel-doc says nothing of a listed identifier it does not find as
# long as it finds another one: ask for each alone.
while read -r h id; do
	out=$(cd "$TREE" && perl scripts/kernel-doc -rst -sphinx-version "$sv" \
		-function "$id" "$h" 2>/dev/null) || true
	if [ -z "$out" ]; then
		note "$RST: WARNING: kernel-doc finds no $id in $h"
		fails=$((fails + 1))
	fi
done < <(awk '/^\.\. kernel-doc::/ { h = $3; next }
	h && /^   :(identifiers|functions):/ { for (i = 2; i <= NF; i++) print h, $i; next }
	!/^   :/ { h = "" }' "$REPO/$RST")

# 3. The kernel's Sphinx build of just this file, with the warnings of
# its kernel-doc runs (a missing identifier, say).
cp "$REPO/$RST" "$OUT/src/filesystems/"
printf '%s\n' "doccheck" "========" "" ".. toctree::" "" \
	"   filesystems/fuse-bpf" >"$OUT/src/index.rst"
sphinx_rc=0
# srctree: exported by the kernel's Makefile, for the kernel-include path.
env -u SPHINX_CONF PYTHONDONTWRITEBYTECODE=1 srctree="$TREE" \
	sphinx-build -b html -E -q -c "$TREE/Documentation" -d "$OUT/doctrees" \
	-D kerneldoc_srctree="$TREE" -D kerneldoc_bin="$TREE/scripts/kernel-doc" \
	"$OUT/src" "$OUT/html" >"$OUT/sphinx.log" 2>&1 || sphinx_rc=$?
# dot(1) is only for figures, which this file has none of. A :ref: or
# :doc: into the rest of Documentation cannot resolve in a build of one
# file: such a warning counts only when the tree lacks the target too.
resolves() {
	local t
	case "$1" in
	*"undefined label: '"*)
		t=${1#*undefined label: \'}
		t=${t%\'*}
		t=$(printf '%s' "$t" | sed 's/[].[*^$+?(){}|\\]/\\&/g')
		grep -rqiE --include='*.rst' -e "^\.\. _$t:[[:space:]]*\$" "$TREE/Documentation"
		;;
	*"unknown document: '"*)
		t=${1#*unknown document: \'}
		t=${t%\'*}
		case "$t" in
		/*) [ -f "$TREE/Documentation$t.rst" ] ;;
		*) [ -f "$TREE/$(dirname "$RST")/$t.rst" ] ;;
		esac
		;;
	*) return 1 ;;
	esac
}
python3 "$OUT/kdoc.py" sphinx "$OUT/sphinx.log" |
	grep -v 'dot(1) not found' |
	sed "s|$OUT/src/filesystems/fuse-bpf\(\.rst\)\?|$RST|" |
	while IFS= read -r w; do
		resolves "$w" || printf '%s\n' "$w"
	done >"$OUT/sphinx-warnings.log" || true
if [ $sphinx_rc != 0 ] || [ -s "$OUT/sphinx-warnings.log" ]; then
	if [ $sphinx_rc = 0 ]; then
		cat "$OUT/sphinx-warnings.log" >&2
	else
		cat "$OUT/sphinx.log" >&2
	fi
	fails=$((fails + 1))
fi

secs=$(($(date +%s) - start))
dv=$(python3 -c 'import docutils; print(docutils.__version__)')
if [ $fails != 0 ]; then
	die "doccheck: $RST: $fails check(s) warn (docutils $dv, Sphinx $sv, kernel-doc; ${secs}s; logs in $OUT)"
fi
echo "doccheck: $RST clean: docutils $dv, Sphinx $sv with the kernel's conf.py, kernel-doc -none on $(printf '%s\n' "$hdrs" | wc -l) headers (${secs}s)"
