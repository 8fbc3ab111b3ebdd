"""Docs-build helpers for emogen (not part of the runtime package `emogen`, and not in its wheel).

`settings.ini` names the processor (`procs = emogen_docs:fill_show_docs`); nbdev imports it when it renders the
pages (`nbdev_proc_nbs`, `nbdev_preview`, `nbdev_docs`), from the checkout's root, which `pip install -e .` puts on
sys.path (setup.py's `package_dir`). It needs nbdev, a dev requirement.
"""
import importlib
import re


class fill_show_docs:
    "nbdev processor: render the `show_doc` cells nbdev adds, from the installed package, without running the notebook"
    def __init__(self, nb):
        exp = [c.directives_['default_exp'][0] for c in nb.cells
               if 'default_exp' in (getattr(c, 'directives_', None) or {})]
        self.module = f"emogen.{exp[0]}" if exp else None

    def __call__(self, cell):
        if not getattr(cell, 'has_sd', False) or cell.get('outputs') or not self.module:
            return
        from nbdev.showdoc import show_doc
        m = re.search(r'show_doc\((.+)\)\s*$', cell.source)
        if not m:
            return
        doc = show_doc(eval(m.group(1), vars(importlib.import_module(self.module))))
        data = {'text/markdown': doc._repr_markdown_(), 'text/plain': repr(doc)}
        cell.outputs = [{'data': data, 'execution_count': 0,
                         'metadata': {}, 'output_type': 'execute_result'}]
