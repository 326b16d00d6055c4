"""The README's one-purchase trace names code that exists, and the docs' links resolve.

The trace is read from the README, each step a `path:function` or `path:Class.method`, and
checked against the files' syntax trees: nothing of the project is imported, so this runs
with pytest alone, and a function that moved or was renamed fails here by its name.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[2]
README = REPOSITORY / "README.md"
TRACE_HEADING = "### One purchase, end to end"
#: The least number of steps a trace from the HTTP request to the page can have.
MIN_STEPS = 12
#: Documents whose relative links must resolve.
DOCUMENTS = [README, REPOSITORY / "bench" / "README.md", *sorted(REPOSITORY.glob("docs/*.md"))]

REFERENCE = re.compile(r"`(?P<path>[\w./-]+\.(?:py|js)):(?P<name>[A-Za-z_]\w*(?:\.\w+)*)`")
STEP = re.compile(r"^\d+\. (?P<text>.*)")
FENCE = re.compile(r"^(```|~~~)")
INLINE_CODE = re.compile(r"`[^`\n]*`")
LINK = re.compile(r"!?\[[^\]]*\]\((?P<target>[^)\s]+)(?:\s+\"[^\"]*\")?\)")
SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")
HEADING = re.compile(r"^#{1,6}\s+(?P<title>.+?)\s*#*\s*$")
JS_DEFINITION = re.compile(
    r"^\s*(?:export\s+)?(?:default\s+)?(?:async\s+)?(?:function\s*\*?|class)\s+(?P<name>\w+)",
    re.MULTILINE,
)


def trace_section() -> str:
    """The README's text from the trace's heading to the next heading."""
    lines = README.read_text(encoding="utf-8").splitlines()
    try:
        start = lines.index(TRACE_HEADING) + 1
    except ValueError:
        return ""
    end = next(
        (i for i in range(start, len(lines)) if lines[i].startswith("#")),
        len(lines),
    )
    return "\n".join(lines[start:end])


def trace_steps() -> list[str]:
    """The text of every numbered step of the trace (its first line)."""
    return [match["text"] for line in trace_section().splitlines() if (match := STEP.match(line))]


def trace_references() -> list[str]:
    """Every `path:name` in the trace: each step's own, and the ones it names on the way."""
    found = [f"{m['path']}:{m['name']}" for m in REFERENCE.finditer(trace_section())]
    return list(dict.fromkeys(found))


def python_definitions(source: str) -> set[str]:
    """Qualified names of the functions and classes a module defines, methods as Class.name.

    Functions nested in functions are left out: nothing outside can call them by name.
    """
    names: set[str] = set()

    def visit(body: list[ast.stmt], prefix: str) -> None:
        for node in body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                names.add(prefix + node.name)
            elif isinstance(node, ast.ClassDef):
                names.add(prefix + node.name)
                visit(node.body, f"{prefix}{node.name}.")
            elif isinstance(node, ast.If | ast.Try):
                # Definitions under `if TYPE_CHECKING:` or a fallback import still count.
                visit([*node.body, *node.orelse], prefix)

    visit(ast.parse(source).body, "")
    return names


def defined_names(path: Path) -> set[str]:
    source = path.read_text(encoding="utf-8")
    if path.suffix == ".py":
        return python_definitions(source)
    return {match["name"] for match in JS_DEFINITION.finditer(source)}


def outside_fences(markdown: str) -> list[str]:
    """The lines of ``markdown`` outside fenced code blocks."""
    kept, fenced = [], False
    for line in markdown.splitlines():
        if FENCE.match(line.strip()):
            fenced = not fenced
        elif not fenced:
            kept.append(line)
    return kept


def prose(markdown: str) -> str:
    """The text outside code blocks and inline code, where links are links."""
    return "\n".join(INLINE_CODE.sub("", line) for line in outside_fences(markdown))


def anchors(markdown: str) -> set[str]:
    """The anchors GitHub gives the headings of a Markdown document (inline code included)."""
    seen: dict[str, int] = {}
    for line in outside_fences(markdown):
        match = HEADING.match(line)
        if match is None:
            continue
        slug = re.sub(r"[^\w\- ]", "", match["title"].strip().lower()).replace(" ", "-")
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        if count:
            seen[f"{slug}-{count}"] = 1
    return set(seen)


def broken_links(document: Path) -> list[str]:
    """The relative links of ``document`` that point at no file, or at no heading of it."""
    text = document.read_text(encoding="utf-8")
    broken = []
    for match in LINK.finditer(prose(text)):
        target = match["target"]
        if SCHEME.match(target):
            continue
        path_part, _, anchor = target.partition("#")
        resolved = (document.parent / path_part).resolve() if path_part else document
        if not resolved.is_relative_to(REPOSITORY) or not resolved.exists():
            broken.append(f"{target}: no such file in the repository")
        elif (
            anchor
            and resolved.suffix == ".md"
            and anchor not in anchors(resolved.read_text(encoding="utf-8"))
        ):
            broken.append(f"{target}: no heading with that anchor")
    return broken


def test_the_trace_is_a_list_of_steps_each_naming_its_function():
    steps = trace_steps()
    assert len(steps) >= MIN_STEPS, f"{TRACE_HEADING!r} in README.md has {len(steps)} steps"
    not_references = [step for step in steps if not REFERENCE.match(step)]
    assert not_references == [], "each step starts with `path:function`"


@pytest.mark.parametrize("reference", trace_references())
def test_the_traced_function_exists(reference):
    path, _, name = reference.partition(":")
    source = REPOSITORY / path
    assert source.is_file(), f"{path} does not exist"
    assert name in defined_names(source), f"{path} defines no {name}"


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda path: str(path.relative_to(REPOSITORY)))
def test_relative_links_resolve(document):
    assert document.is_file()
    assert broken_links(document) == []


def test_the_readme_links_every_document_under_docs():
    linked = {
        (README.parent / match["target"].partition("#")[0]).resolve()
        for match in LINK.finditer(prose(README.read_text(encoding="utf-8")))
        if not SCHEME.match(match["target"])
    }
    unlinked = [
        str(path.relative_to(REPOSITORY))
        for path in DOCUMENTS
        if path != README and path.resolve() not in linked
    ]
    assert unlinked == []
