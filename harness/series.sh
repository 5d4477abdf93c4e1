#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the mailing-list series from the repository:
#   harness/series/cover.txt     cover letter: subject line, blank, body
#   harness/series/NN-*.txt      one per patch, in order: subject line,
#                                blank, commit message, then a section
#                                "Files:" and/or a section "Parts:"
#
# Files: one path or glob per line (a glob's * also matches /). The
#   patch takes each file it names whole: a .diff is applied whole, an
#   added file copied whole; or, for a file of which other patches take
#   parts, everything of it that no patch takes with Parts:.
#
# Parts: lines "hunks PATH REGEX" or "lines PATH REGEX" (PATH may be a
#   glob; REGEX, a Python regular expression, is the rest of the line,
#   searched in each line's text, without the diff's +/-/space marker):
#     hunks  (a .diff only) the hunks that change a line matching REGEX;
#     lines  the smallest part holding each line that matches REGEX:
#            in a .c or .h file, a C statement or declaration: a
#            function, a struct, a member, a declaration, an if block,
#            a case label, a preprocessor line (with its \ lines), each
#            with the comment right above it (no blank line between);
#            a statement with a body holds the statements in it, so
#            "lines" can take a statement out of a function;
#            in other files, a line with its \ continuation lines.
#            In a .diff only changed lines count: the added lines of a
#            hunk that only adds are cut into statements as above; a
#            run of changed lines that removes a line is one part.
#   The smallest part holding a line wins: a patch may take a statement
#   out of a hunk or a function that an earlier patch (or Files:) takes,
#   never one a later patch takes. Blank lines follow what they separate.
#   Lines starting with # in Files: and Parts: are comments.
#
# Every series file of the repository, and every part of a file split
# with Parts:, must belong to exactly one patch; a Files: or Parts: line
# that matches nothing is an error, so selections cannot go stale
# silently. The tree after the last patch must be byte-identical to the
# base plus every series file (checked). build/series/parts.txt lists
# what each patch takes of each split file.
# Output: build/series/patches/*.patch, then checked with git am on a
# fresh clone of the base.
. "$(dirname "$0")/lib.sh"

