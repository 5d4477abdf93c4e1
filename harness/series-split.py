#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
#
# series-split.py REPO SERIES_DIR OUT TREE: decide what each patch of the
# series takes (the scheme is described at the top of harness/series.sh).
# Writes OUT/plan/NN.ops (one "apply PATH", "copy PATH" or "write PATH" a
# line), OUT/plan/NN.msg, OUT/plan/NN/PATH for every "write", and
# OUT/parts.txt. Reads the list of series files from OUT/files and the
# base version of a changed file from the "base" commit of TREE.
import fnmatch
import os
import re
import subprocess
import sys

repo, sdir, out, tree = sys.argv[1:5]
# Byte for byte: no newline translation, any byte sequence.
ENC = {'encoding': 'utf-8', 'errors': 'surrogateescape', 'newline': ''}


def die(msg):
    sys.stderr.write('error: %s\n' % msg)
    sys.exit(1)


def read(path):
    with open(path, **ENC) as f:
        return f.read()


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w', **ENC) as f:
        f.write(text)


def split_lines(text):
    if not text.endswith('\n'):
        die('a series file must end with a newline')
    return text[:-1].split('\n')


# --- parts -----------------------------------------------------------------

def brace_depth(lines, depth=0):
    """Yield the brace depth before each line, outside comments and
    string and character literals."""
    comment = False
    for line in lines:
        yield depth
        i = 0
        while i < len(line):
            two = line[i:i + 2]
            if comment:
                if two == '*/':
                    comment = False
                    i += 1
            elif two == '/*':
                comment = True
                i += 1
            elif two == '//':
                break
            elif line[i] in '"\'':
                q, i = line[i], i + 1
                while i < len(line) and line[i] != q:
                    i += 2 if line[i] == '\\' else 1
            elif line[i] == '{':
                depth += 1
            elif line[i] == '}':
                depth -= 1
            i += 1


def cut(lines, is_c):
    """Cut added lines into parts: return the index each part starts at.

    C: a part starts at a line beginning with "/*" or "#endif" that
    follows a blank line, outside braces. Other files: at every line
    that does not continue the one before with a backslash. Blank lines
    go with the part after them."""
    starts = [0]
    depths = list(brace_depth(lines)) if is_c else None
    for i in range(1, len(lines)):
        if not lines[i]:
            continue
        if is_c:
            new = (not lines[i - 1] and depths[i] == 0 and
                   lines[i].startswith(('/*', '#endif')))
        else:
            new = not lines[i - 1].endswith('\\')
        if new:
            j = i
            while j > starts[-1] + 1 and not lines[j - 1]:
                j -= 1
            starts.append(j)
    return starts


class Series_file:
    """A series file cut into parts. For an added file, its lines; for
    a .diff, the +/-/context lines of its hunks. A part is a list of
    indexes into self.lines."""

    def __init__(self, path):
        self.path = path
        self.is_diff = path.endswith('.diff')
        self.tpath = path[:-5] if self.is_diff else path
        is_c = self.tpath.endswith(('.c', '.h'))
        text = read(os.path.join(repo, path))
        self.parts = []
        if not self.is_diff:
            self.lines = [('+', t) for t in split_lines(text)]
            self.add_run(range(len(self.lines)), is_c)
            return
        self.lines, self.hunks = [], []
        for t in split_lines(text):
            m = re.match(r'^@@ -(\d+)(?:,(\d+))? \+\d+(?:,\d+)? @@', t)
            if m:
                start, count = int(m.group(1)), int(m.group(2) or 1)
                self.hunks.append((start - 1 if count else start,
                                   len(self.lines)))
            elif not self.hunks:
                continue
            elif t.startswith(('+', '-', ' ')) or t == '':
                self.lines.append((t[:1] or ' ', t[1:]))
            else:
                die('%s: cannot read the diff line "%s"' % (path, t))
        if not self.hunks:
            die('%s: no hunk' % path)
        hunk_starts = set(h[1] for h in self.hunks)
        run = []
        for n, (mark, _) in enumerate(self.lines + [(' ', '')]):
            if run and (mark == ' ' or n in hunk_starts):
                if all(self.lines[i][0] == '+' for i in run):
                    self.add_run(run, is_c)
                else:
                    self.parts.append(list(run))
                run = []
            if mark != ' ':
                run.append(n)

    def add_run(self, idx, is_c):
        idx = list(idx)
        starts = cut([self.lines[i][1] for i in idx], is_c) + [len(idx)]
        for a, b in zip(starts, starts[1:]):
            self.parts.append(idx[a:b])

    def hunk_of(self, i):
        """The hunk line @i is in (0 in an added file)."""
        if not self.is_diff:
            return 0
        return sum(1 for _, first in self.hunks if first <= i)

    def label(self, part):
        for i in part:
            if self.lines[i][1].strip():
                return '%s%s' % (self.lines[i][0], self.lines[i][1][:70])
        return '(blank)'

    def content(self, chosen):
        """The file with the parts in @chosen (a set of part numbers)."""
        keep = set(i for p in chosen for i in self.parts[p])
        if not self.is_diff:
            text = [self.lines[i][1] for i in sorted(keep)]
            while text and not text[-1]:
                text.pop()
            return '\n'.join(text) + '\n'
        base = subprocess.run(['git', '-C', tree, 'show',
                               'base:' + self.tpath], check=True,
                              stdout=subprocess.PIPE).stdout
        base = split_lines(base.decode('utf-8', 'surrogateescape'))
        res, pos = [], 0
        ends = [h[1] for h in self.hunks[1:]] + [len(self.lines)]
        for (start, first), end in zip(self.hunks, ends):
            res += base[pos:start]
            pos = start
            for i in range(first, end):
                mark, t = self.lines[i]
                if mark == ' ' or (mark == '-' and i not in keep):
                    if base[pos] != t:
                        die('%s does not fit the base at line %d' %
                            (self.path, pos + 1))
                    res.append(t)
                    pos += 1
                elif mark == '-':
                    pos += 1
                elif i in keep:
                    res.append(t)
        return '\n'.join(res + base[pos:]) + '\n'


