#!/usr/bin/env python3
"""Prints the import graph between src/'s top-level modules (`crate::<module>` paths, tests
included) and any cycle in it; exits 1 when there is one. Usage: scripts/module-cycles.py [src]"""
import os, re, sys
root = sys.argv[1] if len(sys.argv) > 1 else 'src'
tops = sorted({n[:-3] if n.endswith('.rs') else n for n in os.listdir(root)} - {'main', 'fuzz'})
edges = {t: set() for t in tops}
for t in tops:
    paths = [os.path.join(root, t + '.rs')] if os.path.isfile(os.path.join(root, t + '.rs')) else []
    for d, _, fs in os.walk(os.path.join(root, t)):
        paths += [os.path.join(d, f) for f in fs if f.endswith('.rs')]
    for p in paths:
        text = open(p).read()
        for m in re.finditer(r'crate::(\w+)', text):
            if m.group(1) in edges and m.group(1) != t:
                edges[t].add(m.group(1))
for t in tops:
    print(f"{t:8} -> {', '.join(sorted(edges[t])) or '-'}")
# Tarjan SCC
idx, low, stack, on, sccs, n = {}, {}, [], set(), [], [0]
def visit(v):
    idx[v] = low[v] = n[0]; n[0] += 1; stack.append(v); on.add(v)
    for w in edges[v]:
        if w not in idx: visit(w); low[v] = min(low[v], low[w])
        elif w in on: low[v] = min(low[v], idx[w])
    if low[v] == idx[v]:
        c = []
        while True:
            w = stack.pop(); on.discard(w); c.append(w)
            if w == v: break
        if len(c) > 1: sccs.append(c)
for t in tops:
    if t not in idx: visit(t)
print('cycles:', sccs or 'none')
sys.exit(1 if sccs else 0)
