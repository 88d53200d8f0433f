// STYLE.md §2 as a check: the dependency arrows of src/ point one way, so no
// module imports itself through others. `import type` counts: a type-only
// cycle still ties two modules into one concept.

import { describe, expect, test } from "bun:test";
import { Glob } from "bun";
import { dirname, join, relative } from "node:path";

const src = join(import.meta.dir, "../src");

/** Relative module specifiers of every static import or re-export, type-only ones included. */
function relativeImports(source: string): string[] {
  const found: string[] = [];
  for (const re of [/\bfrom\s*["'](\.\.?\/[^"']*)["']/g, /\bimport\s*\(?\s*["'](\.\.?\/[^"']*)["']/g]) {
    for (const match of source.matchAll(re)) found.push(match[1]!);
  }
  return found;
}

/** Every cycle reachable in `graph`, each as the path that closes it (DFS with an on-stack set). */
function cycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  const found: string[][] = [];
  const done = new Set<string>();
  const stack: string[] = [];
  const visit = (node: string) => {
    const at = stack.indexOf(node);
    if (at >= 0) {
      found.push([...stack.slice(at), node]);
      return;
    }
    if (done.has(node)) return;
    stack.push(node);
    for (const next of graph.get(node) ?? []) visit(next);
    stack.pop();
    done.add(node);
  };
  for (const node of [...graph.keys()].sort()) visit(node);
  return found;
}

async function sourceGraph(): Promise<Map<string, string[]>> {
  const graph = new Map<string, string[]>();
  for await (const path of new Glob("**/*.ts").scan({ cwd: src })) {
    const text = await Bun.file(join(src, path)).text();
    graph.set(path, relativeImports(text).map((spec) => relative(src, join(src, dirname(path), spec))));
  }
  return graph;
}

describe("import cycles", () => {
  test("src/ has none", async () => {
    const graph = await sourceGraph();
    expect(graph.has("cli.ts")).toBe(true);
    expect(graph.get("protocol/messages.ts")).toContain("protocol/hot-path.ts");
    expect(cycles(graph).map((cycle) => cycle.join(" -> "))).toEqual([]);
  });

  test("the check itself finds direct, type-only and longer cycles", () => {
    expect(relativeImports('import type { A } from "./a.ts";\nexport { b } from "../b.ts";\nimport "./c.ts";\nimport {\n  d,\n} from "./d.ts";')).toEqual([
      "./a.ts",
      "../b.ts",
      "./d.ts",
      "./c.ts",
    ]);
    expect(relativeImports('import { x } from "node:fs";\nimport { y } from "bun";')).toEqual([]);
    expect(cycles(new Map([["a", ["a"]]]))).toEqual([["a", "a"]]);
    expect(cycles(new Map([["a", ["b"]], ["b", ["a"]]]))).toEqual([["a", "b", "a"]]);
    expect(cycles(new Map([["a", ["b"]], ["b", ["c"]], ["c", ["a"]], ["d", ["a"]]]))).toEqual([["a", "b", "c", "a"]]);
    expect(cycles(new Map([["a", ["b", "c"]], ["b", ["c"]], ["c", []]]))).toEqual([]);
  });
});