# --- the patches -----------------------------------------------------------

files = [f for f in read(os.path.join(out, 'files')).split('\n') if f]
patches = []
for name in sorted(os.listdir(sdir)):
    if not re.match(r'^[0-9][0-9]-.*\.txt$', name):
        continue
    text = read(os.path.join(sdir, name))
    if '\nFiles:\n' not in text:
        die('%s has no "Files:" line' % name)
    msg, sel = text.split('\nFiles:\n', 1)
    claims = []
    for ln in sel.split('\n'):
        if not ln.strip() or ln.startswith('#'):
            continue
        pat, _, rx = ln.partition(' ')
        try:
            claims.append((pat, re.compile(rx.strip()) if rx.strip()
                           else None, ln))
        except re.error as e:
            die('%s: bad regex in "%s": %s' % (name, ln, e))
    patches.append({'name': name, 'msg': msg, 'claims': claims})
if not patches:
    die('no harness/series/NN-*.txt')
if len(set(p['name'][:2] for p in patches)) != len(patches):
    die('two harness/series/NN-*.txt have the same number')

whole = {}      # path -> patch taking it whole
split = {}      # path -> Series_file
owner = {}      # (path, part number) -> patch
for k, p in enumerate(patches):
    for pat, rx, ln in p['claims']:
        hit = [f for f in files if fnmatch.fnmatchcase(f, pat)]
        if not hit:
            die('%s: "%s" names no series file' % (p['name'], ln))
        took = 0
        for f in hit:
            if rx is None:
                if f in whole or f in split:
                    die('%s: %s is taken twice' % (p['name'], f))
                whole[f] = k
                took += 1
                continue
            if f in whole:
                die('%s: %s is taken whole by %s' %
                    (p['name'], f, patches[whole[f]]['name']))
            if f not in split:
                split[f] = Series_file(f)
            sf = split[f]
            for n, part in enumerate(sf.parts):
                if not any(rx.search(sf.lines[i][1]) for i in part
                           if sf.lines[i][0] != ' '):
                    continue
                if (f, n) in owner:
                    die('%s and %s both take this part of %s:\n  %s' %
                        (patches[owner[(f, n)]]['name'], p['name'], f,
                         sf.label(part)))
                owner[(f, n)] = k
                took += 1
        if not took:
            die('%s: "%s" takes nothing' % (p['name'], ln))

for f in files:
    if f not in whole and f not in split:
        die('no patch takes %s' % f)
# A part of added blank lines and closing braces only goes with the part
# before it in the same hunk: the brace closes what that part opened.
for f, sf in split.items():
    for n, part in enumerate(sf.parts):
        if (f, n) in owner or not n or (f, n - 1) not in owner or \
                sf.hunk_of(part[0]) != sf.hunk_of(sf.parts[n - 1][0]):
            continue
        if all(sf.lines[i][0] == '+' and
               sf.lines[i][1].strip() in ('', '}', '};') for i in part):
            owner[(f, n)] = owner[(f, n - 1)]
left = ['%s: %s' % (f, sf.label(part)) for f, sf in split.items()
        for n, part in enumerate(sf.parts) if (f, n) not in owner]
if left:
    die('no patch takes these parts:\n  ' + '\n  '.join(left))

# --- the plan --------------------------------------------------------------

ops = [[] for _ in patches]
report = [[] for _ in patches]
for f in files:
    if f in whole:
        ops[whole[f]].append('%s %s' % ('apply' if f.endswith('.diff')
                                        else 'copy', f))
        report[whole[f]].append('  %s: whole' % f)
        continue
    sf = split[f]
    for k in sorted(set(o for (g, _), o in owner.items() if g == f)):
        chosen = set(n for n in range(len(sf.parts)) if owner[(f, n)] <= k)
        dst = os.path.join(out, 'plan', patches[k]['name'][:2], sf.tpath)
        write(dst, sf.content(chosen))
        if not sf.is_diff:
            os.chmod(dst, os.stat(os.path.join(repo, f)).st_mode & 0o777)
        ops[k].append('write %s' % sf.tpath)
        report[k].append('  %s:' % f)
        report[k] += ['    ' + sf.label(part)
                      for n, part in enumerate(sf.parts)
                      if owner[(f, n)] == k]

with open(os.path.join(out, 'parts.txt'), 'w', **ENC) as r:
    for k, p in enumerate(patches):
        if not ops[k]:
            die('%s takes nothing' % p['name'])
        code = p['name'][:2]
        write(os.path.join(out, 'plan', code + '.ops'),
              '\n'.join(ops[k]) + '\n')
        write(os.path.join(out, 'plan', code + '.msg'),
              p['msg'].rstrip('\n') + '\n')
        r.write(p['name'] + '\n' + ''.join(ln + '\n' for ln in report[k]))
