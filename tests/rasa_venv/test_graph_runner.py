"""Graphs run node by node give what Rasa's dask runner gives, errors included."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import policies  # noqa: F401  (installs the sequential run, as in the Rasa server)
import pytest
from rasa.engine.exceptions import GraphRunError
from rasa.engine.graph import ExecutionContext, GraphComponent, GraphSchema, SchemaNode
from rasa.engine.runner.dask import DaskGraphRunner
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage

ORIGINAL = DaskGraphRunner.run.__wrapped__  # type: ignore[attr-defined]
CALLS: list[str] = []


class Step(GraphComponent):
    """Records its call and returns its name with what it got, so order and inputs show."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.name = config["name"]

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> Step:
        return cls(config)

    def run(self, **inputs: Any) -> Any:
        CALLS.append(self.name)
        if inputs.get("fail"):
            raise RuntimeError("asked to fail")
        if inputs.get("boom"):
            raise KeyError("not a RuntimeError")
        return (self.name, sorted((key, repr(value)) for key, value in inputs.items()))


def _node(name: str, needs: dict[str, str], target: bool = False) -> SchemaNode:
    return SchemaNode(
        needs=needs,
        uses=Step,
        constructor_name="create",
        fn="run",
        config={"name": name},
        is_target=target,
    )


SCHEMA = GraphSchema(
    {
        "tokens": _node("tokens", {"message": "__message__"}),
        "words": _node("words", {"tokens": "tokens"}),
        "chars": _node("chars", {"tokens": "tokens", "fail": "__fail__", "boom": "__boom__"}),
        "intent": _node("intent", {"words": "words", "chars": "chars"}, target=True),
        "literal": _node("literal", {"x": "not_a_node_or_input"}),
        "unused": _node("unused", {"tokens": "tokens"}),
    }
)


@pytest.fixture
def runner(tmp_path: Path) -> DaskGraphRunner:
    storage = LocalModelStorage(tmp_path)
    return DaskGraphRunner(SCHEMA, storage, ExecutionContext(SCHEMA, "test"))


def _both(runner: DaskGraphRunner, **kwargs: Any) -> tuple[Any, Any, list[str], list[str]]:
    CALLS.clear()
    expected = ORIGINAL(runner, **kwargs)
    theirs = list(CALLS)
    CALLS.clear()
    got = runner.run(**kwargs)
    return got, expected, list(CALLS), theirs


@pytest.mark.parametrize(
    "kwargs",
    [
        {"inputs": {"__message__": "hei", "__fail__": False, "__boom__": False}},
        {"inputs": {"__message__": ["a", "list"], "__fail__": 0, "__boom__": None}},
        {"inputs": {"__message__": "hei", "__fail__": 0, "__boom__": 0}, "targets": ["words"]},
        {"inputs": {"__message__": "x", "__fail__": 0, "__boom__": 0, "words": "replaced"}},
    ],
)
def test_results_and_calls_are_rasas(runner: DaskGraphRunner, kwargs: dict[str, Any]) -> None:
    got, expected, ours, theirs = _both(runner, **kwargs)
    assert got == expected
    assert sorted(ours) == sorted(theirs), "the same nodes run, each once"
    assert "unused" not in ours
    assert ours.index("tokens") < ours.index("words") if "words" in ours else True


@pytest.mark.parametrize("fail, boom", [(True, False), (False, True)])
def test_a_failing_node_raises_what_rasas_runner_raises(
    runner: DaskGraphRunner, fail: bool, boom: bool
) -> None:
    inputs = {"__message__": "x", "__fail__": fail, "__boom__": boom}
    with pytest.raises(Exception) as expected:
        ORIGINAL(runner, inputs=inputs)
    with pytest.raises(Exception) as got:
        runner.run(inputs=inputs)
    assert type(got.value) is type(expected.value)
    assert str(got.value) == str(expected.value)
    assert type(got.value.__cause__) is type(expected.value.__cause__)


def test_a_need_that_is_no_node_reaches_the_node_as_with_dask(runner: DaskGraphRunner) -> None:
    """dask passes an unknown name as a literal; Rasa's node then refuses it."""
    kwargs: dict[str, Any] = {"inputs": {"__message__": "x"}, "targets": ["literal"]}
    with pytest.raises(GraphRunError) as expected:
        ORIGINAL(runner, **kwargs)
    with pytest.raises(GraphRunError) as got:
        runner.run(**kwargs)
    assert str(got.value) == str(expected.value)
    assert "not_a_node_or_input" in str(got.value)


def test_an_input_value_naming_a_node_is_refused_as_rasa_refuses_it(
    runner: DaskGraphRunner,
) -> None:
    inputs = {"__message__": "tokens", "__fail__": 0, "__boom__": 0}
    with pytest.raises(GraphRunError) as expected:
        ORIGINAL(runner, inputs=inputs)
    with pytest.raises(GraphRunError) as got:
        runner.run(inputs=inputs)
    assert str(got.value) == str(expected.value)
