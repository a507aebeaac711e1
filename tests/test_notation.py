"""One meaning per symbol, on every page: the notation page's rules (upright d, \\top, \\odot,
delta only for the error term) hold in the Markdown of every chapter and page, and the terms a
chapter relies on are defined where they are first used. The proofs' LaTeX is held to the same
rules in tests/test_proofs.py."""

from __future__ import annotations

import re

import pytest
from notation_rules import math_spans, page_texts, violations

PAGES = page_texts()


@pytest.mark.parametrize("page", sorted(PAGES))
def test_page_math_follows_the_notation(page):
    found = [(rule, excerpt) for text in PAGES[page] for span in math_spans(text)
             for rule, excerpt in violations(span)]
    assert found == [], f"{page}: " + "; ".join(f"{rule}: {excerpt!r}" for rule, excerpt in found)


@pytest.mark.parametrize("tex, rule", [
    (r"dz = da \odot g'(z)", "d is upright"),
    (r"\frac{dy}{dx}", "d is upright"),
    (r"d_{out} \odot y", "d is upright"),
    (r"W^T \mathrm{d}z", "transpose"),
    (r"a \circ b", "\\odot"),
    (r"y_j(\delta_{j k} - y_k)", "Kronecker"),
])
def test_each_rule_catches_a_planted_break(tex, rule):
    assert any(rule in r for r, _ in violations(tex)), tex


@pytest.mark.parametrize("tex", [
    r"\mathrm{d}z = \mathrm{d}a \odot g'(z)", r"\delta^{[l]} = m\,\mathrm{d}z^{[l]}",
    r"W^{\top} \mathrm{d}z", r"\frac{\partial L}{\partial z}", r"[j = k]",
    r"\text{dout and db in words}", r"\operatorname{diag}(y)", r"\mathrm{d}_{\text{out}}",
])
def test_the_book_notation_passes(tex):
    assert violations(tex) == []


def _first(page: str, pattern: str) -> int:
    """Index of the first Markdown cell of ``page`` matching ``pattern`` (case-insensitive)."""
    return next(i for i, text in enumerate(PAGES[page]) if re.search(pattern, text, re.I))


def test_relative_error_is_defined_where_chapter_1_first_uses_it():
    page = "ch1_computation_graph.ipynb"
    first_use = _first(page, r"relative error")
    assert first_use == _first(page, r"\*\*relative error\*\*\s*\$\$\s*\\operatorname\{rel\}")


def test_chapter_1_keeps_L_for_the_loss():
    """Chapter 1's function is f; L appears there only where the text says it is the loss to
    come (the notation page: L always means the loss)."""
    text = "\n".join(PAGES["ch1_computation_graph.ipynb"])
    text = re.sub(r"```.*?```", " ", text, flags=re.S)
    uses = [m for m in re.finditer(r"\$([^$\n]+)\$", text)
            if re.search(r"(?<![\\A-Za-z])L(?![A-Za-z])", m.group(1))]
    assert uses, "chapter 1 should say that f becomes the loss L"
    for m in uses:
        assert "loss" in text[max(0, m.start() - 40):m.start()], text[m.start() - 80:m.end()]