sdir=$REPO/harness/series
out=$BUILD/series
ident=$(cat "$sdir/identity")
name=${ident% <*}
email=${ident##*<}
email=${email%>}

mapfile -t files < <(series_files)
[ ${#files[@]} -gt 0 ] || die "the repository holds no series files"

rm -rf "$out"
mkdir -p "$out"
git clone -q --shared --no-checkout "$TREE" "$out/tree"
g() { git -C "$out/tree" -c user.name="$name" -c user.email="$email" "$@"; }
g checkout -q -b series base

# Which patch takes what: build/series/plan/NN.ops (apply PATH | copy
# PATH | write PATH), NN.msg, and the content of the split files.
printf '%s\n' "${files[@]}" >"$out/files"
python3 - "$REPO" "$sdir" "$out" <<'PY' || die "cannot split the series (see above)"
import fnmatch
import os
import re
import subprocess
import sys

repo, sdir, out = sys.argv[1:4]


def die(msg):
    sys.stderr.write('error: %s\n' % msg)
    sys.exit(1)


# Byte for byte: no newline translation, any byte sequence.
ENC = {'encoding': 'utf-8', 'errors': 'surrogateescape', 'newline': ''}


def read(path):
    with open(path, **ENC) as f:
        return f.read()


def write(path, text):
    with open(path, 'w', **ENC) as f:
        f.write(text)


def lines(text):
    return re.findall(r'[^\n]*\n|[^\n]+$', text)


files = [f for f in read(os.path.join(out, 'files')).split('\n') if f]


# --- the patches -----------------------------------------------------------

patches = []
for name in sorted(os.listdir(sdir)):
    if not re.match(r'^[0-9][0-9]-.*\.txt$', name):
        continue
    msg, pats, parts, section = [], [], [], None
    for ln in read(os.path.join(sdir, name)).split('\n'):
        if ln in ('Files:', 'Parts:'):
            section = ln
        elif section is None:
            msg.append(ln)
        elif not ln.strip() or ln.startswith('#'):
            continue
        elif section == 'Files:':
            pats.append(ln)
        else:
            m = re.match(r'^(hunks|lines)\s+(\S+)\s+(.+)$', ln)
            if not m:
                die('%s: not "hunks|lines PATH REGEX": %s' % (name, ln))
            try:
                rx = re.compile(m.group(3))
            except re.error as e:
                die('%s: bad regex in "%s": %s' % (name, ln, e))
            parts.append((m.group(1), m.group(2), rx, ln))
    if section is None:
        die('%s has no Files: or Parts: section' % name)
    patches.append({'name': name, 'msg': '\n'.join(msg), 'files': pats,
                    'parts': parts})
if not patches:
    die('no harness/series/NN-*.txt')
NAMES = [p['name'] for p in patches]
if len(set(n[:2] for n in NAMES)) != len(NAMES):
    die('two harness/series/NN-*.txt have the same number')

# The patch taking a file whole, or what no Parts: line takes of it.
rest = {}
for i, p in enumerate(patches):
    for pat in p['files']:
        hit = [f for f in files if fnmatch.fnmatchcase(f, pat)]
        if not hit:
            die('%s: Files: %s matches no series file' % (p['name'], pat))
        for f in hit:
            if rest.get(f, i) != i:
                die('%s is in two patches: %s and %s' %
                    (f, NAMES[rest[f]], p['name']))
            rest[f] = i

split = {}
for i, p in enumerate(patches):
    for mode, pat, rx, ln in p['parts']:
        hit = [f for f in files if fnmatch.fnmatchcase(f, pat)]
        if not hit:
            die('%s: Parts: "%s": no series file %s' % (p['name'], ln, pat))
        for f in hit:
            split.setdefault(f, []).append((i, mode, rx, ln))

missing = [f for f in files if f not in rest and f not in split]
for f in missing:
    sys.stderr.write('not in any patch of harness/series: %s\n' % f)
if missing:
    die('every series file must belong to a patch')


# --- C statements ----------------------------------------------------------

def scan(texts):
    """Per line: brace depth at start and end, paren depth at end, the
    code without comments and string contents, and what kind it is."""
    info, depth, paren, in_comment, pp_cont = [], 0, 0, False, False
    for t in texts:
        s = t.rstrip('\n')
        d0 = depth
        pp = pp_cont or (not in_comment and s.lstrip().startswith('#'))
        code, i, n = [], 0, len(s)
        while i < n:
            if in_comment:
                if s.startswith('*/', i):
                    in_comment = False
                    i += 1
            elif s.startswith('/*', i):
                in_comment = True
                i += 1
            elif s.startswith('//', i):
                break
            elif s[i] in '"\'':
                q, i = s[i], i + 1
                while i < n and s[i] != q:
                    i += 2 if s[i] == '\\' else 1
                code.append(q + q)
            else:
                code.append(s[i])
                if not pp:
                    depth += {'{': 1, '}': -1}.get(s[i], 0)
                    paren += {'(': 1, '[': 1, ')': -1, ']': -1}.get(s[i], 0)
            i += 1
        code = ''.join(code).strip()
        pp_cont = pp and s.endswith('\\')
        info.append({'d0': d0, 'd1': depth, 'p1': paren, 'code': code,
                     'blank': not s.strip(), 'pp': pp, 'cont': pp_cont,
                     'comment': bool(s.strip()) and not code})
    return info


LABEL = re.compile(r'^(case\b.*|default|[A-Za-z_]\w*)\s*:$')


def statements(info, lo, hi, d):
    """The statements of lines lo..hi-1 at brace depth d, as (first, last,
    children); a comment right above a statement is part of it."""
    res, i = [], lo
    while i < hi:
        if info[i]['blank'] or info[i]['code'].startswith('}'):
            i += 1          # blank, or the end of the enclosing block
            continue
        first = i
        if info[i]['comment']:
            j = i
            while j + 1 < hi and info[j + 1]['comment']:
                j += 1
            if (j + 1 >= hi or info[j + 1]['blank'] or
                    info[j + 1]['code'].startswith('}')):
                res.append((first, j, []))
                i = j + 1
                continue
            i = j + 1
        if info[i]['pp']:
            j = i
            while info[j]['cont'] and j + 1 < hi:
                j += 1
            res.append((first, j, []))
            i = j + 1
            continue
        j = i
        while j + 1 < hi:
            x = info[j]
            if x['d1'] < d:
                break
            if x['d1'] == d and x['p1'] <= 0 and (
                    x['code'].endswith((';', ',', '}')) or
                    LABEL.match(x['code']) or info[j + 1]['blank']):
                break
            j += 1
        kids, k = [], i
        while k <= j:
            if info[k]['d0'] > d:
                k0 = k
                while k <= j and info[k]['d0'] > d:
                    k += 1
                kids += statements(info, k0, k, d + 1)
            else:
                k += 1
        res.append((first, j, kids))
        i = j + 1
    return res


def line_units(texts):
    """Non-C files: each line with its \\ continuation lines."""
    res, i = [], 0
    while i < len(texts):
        if not texts[i].strip():
            i += 1
            continue
        j = i
        while texts[j].rstrip('\n').endswith('\\') and j + 1 < len(texts):
            j += 1
        res.append((i, j, []))
        i = j + 1
    return res


# --- files as lines with owners --------------------------------------------

class Unit:
    def __init__(self, kind, first, last, parent):
        self.kind, self.first, self.last = kind, first, last
        self.parent, self.owner, self.by = parent, None, None


class File:
    """A series file as a list of entries [kind, text, unit, free], kind
    ' ' for a base line, '-' removed, '+' added; units are the parts
    Parts: can select. Owners: the patch index, per entry."""

    def __init__(self, path):
        self.path = path
        self.is_diff = path.endswith('.diff')
        self.tpath = path[:-5] if self.is_diff else path
        self.is_c = self.tpath.endswith(('.c', '.h'))
        self.units = []
        self.entries = []
        self.hunks = []
        if self.is_diff:
            self.read_diff()
        else:
            texts = lines(read(os.path.join(repo, path)))
            self.entries = [['+', t, None, False] for t in texts]
            self.add_units(0, len(texts), None)

    def add_units(self, lo, hi, parent):
        texts = [e[1] for e in self.entries[lo:hi]]
        if self.is_c:
            tree = statements(scan(texts), 0, len(texts), 0)
        else:
            tree = line_units(texts)

        def walk(nodes, par):
            for first, last, kids in nodes:
                u = Unit('part', lo + first, lo + last, par)
                self.units.append(u)
                for k in range(u.first, u.last + 1):
                    self.entries[k][2] = u
                walk(kids, u)
        walk(tree, parent)
        for k in range(lo, hi):
            e = self.entries[k]
            if not e[1].strip():
                e[2], e[3] = parent, True   # blank: goes with its neighbours

    def read_diff(self):
        text = lines(read(os.path.join(repo, self.path)))
        try:
            base = lines(subprocess.run(
                ['git', '-C', os.path.join(out, 'tree'), 'show',
                 'base:' + self.tpath], check=True, capture_output=True
            ).stdout.decode('utf-8', 'surrogateescape'))
        except subprocess.CalledProcessError:
            die('%s: no %s in the base to split' % (self.path, self.tpath))
        pos, i = 0, 0
        while i < len(text) and not text[i].startswith('@@'):
            if re.match(r'^(new|deleted) file|^rename|^Binary|^GIT binary',
                        text[i]):
                die('%s: only plain text diffs can be split' % self.path)
            i += 1
        while i < len(text):
            m = re.match(r'^@@ -(\d+)(?:,(\d+))? \+\d+(?:,\d+)? @@', text[i])
            if not m:
                die('%s: cannot read line %d' % (self.path, i + 1))
            start = int(m.group(1)) - (0 if m.group(2) == '0' else 1)
            while pos < start:
                self.entries.append([' ', base[pos], None, False])
                pos += 1
            hunk = Unit('hunk', len(self.entries), None, None)
            i += 1
            while i < len(text) and not text[i].startswith('@@'):
                t = text[i]
                if t.startswith('\\'):     # no newline at end of file
                    e = self.entries[-1]
                    e[1] = e[1].rstrip('\n')
                elif t[0] in ' -':
                    if (pos >= len(base) or
                            base[pos].rstrip('\n') != t[1:].rstrip('\n')):
                        die('%s does not apply to the base at %s:%d' %
                            (self.path, self.tpath, pos + 1))
                    self.entries.append([t[0], base[pos], hunk, False])
                    pos += 1
                elif t[0] == '+':
                    self.entries.append(['+', t[1:], hunk, False])
                else:
                    die('%s: cannot read line %d' % (self.path, i + 1))
                i += 1
            hunk.last = len(self.entries) - 1
            self.units.append(hunk)
            self.hunks.append(hunk)
            # Runs of changed lines: one part when it removes a line, else
            # the statements (lines) it adds.
            k = hunk.first
            while k <= hunk.last:
                if self.entries[k][0] == ' ':
                    self.entries[k][2] = None
                    k += 1
                    continue
                k0 = k
                while k <= hunk.last and self.entries[k][0] != ' ':
                    k += 1
                if any(e[0] == '-' for e in self.entries[k0:k]):
                    u = Unit('part', k0, k - 1, hunk)
                    self.units.append(u)
                    for e in self.entries[k0:k]:
                        e[2] = u
                else:
                    self.add_units(k0, k, hunk)
        while pos < len(base):
            self.entries.append([' ', base[pos], None, False])
            pos += 1

    def select(self, idx, mode, rx, ln):
        if mode == 'hunks' and not self.is_diff:
            die('%s: "%s": hunks of a file that is not a .diff' %
                (NAMES[idx], ln))
        hit = set()
        for e in self.entries:
            if e[0] == ' ' or e[3] or not rx.search(e[1].rstrip('\n')):
                continue
            u = e[2]
            if u is None:
                die('%s: "%s" matches a line that is in no part of %s: %s' %
                    (NAMES[idx], ln, self.path, e[1].strip()))
            if mode == 'hunks':
                while u.kind != 'hunk':
                    u = u.parent
            hit.add(u)
        if not hit:
            die('%s: "%s" matches nothing in %s' % (NAMES[idx], ln, self.path))
        for u in hit:
            if u.owner is not None and u.owner != idx:
                die('%s: a part is in two patches, %s ("%s") and %s ("%s"):'
                    '\n  %s' % (self.path, NAMES[u.owner], u.by, NAMES[idx],
                                ln, self.label(u)))
            u.owner, u.by = idx, ln

    def label(self, u):
        line = 1 + sum(1 for e in self.entries[:u.first] if e[0] != '-')
        for e in self.entries[u.first:u.last + 1]:
            t = e[1].strip()
            if e[0] != ' ' and t and not t.startswith(('/*', '*')):
                return '%s:%d: %s' % (self.tpath, line, t[:70])
        return '%s:%d' % (self.tpath, line)

    def effective(self, u):
        while u is not None:
            if u.owner is not None:
                return u.owner
            u = u.parent
        return rest.get(self.path)

    def assign(self):
        for u in self.units:
            if u.owner is None or u.parent is None:
                continue
            a = u.parent
            while a is not None and a.owner is None:
                a = a.parent
            outer = a.owner if a is not None else rest.get(self.path)
            if outer is not None and outer > u.owner:
                die('%s: %s takes a part of what the later patch %s takes:'
                    '\n  %s' % (self.path, NAMES[u.owner], NAMES[outer],
                                self.label(u)))
        self.owner = []
        for e in self.entries:
            if e[0] == ' ':
                self.owner.append(-1)
            elif e[3]:
                self.owner.append(None)
            else:
                o = self.effective(e[2])
                if o is None:
                    die('%s: a part of it is in no patch:\n  %s' %
                        (self.path, self.label(e[2])))
                self.owner.append(o)
        self.place_blanks()

    def present(self, k, n):
        kind, o = self.entries[n][0], self.owner[n]
        if kind == ' ':
            return True
        if o is None:
            return False
        return o > k if kind == '-' else o <= k

    def place_blanks(self):
        """An added blank line comes with the first patch that has
        something on both sides of it: one blank line between two things,
        never two, and none after the start or before the end of a block
        ({ or #if, } or #endif) where the full file has none."""
        ents = self.entries

        def tight_after(n):
            t = ents[n][1].strip()
            return ((t.endswith('{') or t.startswith(('#if', '#el'))) and
                    n + 1 < len(ents) and ents[n + 1][1].strip() != '')

        def tight_before(n):
            t = ents[n][1].strip()
            return (t.startswith(('}', '#endif', '#el')) and
                    n > 0 and ents[n - 1][1].strip() != '')

        for k in sorted(set(o for o in self.owner if o is not None and o >= 0)):
            last, cands, blank = None, [], False
            for n, e in enumerate(ents):
                if e[3] and self.owner[n] is None:
                    cands.append(n)
                    continue
                if not self.present(k, n):
                    continue
                if not e[1].strip():
                    blank = True
                    continue
                if (last is not None and cands and not blank and
                        not tight_after(last) and not tight_before(n)):
                    self.owner[cands[0]] = k
                last, cands, blank = n, [], False
        # Blank lines never needed between two things: with the later one.
        for n, e in enumerate(self.entries):
            if not (e[3] and self.owner[n] is None):
                continue
            o = -1
            for r in (range(n - 1, -1, -1), range(n + 1, len(self.entries))):
                for m in r:
                    if self.entries[m][1].strip():
                        if self.owner[m] is not None:
                            o = max(o, self.owner[m])
                        break
            if o < 0 and e[2] is not None:
                o = self.effective(e[2])
            if o is None or o < 0:
                o = min(x for x in self.owner if x is not None and x >= 0)
            self.owner[n] = o

    def content(self, k):
        return ''.join(e[1] for n, e in enumerate(self.entries)
                       if self.present(k, n))


# --- the plan --------------------------------------------------------------

ops = [[] for _ in patches]
report = [[] for _ in patches]
for f in files:
    if f not in split:
        ops[rest[f]].append('%s %s' % ('apply' if f.endswith('.diff')
                                       else 'copy', f))
        report[rest[f]].append('  %s: whole' % f)
        continue
    sf = File(f)
    for idx, mode, rx, ln in split[f]:
        sf.select(idx, mode, rx, ln)
    sf.assign()
    for k in sorted(set(o for o in sf.owner if o >= 0)):
        text = sf.content(k)
        dst = os.path.join(out, 'plan', NAMES[k][:2], sf.tpath)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        write(dst, text)
        if not sf.is_diff:
            os.chmod(dst, os.stat(os.path.join(repo, f)).st_mode & 0o777)
        ops[k].append('write %s' % sf.tpath)
        add = sum(1 for n, e in enumerate(sf.entries)
                  if sf.owner[n] == k and e[0] == '+')
        rem = sum(1 for n, e in enumerate(sf.entries)
                  if sf.owner[n] == k and e[0] == '-')
        report[k].append('  %s: +%d -%d' % (f, add, rem))
        for u in sf.units:
            if sf.effective(u) == k and (u.parent is None or
                                         sf.effective(u.parent) != k):
                report[k].append('    %s' % sf.label(u).split(': ', 1)[-1])

os.makedirs(os.path.join(out, 'plan'), exist_ok=True)
with open(os.path.join(out, 'parts.txt'), 'w', **ENC) as r:
    for k, p in enumerate(patches):
        if not ops[k]:
            die('%s takes nothing' % p['name'])
        write(os.path.join(out, 'plan', p['name'][:2] + '.ops'),
              '\n'.join(ops[k]) + '\n')
        write(os.path.join(out, 'plan', p['name'][:2] + '.msg'),
              p['msg'].rstrip('\n') + '\n')
        r.write('%s\n' % p['name'])
        for ln in report[k]:
            r.write(ln + '\n')
PY

for ops in "$out"/plan/[0-9][0-9].ops; do
	n=$(basename "$ops" .ops)
	while read -r op f; do
		case $op in
		apply)
			g apply --whitespace=nowarn "$REPO/$f" ||
				die "$f does not apply to the base"
			;;
		copy)
			mkdir -p "$(dirname "$out/tree/$f")"
			cp "$REPO/$f" "$out/tree/$f"
			;;
		write)
			mkdir -p "$(dirname "$out/tree/$f")"
			if [ -e "$out/tree/$f" ]; then
				cat "$out/plan/$n/$f" >"$out/tree/$f"
			else
				cp -p "$out/plan/$n/$f" "$out/tree/$f"
			fi
			;;
		esac
	done <"$ops"
	g add -A
	cp "$out/plan/$n.msg" "$out/msg"
	printf '\nSigned-off-by: %s\n' "$ident" >>"$out/msg"
	g commit -q --cleanup=strip -F "$out/msg"
