"""Runs the example code of `headscope export` directories as a user would, without Jupyter.

usage: run_export.py DIR [DIR ...]
In each DIR, with DIR as the working directory (Jupyter's default for a notebook), it runs the
```python blocks of README.md, then the code cells of explore.ipynb in order, each file in a
namespace of its own. With nbformat installed the notebook is first checked against its schema.
Exit 0 when everything ran; otherwise the failing block or cell is named.
"""
import json
import os
import re
import sys
import traceback

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the headless backend)


def readme_blocks():
    with open("README.md", encoding="utf-8") as f:
        text = f.read()
    for index, block in enumerate(re.findall(r"```python\n(.*?)```", text, re.S)):
        yield f"README.md block {index}", block


def notebook_cells():
    try:
        import nbformat
    except ImportError:
        nbformat = None
    if nbformat is not None:
        nbformat.validate(nbformat.read("explore.ipynb", as_version=4))
    with open("explore.ipynb", encoding="utf-8") as f:
        notebook = json.load(f)
    for cell in notebook["cells"]:
        if cell["cell_type"] == "code":
            yield f"explore.ipynb cell {cell['id']}", "".join(cell["source"])


def run(pieces):
    namespace = {"__name__": "__main__"}
    for name, source in pieces:
        try:
            exec(compile(source, name, "exec"), namespace)
        except Exception:
            traceback.print_exc()
            print(f"{os.getcwd()}: {name} failed", file=sys.stderr)
            return False
    plt.close("all")
    return True


def main():
    start = os.getcwd()
    ok = True
    for directory in sys.argv[1:]:
        os.chdir(os.path.join(start, directory))
        ok = run(readme_blocks()) and run(notebook_cells()) and ok
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
