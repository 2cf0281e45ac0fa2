"""The admin's export formats (django-import-export): CSV and XLSX with every formula neutralised.

The library's own escaping only drops a leading "=", so ``+cmd|…``, ``-2+3`` and ``@SUM(…)``
would still run when HEC staff open a download; these run every cell through the same
``neutralise_formula`` as every other export of the portal (core.tabular), and an XLSX cell
then holds text, never a formula.
"""

import tablib
from import_export.formats.base_formats import CSV, XLSX

from .tabular import neutralise_formula


def _neutralised(dataset: tablib.Dataset) -> tablib.Dataset:
    rows = [[neutralise_formula(cell) if isinstance(cell, str) else cell for cell in row] for row in dataset]
    return tablib.Dataset(*rows, headers=dataset.headers, title=dataset.title)


class SafeCSV(CSV):
    def export_data(self, dataset, **kwargs):
        return super().export_data(_neutralised(dataset), **kwargs)


class SafeXLSX(XLSX):
    def export_data(self, dataset, **kwargs):
        return super().export_data(_neutralised(dataset), **kwargs)


# Every admin that exports names these (``export_formats = SAFE_EXPORT_FORMATS``).
SAFE_EXPORT_FORMATS = [SafeCSV, SafeXLSX]