done

# After the last patch the tree must be the base plus every series file,
# byte for byte, however the files were split.
g checkout -q -b whole base
for f in "${files[@]}"; do
	if [[ $f == *.diff ]]; then
		g apply --whitespace=nowarn "$REPO/$f" || die "$f does not apply to the base"
	else
		mkdir -p "$(dirname "$out/tree/$f")"
		cp "$REPO/$f" "$out/tree/$f"
	fi
done
g add -A
g commit -q -m "base plus every series file"
g checkout -q series
if ! g diff --quiet series whole; then
	g diff --stat series whole >&2
	die "the tree after the last patch is not the base plus the series files"
fi

g format-patch -q --cover-letter --thread -o "$out/patches" \
	--subject-prefix="RFC PATCH" base..series
cover=$(ls "$out/patches"/0000-*.patch)
subject=$(head -n 1 "$sdir/cover.txt")
python3 - "$cover" "$subject" "$sdir/cover.txt" <<'PY'
import sys
path, subject, body = sys.argv[1], sys.argv[2], sys.argv[3]
text = open(path).read()
blurb = open(body).read().split('\n', 2)[2] if '\n' in open(body).read() else ''
text = text.replace('*** SUBJECT HERE ***', subject)
text = text.replace('*** BLURB HERE ***', blurb.rstrip('\n'))
open(path, 'w').write(text)
PY

# The series must apply with git am to a clean base.
git clone -q --shared --no-checkout "$TREE" "$out/am-check"
git -C "$out/am-check" checkout -q -b am base
if ! git -C "$out/am-check" -c user.name="$name" -c user.email="$email" \
	am -q $(ls "$out/patches"/0*-*.patch | grep -v /0000-cover-letter); then
	die "the series does not apply with git am onto the base (see $out/am-check)"
fi
note "series: $(ls "$out/patches" | wc -l) files in $out/patches (with the cover letter); git am onto the base: clean"
rm -rf "$out/am-check"
