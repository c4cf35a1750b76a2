#!/usr/bin/env python3
"""No import loop between the core's top-level modules: a module's
`crate::...` references never lead back to it. Prints the modules each one
uses, and every loop found (exit status 1)."""
import os
import re
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src")


def module_of(path):
    first = os.path.relpath(path, ROOT).split(os.sep)[0]
    return first[:-3] if first.endswith(".rs") else first


def edges():
    uses = {}
    for folder, _, files in os.walk(ROOT):
        for name in files:
            if not name.endswith(".rs"):
                continue
            path = os.path.join(folder, name)
            mod = module_of(path)
            if mod in ("lib", "bin"):
                continue
            with open(path) as f:
                text = f.read()
            for used in re.findall(r"crate::([a-z_]+)", text):
                if used != mod:
                    uses.setdefault(mod, set()).add(used)
    return uses


def loops(uses):
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(uses.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(uses):
        if v not in index:
            visit(v)
    return found


def main():
    uses = edges()
    found = loops(uses)
    for comp in found:
        print("import loop:", " <-> ".join(comp))
        for m in comp:
            print("  ", m, "->", ", ".join(sorted(uses[m] & set(comp))))
    if not found:
        print("no import loop between the %d modules of src/" % len(uses))
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
