"""Run Rasa's prediction graphs node by node in Python instead of through dask's scheduler.

Every message runs Rasa's graph three times (NLU, then a prediction per action) with
`DaskGraphRunner.run`: it derives the minimal schema for the targets, builds a dask graph and
hands it to `dask.get`, whose scheduler (task ordering, state bookkeeping, callbacks) cost
about 18 ms per turn profiled for eight cheap nodes per run (docs/performance.md, "Third
pass"). The graph is a chain of components with no parallelism to exploit (dask.get is
dask's synchronous scheduler anyway).

Here the minimal schema and a topological order are computed once per set of targets, and
the nodes are called in that order with their dependencies' outputs, as dask calls them: a
node's arguments are the `(name, output)` tuples of the nodes (or inputs) it needs, a name
that is neither is passed as the literal string, and the result is the targets' outputs as
a dict. The input-name check and the RuntimeError -> GraphRunError translation are Rasa's.
Same results as Rasa's runner: tests/rasa_venv/test_graph_runner.py.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Run = Callable[..., dict[str, Any]]
_PLANS = "_opastin_plans"


def _plan(runner: Any, targets: tuple[str, ...]) -> list[tuple[str, Any, list[str]]]:
    """(node name, node, names it needs) in an order where needs come first."""
    plans = runner.__dict__.setdefault(_PLANS, {})
    plan = plans.get(targets)
    if plan is None:
        schema = runner._graph_schema.minimal_graph_schema(list(targets))
        order: list[str] = []
        state: dict[str, bool] = {}  # False: being visited, True: done

        def visit(name: str) -> None:
            if state.get(name) is True or name not in schema.nodes:
                return
            if state.get(name) is False:
                raise ValueError(f"the graph has a cycle through '{name}'")
            state[name] = False
            for needed in schema.nodes[name].needs.values():
                visit(needed)
            state[name] = True
            order.append(name)

        for name in schema.nodes:
            visit(name)
        plan = [
            (name, runner._instantiated_nodes[name], list(schema.nodes[name].needs.values()))
            for name in order
        ]
        plans[targets] = plan
    return plan


def sequential_run(original: Run) -> Run:
    """`original` (DaskGraphRunner.run), the same nodes called in order without dask."""
    from rasa.engine.exceptions import GraphRunError

    def run(
        self: Any, inputs: dict[str, Any] | None = None, targets: list[str] | None = None
    ) -> dict[str, Any]:
        run_targets = targets if targets else self._graph_schema.target_names
        plan = _plan(self, tuple(run_targets))
        values: dict[str, Any] = {name: None for name, _, _ in plan}
        inputs = inputs or {}
        self._add_inputs_to_graph(inputs, values)  # Rasa's clash check; sets (name, value)
        try:
            for name, node, needs in plan:
                if name in inputs:  # as in dask's graph, an input replaces a same-named node
                    continue
                values[name] = node(*[values.get(n, n) for n in needs])
            return dict(values[target] for target in run_targets)
        except RuntimeError as e:
            raise GraphRunError("Error running runner.") from e

    run.__wrapped__ = original  # type: ignore[attr-defined]
    return run


def install() -> bool:
    """Replace DaskGraphRunner.run once per process; False if already done."""
    from rasa.engine.runner.dask import DaskGraphRunner
    from rasa_patches import replace_once

    return replace_once(DaskGraphRunner, "run", sequential_run)
