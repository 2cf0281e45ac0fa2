"""An import-linter contract type the built-in ones lack: no import cycle inside a package.

Used by pyproject.toml's [tool.importlinter] (``contract_types``): `lint-imports` loads it from the
project's root. A cycle is any set of modules of one container that import each other round in a
loop, directly or through others of the container; imports named in ``ignore_imports`` (each
written inside a function, with its reason) are left out.
"""

from grimp import ImportGraph
from importlinter.application import contract_utils, output
from importlinter.application.contract_utils import AlertLevel
from importlinter.domain import fields
from importlinter.domain.contract import Contract, ContractCheck


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in sorted(edges[module]):
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == module:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for module in sorted(edges):
        if module not in index:
            visit(module)
    return sorted(found)


class AcyclicContract(Contract):
    """No module of a container imports, directly or not, a module that imports it back.

    Configuration options:
        - containers:     the packages whose modules may not form a cycle among themselves.
        - ignore_imports: imports left out of the check (``a.b -> a.c``).
    """

    type_name = "acyclic"

    containers = fields.ListField(subfield=fields.StringField())
    ignore_imports = fields.SetField(subfield=fields.ImportExpressionField(), required=False)

    def check(self, graph: ImportGraph, verbose: bool) -> ContractCheck:
        warnings = contract_utils.remove_ignored_imports(
            graph=graph,
            ignore_imports=self.ignore_imports,  # type: ignore[arg-type]
            unmatched_alerting=AlertLevel.ERROR,
        )
        cycles = []
        for container in self.containers:  # type: ignore[attr-defined]
            if container not in graph.modules:
                raise ValueError(f"Module '{container}' does not exist.")
            modules = graph.find_descendants(container) | {container}
            edges = {module: graph.find_modules_directly_imported_by(module) & modules for module in modules}
            for cycle in _cycles(edges):
                members = set(cycle)
                cycles.append(
                    [
                        (importer, imported, [detail["line_number"] for detail in details])
                        for importer in cycle
                        for imported in sorted(edges[importer] & members)
                        if (details := graph.get_import_details(importer=importer, imported=imported))
                    ]
                )
        return ContractCheck(kept=not cycles, warnings=warnings, metadata={"cycles": cycles})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for cycle in check.metadata["cycles"]:
            output.print("These modules import each other round in a loop:")
            output.new_line()
            for importer, imported, lines in cycle:
                output.print(f"- {importer} -> {imported} (l. {', '.join(map(str, lines))})")
            output.new_line()
