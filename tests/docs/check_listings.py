#!/usr/bin/env python3
"""tests/docs/check_listings.py ROOT [--update] | --self-test — the docs cannot rot.

Every C++ listing in the tutorial and the asyncio table must be a copy of a sample that CI builds
and runs. A listing is a fenced code block whose language is cpp; the line right before its
opening fence must name its source:

    <!-- listing: samples/tutorial/01-why-async/sync_vs_async.cpp -->
    ```cpp
    ...the whole file, byte for byte...
    ```

Errors (each printed as FILE:LINE: message; the exit status is 1 if there is any):
  * a cpp block with no listing comment before it (a listing without a source);
  * a listing comment that names a file that does not exist;
  * a listing whose text differs from its file (the first differing line is shown);
  * a listing comment not followed by a cpp block.
Other fenced blocks (text output, mermaid diagrams, shell commands) are not listings.

--update rewrites every listing from its file instead (for whoever changed a sample), then checks.

--self-test builds a small tree in a temporary folder and checks that each of those errors is
caught, and in particular that changing a single byte of a listing fails the check.
"""
import pathlib
import re
import sys
import tempfile

LISTING = re.compile(r"^<!-- listing: (\S+) -->$")
FENCE = re.compile(r"^```(\S*)\s*$")


def doc_files(root):
    docs = root / "docs"
    return sorted((docs / "tutorial").glob("*.md")) + [p for p in [docs / "asyncio-to-corio.md"] if p.exists()]


def blocks(lines):
    """Yields (start_index, language, body_text) for each fenced block; body ends with '\n'."""
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        start, language = i, m.group(1)
        i += 1
        body = []
        while i < len(lines) and lines[i] != "```":
            body.append(lines[i] + "\n")
            i += 1
        yield start, language, "".join(body)
        i += 1


def first_difference(a, b):
    a_lines, b_lines = a.splitlines(keepends=True), b.splitlines(keepends=True)
    for n, (x, y) in enumerate(zip(a_lines, b_lines), 1):
        if x != y:
            return n, x.rstrip("\n"), y.rstrip("\n")
    n = min(len(a_lines), len(b_lines)) + 1
    return n, "(end)" if len(a_lines) < n else a_lines[n - 1].rstrip("\n"), "(end)" if len(b_lines) < n else b_lines[n - 1].rstrip("\n")


def check_doc(root, doc):
    errors, checked = [], 0
    lines = doc.read_text(encoding="utf-8").split("\n")
    block_starts = {}
    for start, language, body in blocks(lines):
        block_starts[start] = (language, body)
    where = lambda n: f"{doc.relative_to(root)}:{n + 1}"
    for n, line in enumerate(lines):
        m = LISTING.match(line)
        if m and (n + 1 not in block_starts or block_starts[n + 1][0] != "cpp"):
            errors.append(f"{where(n)}: listing comment for {m.group(1)} is not followed by a ```cpp block")
    for start, (language, body) in sorted(block_starts.items()):
        if language != "cpp":
            continue
        m = LISTING.match(lines[start - 1]) if start > 0 else None
        if not m:
            errors.append(f"{where(start)}: a cpp listing without a source (put <!-- listing: PATH --> right before it)")
            continue
        source = root / m.group(1)
        if not source.is_file():
            errors.append(f"{where(start)}: {m.group(1)} does not exist")
            continue
        expected = source.read_text(encoding="utf-8")
        checked += 1
        if body != expected:
            line_no, doc_line, file_line = first_difference(body, expected)
            errors.append(f"{where(start)}: differs from {m.group(1)} at its line {line_no}:\n"
                          f"    doc:  {doc_line!r}\n    file: {file_line!r}")
    return errors, checked


def update_doc(root, doc):
    """Replaces the body of every listed cpp block with its file's text."""
    lines = doc.read_text(encoding="utf-8").split("\n")
    out, i = [], 0
    while i < len(lines):
        out.append(lines[i])
        m = LISTING.match(lines[i])
        if m and i + 1 < len(lines) and lines[i + 1] == "```cpp" and (root / m.group(1)).is_file():
            out.append(lines[i + 1])
            out += (root / m.group(1)).read_text(encoding="utf-8").rstrip("\n").split("\n")
            i += 2
            while i < len(lines) and lines[i] != "```":
                i += 1
            continue
        i += 1
    doc.write_text("\n".join(out), encoding="utf-8")


def check(root):
    errors, checked = [], 0
    for doc in doc_files(root):
        e, c = check_doc(root, doc)
        errors += e
        checked += c
    return errors, checked


def self_test():
    sample = "#include <cstdio>\nint main() { std::puts(\"hi\"); }\n"
    cases = {
        "matching": (sample, True),
        "one byte changed": (sample.replace("hi", "ho"), False),
        "one byte missing": (sample[:-1], False),
    }
    failures = 0
    with tempfile.TemporaryDirectory(prefix="h-tutorial-listings-") as tmp:
        root = pathlib.Path(tmp)
        (root / "docs" / "tutorial").mkdir(parents=True)
        (root / "samples").mkdir()
        (root / "samples" / "hi.cpp").write_text(sample)
        doc = root / "docs" / "tutorial" / "01.md"
        for name, (listing, should_pass) in cases.items():
            doc.write_text(f"# t\n\n<!-- listing: samples/hi.cpp -->\n```cpp\n{listing}```\n")
            errors, _ = check(root)
            if (not errors) != should_pass:
                print(f"self-test FAILED: {name}: errors={errors}")
                failures += 1
        for name, text in {"no source": "```cpp\nint x;\n```\n",
                           "missing file": "<!-- listing: samples/nope.cpp -->\n```cpp\nint x;\n```\n",
                           "comment without block": "<!-- listing: samples/hi.cpp -->\ntext\n"}.items():
            doc.write_text(text)
            errors, _ = check(root)
            if not errors:
                print(f"self-test FAILED: {name} was not reported")
                failures += 1
    print("self-test:", "ok" if failures == 0 else f"{failures} case(s) failed")
    return 1 if failures else 0


def main(argv):
    if "--self-test" in argv:
        return self_test()
    root = pathlib.Path(argv[1]).resolve()
    if "--update" in argv:
        for doc in doc_files(root):
            update_doc(root, doc)
    errors, checked = check(root)
    for e in errors:
        print(e)
    print(f"{checked} listing(s) checked, {len(errors)} error(s)")
    return 1 if errors or checked == 0 else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
