"""The two kinds of letter, each described once (``replies.kinds``): the workflow and the
rendering ask the description instead of branching on the model, each description's transition
table covers its model's states, and anything that is not a letter is refused by name.

Also the direction of the dependencies that replaced the ``workflow ⇄ tasks`` cycle: the
workflow imports the tasks, the tasks import the rendering, and neither of them nor the kinds
imports the workflow."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import replies.workflow
from proposals.models import Proposal
from replies.kinds import KINDS, OPINION_KIND, REPLY_KIND, kind_named, kind_of
from replies.models import CoOpinion, Feedback, Reply

REPLIES = Path(__file__).resolve().parents[1]
LETTER_MODELS = {"Reply", "CoOpinion"}
#: Where a branch on the model would be: the workflow package and the rendering.
GENERIC = [*sorted((REPLIES / "workflow").glob("*.py")), REPLIES / "rendering.py"]


def _names(node: ast.AST) -> set[str]:
    """The class names ``node`` spells: ``Reply``, ``models.Reply``, ``(Reply, CoOpinion)``."""
    if isinstance(node, ast.Name):
        return {node.id}
    if isinstance(node, ast.Attribute):
        return {node.attr}
    if isinstance(node, ast.Tuple):
        return set().union(*(_names(e) for e in node.elts))
    return set()


def _is_model_test(node: ast.AST) -> bool:
    if isinstance(node, ast.Call):
        return (
            isinstance(node.func, ast.Name)
            and node.func.id in {"isinstance", "issubclass"}
            and len(node.args) == 2
            and bool(_names(node.args[1]) & LETTER_MODELS)
        )
    if isinstance(node, ast.Compare):
        equality = any(isinstance(op, ast.Is | ast.IsNot | ast.Eq | ast.NotEq) for op in node.ops)
        sides = (node.left, *node.comparators)
        return equality and any(_names(side) & LETTER_MODELS for side in sides)
    return False


def _model_branches(source: str) -> list[str]:
    """``isinstance(x, Reply)`` and ``type(x) is CoOpinion``-style tests on a letter model."""
    return [
        f"{node.lineno}: {ast.unparse(node)}"
        for node in ast.walk(ast.parse(source))
        if _is_model_test(node)
    ]


def test_the_scan_finds_a_branch_on_the_model():
    source = (
        "a = isinstance(obj, Reply)\n"
        "b = isinstance(obj, (models.CoOpinion, int))\n"
        "c = model is Reply\n"
        "d = isinstance(obj, Model)\n"
        "e = isinstance(value, str)\n"
    )
    assert _model_branches(source) == [
        "1: isinstance(obj, Reply)",
        "2: isinstance(obj, (models.CoOpinion, int))",
        "3: model is Reply",
    ]


def test_the_workflow_and_the_rendering_never_branch_on_the_letter_model():
    assert (REPLIES / "workflow" / "__init__.py") in GENERIC
    assert not (REPLIES / "workflow.py").exists(), "the all-in-one module is split"
    found = {
        str(path.relative_to(REPLIES.parent)): branches
        for path in GENERIC
        if (branches := _model_branches(path.read_text(encoding="utf-8")))
    }
    assert found == {}, "ask the kind (replies.kinds.kind_of) instead"


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.code)
def test_each_transition_table_covers_its_models_states(kind):
    field = kind.model._meta.get_field("state")
    assert dict(field.choices) == dict(kind.states.choices)
    assert kind.model.State is kind.states
    states = set(kind.states.values)
    sources = set().union(*(allowed for allowed, _target in kind.transitions.values()))
    targets = {target for _allowed, target in kind.transitions.values() if target}
    assert sources <= states and targets <= states, "the table names a state the model lacks"
    assert sources | targets == states, "a state no verb leads to or leaves"
    assert field.default in sources, "a new draft can do nothing"
    for verb in ("edit", "submit", "return", "sign", "rerender"):
        assert verb in kind.transitions, verb


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.code)
def test_each_kind_names_only_fields_its_model_has(kind):
    fields = {f.name for f in kind.model._meta.get_fields()}
    assert set(kind.editable_fields) <= fields
    assert {name for name, _label in kind.required} <= fields
    assert {"title", "salutation", "body"} <= {name for name, _label in kind.required}


def test_a_letter_is_looked_up_by_its_model_and_by_its_code():
    assert kind_of(Reply()) is REPLY_KIND
    assert kind_of(CoOpinion()) is OPINION_KIND
    assert [kind_named(k.code) for k in KINDS] == [REPLY_KIND, OPINION_KIND]
    assert REPLY_KIND.derive(Reply(result_label="采纳")) == ("result_class",)
    assert OPINION_KIND.derive(CoOpinion()) == ()


@pytest.mark.parametrize("thing", [Feedback(), Proposal(), object(), "reply", Reply])
def test_anything_else_is_refused_by_name(thing):
    with pytest.raises(TypeError, match=r"is not a kind of letter \(expected one of: Reply"):
        kind_of(thing)


def test_an_unknown_code_is_refused_by_name():
    with pytest.raises(ValueError, match=r"unknown kind of letter 'feedback'"):
        kind_named("feedback")


def test_the_package_still_offers_every_name_it_lists():
    missing = [name for name in replies.workflow.__all__ if not hasattr(replies.workflow, name)]
    assert missing == []


def _imports(path: Path) -> set[str]:
    """The project modules ``path`` imports, at any level (inside functions too)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


@pytest.mark.parametrize("module", ["tasks.py", "rendering.py", "kinds.py"])
def test_below_the_workflow_nothing_imports_it(module):
    imported = _imports(REPLIES / module)
    assert "proposals.workflow" in imported or module == "tasks.py"  # the scan sees imports
    assert not {n for n in imported if n == "replies.workflow" or n.startswith("replies.workflow.")}


def test_the_workflow_queues_renders_through_a_module_level_import_of_the_tasks():
    common = REPLIES / "workflow" / "common.py"
    top = ast.parse(common.read_text(encoding="utf-8")).body
    assert any(
        isinstance(node, ast.ImportFrom)
        and node.module == "replies"
        and "tasks" in {a.name for a in node.names}
        for node in top
    )
    for path in GENERIC:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef):
                inner = [n for n in ast.walk(node) if isinstance(n, ast.Import | ast.ImportFrom)]
                assert inner == [], f"{path.name}:{node.lineno} imports inside a function"
