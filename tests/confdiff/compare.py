#!/usr/bin/env python3
"""Compares two confdiff transcripts op by op against the allow-list.

Usage: compare.py DEBIAN.out OURS.out ALLOWED.txt

allowed.txt: one entry per line, "REGEX<TAB>reason" (blank lines and lines
starting with '#' are ignored). A differing op is allowed when REGEX matches
(re.search) either "<debian line>" or "<our line>" prefixed by "debian: " /
"ours: " respectively — i.e. patterns may name the key, the script tag, or
the exact result on one side. Exit status 1 on any unlisted difference.
"""
import os
import re
import sys


def load_allowed(path):
    entries = []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line.strip() or line.startswith("#"):
                continue
            if "\t" not in line:
                sys.exit("%s:%d: expected REGEX<TAB>reason" % (path, n))
            pat, reason = line.split("\t", 1)
            entries.append([re.compile(pat), reason.strip(), 0, n])
    return entries


def main():
    a = open(sys.argv[1]).read().splitlines()
    b = open(sys.argv[2]).read().splitlines()
    allowed = load_allowed(sys.argv[3])
    same = diff_allowed = 0
    unlisted = []
    for i in range(max(len(a), len(b))):
        la = a[i] if i < len(a) else "<missing>"
        lb = b[i] if i < len(b) else "<missing>"
        if la == lb:
            same += 1
            continue
        subject = "debian: " + la + "\n" + "ours: " + lb
        for e in allowed:
            if e[0].search(subject):
                e[2] += 1
                diff_allowed += 1
                break
        else:
            unlisted.append((la, lb))
    total = same + diff_allowed + len(unlisted)
    limit = int(os.environ.get("CONFDIFF_MAX", "200"))
    for la, lb in unlisted[:limit]:
        print("DIFF debian: " + la[:600])
        print("       ours: " + lb[:600])
    if len(unlisted) > limit:
        print("... %d more" % (len(unlisted) - limit))
    print()
    print("allow-list entries used:")
    for e in allowed:
        print("  %5d  line %-3d %s" % (e[2], e[3], e[1]))
    print()
    print("%d ops compared, %d identical, %d allowed differences, %d unlisted differences"
          % (total, same, diff_allowed, len(unlisted)))
    return 1 if unlisted else 0


if __name__ == "__main__":
    sys.exit(main())
