#!/usr/bin/env python3
"""Executes the report notebooks headless and writes self-contained HTML.

Usage: .venv/bin/python scripts/render_reports.py --profile quick [--out DIR] [NOTEBOOK ...]

Each notebook runs in the project's tslab kernel with DCL_REPORT_PROFILE set, so
it reads results/cache/<profile>/. The kernel does not report failures the usual
way: a failing cell answers with status "error" and an empty message (the
details are only in its stderr output) and every later cell is answered
"abort". This script therefore checks the status of every cell itself and
fails loudly with the cell's source and output.
"""
import argparse
import os
import re
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbconvert import HTMLExporter

ROOT = Path(__file__).resolve().parent.parent
# a tag that would make a browser fetch something from outside the page
EXTERNAL = re.compile(
    r'<(script|link)[^>]+(src|href)="https?://[^"]*"[^>]*>(\s*</script>)?', re.I)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="quick", help="profile whose cache is shown")
    parser.add_argument("--out", help="output folder (default results/reports/<profile>)")
    parser.add_argument("--timeout", type=int, default=900, help="seconds per cell")
    parser.add_argument("notebooks", nargs="*", help="default: notebooks/*.ipynb")
    args = parser.parse_args()

    out = Path(args.out) if args.out else ROOT / "results" / "reports" / args.profile
    paths = [Path(p) for p in args.notebooks] or sorted((ROOT / "notebooks").glob("*.ipynb"))
    if not paths:
        print("render: no notebooks found in notebooks/", file=sys.stderr)
        return 1
    out.mkdir(parents=True, exist_ok=True)
    os.environ["DCL_REPORT_PROFILE"] = args.profile

    failed = [p for p in paths if not render(p, out, args.timeout)]
    if failed:
        print(f"render: {len(failed)} of {len(paths)} notebook(s) failed: "
              + ", ".join(p.name for p in failed), file=sys.stderr)
        return 1
    print(f"render: {len(paths)} report(s) written to {out}")
    return 0


def render(path: Path, out: Path, timeout: int) -> bool:
    """Executes one notebook and writes its HTML; False (after printing why) on failure."""
    notebook = nbformat.read(path, as_version=4)
    statuses: dict[int, str] = {}

    def record(cell, cell_index, execute_reply):
        statuses[cell_index] = execute_reply["content"].get("status", "unknown")

    client = NotebookClient(
        notebook, kernel_name="tslab", timeout=timeout, allow_errors=True,
        resources={"metadata": {"path": str(path.parent)}}, on_cell_executed=record)
    try:
        client.execute()
    except Exception as err:  # a kernel that dies or times out
        print(f"render: {path.name}: execution stopped: {type(err).__name__}: {err}",
              file=sys.stderr)
        return False

    # every code cell must have answered "ok"
    problems = []
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        status = statuses.get(index, "not run")
        if status != "ok":
            problems.append((index, cell, status))
    if problems:
        index, cell, status = problems[0]
        print(f"render: {path.name}: cell {index} failed ({status}); "
              f"{len(problems) - 1} later cell(s) not run", file=sys.stderr)
        print("---- cell source ----\n" + cell.source, file=sys.stderr)
        print("---- cell output ----\n" + output_text(cell), file=sys.stderr)
        return False

    # export without code, prompts or anything fetched from the network
    exporter = HTMLExporter(template_name="lab", exclude_input=True,
                            exclude_input_prompt=True, exclude_output_prompt=True)
    body, _ = exporter.from_notebook_node(notebook)
    body = EXTERNAL.sub("", body)
    target = out / (path.stem + ".html")
    temp = target.with_suffix(".html.tmp")
    temp.write_text(body, encoding="utf-8")
    temp.replace(target)
    shown = target.relative_to(ROOT) if target.is_relative_to(ROOT) else target
    print(f"render: {path.name} -> {shown} ({target.stat().st_size / 1e6:.1f} MB)")
    return True


def output_text(cell) -> str:
    """Text of a cell's stream, error and plain-text outputs."""
    parts = []
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream":
            parts.append(output.get("text", ""))
        elif output.get("output_type") == "error":
            parts.append("\n".join(output.get("traceback", [])) or output.get("evalue", ""))
        elif "text/plain" in output.get("data", {}):
            parts.append(output["data"]["text/plain"])
    return "".join(parts).strip() or "(no output)"


if __name__ == "__main__":
    sys.exit(main())
