"""lavaan's model syntax: ``=~ ~ ~~``, labels (``a*x``), fixed values (``1*x``, ``NA*x``)
and defined parameters (``ind := a*b``).

:func:`parse_syntax` turns the text into :class:`Term` rows (one per ``lhs op rhs``) and
the defined parameters; :func:`evaluate_defined` computes a defined parameter from the
labelled values (arithmetic only: ``+ - * / **``, parentheses, numbers, labels).
Intercept lines (``x ~ 1``), constraints (``==``, ``<``, ``>``), formative factors
(``<~``) and modifiers other than one label or one number are refused (``invalid-model``)
so that nothing is silently ignored.
"""

from __future__ import annotations

import ast
import math
import re
from dataclasses import dataclass

from psychometrics.errors import PsychometricsError

__all__ = ["Syntax", "Term", "evaluate_defined", "parse_syntax"]

_NAME = re.compile(r"^[A-Za-z_.][A-Za-z0-9_.]*$")
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_OPS = (":=", "=~", "~~", "<~", "==", "~", "<", ">")


@dataclass(frozen=True)
class Term:
    """One ``lhs op rhs`` of the model: ``label`` (or ``None``), ``fixed`` (a value, or
    ``None`` when free), ``free`` True when forced free by ``NA*``."""

    lhs: str
    op: str
    rhs: str
    label: str | None = None
    fixed: float | None = None
    free: bool = False


@dataclass(frozen=True)
class Syntax:
    terms: tuple[Term, ...]
    defined: tuple[tuple[str, str], ...]  # (name, expression)

    @property
    def latent(self) -> list[str]:
        """Latent variables: left of ``=~``, in order of appearance."""
        return list(dict.fromkeys(t.lhs for t in self.terms if t.op == "=~"))

    @property
    def observed(self) -> list[str]:
        """Observed variables in order of appearance (indicators first, as lavaan)."""
        lat = set(self.latent)
        names = [t.rhs for t in self.terms if t.op == "=~"]
        names += [v for t in self.terms if t.op != "=~" for v in (t.lhs, t.rhs)]
        return [v for v in dict.fromkeys(names) if v not in lat]


def _error(func: str, rule: str, line: str) -> PsychometricsError:
    return PsychometricsError("invalid-model", f"The 'model' parameter of {func}: {rule}; got {line!r}.")


def _lines(text: str) -> list[str]:
    """Statements: comments dropped, ';' and newlines split, a line ending in an operator
    ('+', '*', '=~', '~', '~~') joined with the next."""
    out: list[str] = []
    for raw in re.split(r"[\n;]", text):
        line = re.split(r"[#!]", raw, maxsplit=1)[0].strip()
        if not line:
            continue
        if out and (re.search(r"(\+|\*|=~|~~|~|:=)$", out[-1]) or line.startswith("+")):
            out[-1] = f"{out[-1]} {line}"
        else:
            out.append(line)
    return out


def _term(lhs: str, op: str, part: str, func: str, line: str) -> Term:
    pieces = [p.strip() for p in part.split("*")]
    var = pieces[-1]
    if not _NAME.match(var) or len(pieces) > 2:
        raise _error(func, "each term is a name, optionally with one modifier 'a*x' or '1*x'", line)
    if len(pieces) == 1:
        return Term(lhs, op, var)
    mod = pieces[0]
    if mod == "NA":
        return Term(lhs, op, var, free=True)
    if _NUMBER.match(mod):
        return Term(lhs, op, var, fixed=float(mod))
    if _NAME.match(mod):
        return Term(lhs, op, var, label=mod)
    raise _error(func, "a modifier is a label, a number or NA", line)


def parse_syntax(text: str, func: str) -> Syntax:
    """Parse lavaan model syntax (see the module docstring)."""
    terms: list[Term] = []
    defined: list[tuple[str, str]] = []
    for line in _lines(text):
        op = next((o for o in _OPS if o in line), None)
        if op is None or op in ("<~", "==", "<", ">"):
            raise _error(func, "lines are 'F =~ x1 + x2', 'Y ~ X', 'x1 ~~ x2' or 'name := a*b'", line)
        lhs, rhs = (s.strip() for s in line.split(op, 1))
        if not _NAME.match(lhs) or not rhs:
            raise _error(func, f"'{op}' needs a name on its left and terms on its right", line)
        if op == ":=":
            _check_expression(rhs, func, line)
            defined.append((lhs, rhs))
            continue
        parts = [p.strip() for p in rhs.split("+")]
        if any(not p for p in parts) or (op == "~" and "1" in parts):
            raise _error(func, "empty terms and intercepts ('~ 1') are not supported", line)
        terms += [_term(lhs, op, p, func, line) for p in parts]
    return Syntax(tuple(terms), tuple(defined))


_ALLOWED = (ast.Expression, ast.BinOp, ast.UnaryOp, ast.Add, ast.Sub, ast.Mult, ast.Div,
            ast.Pow, ast.USub, ast.UAdd, ast.Constant, ast.Name, ast.Load)


def _check_expression(expr: str, func: str, line: str) -> None:
    try:
        tree = ast.parse(expr, mode="eval")
    except SyntaxError:
        raise _error(func, "a defined parameter is an arithmetic expression of labels", line) from None
    if not all(isinstance(node, _ALLOWED) for node in ast.walk(tree)):
        raise _error(func, "a defined parameter uses + - * / ** and labels only", line)


def names_in(expr: str) -> list[str]:
    """The labels an expression uses."""
    return sorted({n.id for n in ast.walk(ast.parse(expr, mode="eval")) if isinstance(n, ast.Name)})


def evaluate_defined(expr: str, values: dict[str, float]) -> float:
    """Value of an arithmetic expression given the labels' values."""
    def walk(node):
        if isinstance(node, ast.Expression):
            return walk(node.body)
        if isinstance(node, ast.Constant):
            return float(node.value)
        if isinstance(node, ast.Name):
            return values[node.id]
        if isinstance(node, ast.UnaryOp):
            v = walk(node.operand)
            return -v if isinstance(node.op, ast.USub) else v
        a, b = walk(node.left), walk(node.right)
        ops = {ast.Add: a + b, ast.Sub: a - b, ast.Mult: a * b}
        if type(node.op) in ops:
            return ops[type(node.op)]
        if isinstance(node.op, ast.Div):
            return a / b if b != 0 else math.nan
        return a**b

    return float(walk(ast.parse(expr, mode="eval")))
