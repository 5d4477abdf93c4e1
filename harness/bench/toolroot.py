#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The files a traced command used, for a tmpfs root (see bench.sh).

toolroot.py TRACE... -- EXCLUDE...: reads `strace -f -ff -s 4096` logs
(one per process, so that no call is split in two lines), takes every
absolute path a successful system call named (unless it or its real
path is under /proc, /sys, /dev or an EXCLUDE prefix, or matches an
EXCLUDE with a '*'), and prints, one per line and relative to /,
what a copy of the root needs for the same calls to succeed: the real
path of each file or directory (and of the interpreters of the scripts
it ran), then each symbolic link met on the way (under its parent's real
path). `tar --no-recursion -T` of that list, extracted elsewhere,
resolves those paths the same way.
"""
import fnmatch
import os
import re
import sys

PATH = re.compile(r'"(/[^"]*)"')


def main():
    args = sys.argv[1:]
    cut = args.index('--') if '--' in args else len(args)
    traces, excl = args[:cut], args[cut + 1:]
    excl = [e.rstrip('/') for e in excl] + ['/proc', '/sys', '/dev']

    def excluded(p):
        return any(fnmatch.fnmatch(p, e) if '*' in e else
                   p == e or p.startswith(e + '/') for e in excl)

    links, real = set(), set()

    def canon(path, depth=0):
        """Real path of path, recording every symlink met on the way."""
        if depth > 40:
            return None
        cur = '/'
        for c in path.split('/'):
            if c in ('', '.'):
                continue
            if c == '..':
                cur = os.path.dirname(cur)
                continue
            nxt = os.path.join(cur, c)
            if os.path.islink(nxt):
                if not excluded(nxt):
                    links.add(nxt)
                t = os.readlink(nxt)
                cur = canon(t if t.startswith('/') else os.path.join(cur, t),
                            depth + 1)
                if cur is None:
                    return None
            elif os.path.lexists(nxt):
                cur = nxt
            else:
                return None
        return cur

    for trace in traces:
        for line in open(trace, errors='replace'):
            # successful calls only: "... = N" with N >= 0
            m = re.search(r'\) += (-?\d+)', line)
            if not m or int(m.group(1)) < 0:
                continue
            paths = PATH.findall(line)
            # the kernel runs a script's interpreter without a call of
            # its own: take it from the #! line
            if line.startswith('execve(') and paths:
                try:
                    first = open(paths[0], 'rb').readline(256)
                except OSError:
                    first = b''
                if first.startswith(b'#!') and first[2:].split():
                    paths.append(first[2:].split()[0].decode(errors='replace'))
            for p in paths:
                if excluded(p):
                    continue
                r = canon(p)
                if r and r != '/' and not excluded(r):
                    real.add(r)
    # directories' parents are made by tar as it extracts
    for p in sorted(real) + sorted(links):
        print(p.lstrip('/'))


main()
