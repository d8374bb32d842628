"""Rewriting single resource descriptions ("blocks") inside hand-written Turtle files.

The files in ``data/`` and ``ontology/`` are edited by people: their comments, their order and
their line breaks carry meaning that a serializer would throw away. An import that changes a few
resources must therefore touch only the blocks of those resources and leave every other byte of
the file as it was, so that a diff shows the change and nothing else. This module does the text
side of that and knows nothing of where the new statements come from.

A block is what the files already look like (see ``data/events.ttl``): the subject at column 0,
continuation lines indented, further objects of a predicate on their own lines, ``' .'`` at the
end, blocks separated by blank lines and ``#`` comments at column 0. Finding blocks is a reading
of lines, not a parse, in the same way as ``sources._subject_lines``; :func:`replace_blocks`
parses its result, so that a misplaced block can never be written back unnoticed.
"""

from __future__ import annotations

import collections
import functools
import re
from collections.abc import Mapping, Sequence

import pyoxigraph as ox

from kommunen_kg.rdf.namespaces import RDF, RDF_TYPE, XSD

Term = ox.NamedNode | ox.Literal

_XSD_STRING = XSD + "string"
_XSD_INTEGER = XSD + "integer"
_XSD_BOOLEAN = XSD + "boolean"
_RDF_LANGSTRING = RDF + "langString"
_RDF_DIRLANGSTRING = RDF + "dirLangString"

_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")
# A local name every Turtle parser reads the same way: no escapes, no '%', no ':', nothing that
# needs a backslash; a '-' or '.' cannot start it and a '.' cannot end it (it would end the
# statement). ASCII only, so that the name is safe whatever PN_CHARS_BASE a parser implements.
_SAFE_LOCAL = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_-])?")
# Only the canonical form is written bare: some tools read a bare numeral as a number and write
# it back canonically, which would turn "007" into "7"; the sources promise exact lexical forms.
_CANONICAL_INTEGER = re.compile(r"0|-?[1-9][0-9]*")
_SUBJECT_AT_LINE_START = re.compile(
    r"^(<[^>\s]*>|[A-Za-z][\w.-]*:(?:[^\s;,\\]|\\.)*|:(?:[^\s;,\\]|\\.)*)"
)
_DIRECTIVE = re.compile(r"(@prefix|@base|prefix\s|base\s)", re.IGNORECASE)


def _string_escapes() -> dict[int, str]:
    """Escapes for a short string: the five Turtle needs or that would break a line, and also
    every other control or line-separating character, which editors and ``str.splitlines`` take
    for a line break; escaped, a block stays the lines it looks like. The lexical form is kept."""
    table = {code: f"\\u{code:04X}" for code in [*range(0x20), 0x7F, 0x85, 0x2028, 0x2029]}
    named = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}
    table.update({ord(char): text for char, text in named.items()})
    return table


_ESCAPES = _string_escapes()


@functools.lru_cache(maxsize=4096)
def _resolve(reference: str, base_iri: str) -> str | None:
    """The IRI that ``<reference>`` means in a file parsed with ``base_iri``, as Oxigraph's
    parser resolves it (the parser that reads the sources decides, not a second implementation
    of RFC 3986); None if the reference cannot be written between angle brackets."""
    try:
        quads = ox.parse(
            f"<{reference}> <urn:x:p> <urn:x:o> .", format=ox.RdfFormat.TURTLE, base_iri=base_iri
        )
        return next(iter(quads)).subject.value
    except (SyntaxError, ValueError, StopIteration):
        return None


def file_prefixes(text: str, base_iri: str) -> dict[str, str]:
    """prefix -> absolute namespace IRI, as declared in the file.

    New blocks must abbreviate IRIs with the prefixes the file already declares, or they would
    not parse in it. The whole file is parsed (a syntax error raises ``SyntaxError``), because
    a prefix may be declared anywhere; a prefix declared twice maps to its last namespace.
    pyoxigraph 0.5 returns the namespaces already resolved against the base IRI; a relative one
    is resolved here all the same, in case another version does not.
    """
    parser = ox.parse(text, format=ox.RdfFormat.TURTLE, base_iri=base_iri)
    collections.deque(parser, maxlen=0)
    prefixes: dict[str, str] = {}
    for name, namespace in parser.prefixes.items():
        if not _SCHEME.match(namespace):
            resolved = _resolve(namespace, base_iri)
            if resolved is None:
                raise ValueError(f"prefix {name}: namespace <{namespace}> cannot be resolved")
            namespace = resolved
        prefixes[name] = namespace
    return prefixes


def _iri_text(iri: str, prefixes: Mapping[str, str], base_iri: str) -> str:
    for name, namespace in sorted(prefixes.items(), key=lambda item: (-len(item[1]), item[0])):
        if iri.startswith(namespace) and _SAFE_LOCAL.fullmatch(iri[len(namespace) :]):
            return f"{name}:{iri[len(namespace) :]}"
    if base_iri and iri.startswith(base_iri):
        relative = iri[len(base_iri) :]
        # "<a:b>", "<//x>", "<../x>" would mean another IRI: written relative only if it reads back
        if _resolve(relative, base_iri) == iri:
            return f"<{relative}>"
    return f"<{iri}>"


def term_text(term: Term, prefixes: Mapping[str, str], base_iri: str) -> str:
    """One term as Turtle, in the style of the hand-written files.

    IRIs become a prefixed name with the longest matching namespace whose local part is safe
    (ASCII letters, digits, ``_``, ``-``, and ``.`` not at the end; ``-`` not at the start),
    else a relative ``<...>`` under the base IRI (only when it resolves back to the same IRI),
    else ``<absolute>``. Literals keep their lexical form exactly: language-tagged and
    ``xsd:string`` literals as short strings, canonical ``xsd:integer`` and ``true``/``false``
    bare, everything else (including ``"007"^^xsd:integer``) as ``"lex"^^datatype``.
    """
    if isinstance(term, ox.NamedNode):
        return _iri_text(term.value, prefixes, base_iri)
    if not isinstance(term, ox.Literal):
        raise TypeError(f"only IRIs and literals can be written in a block, not {term!r}")
    lexical, datatype = term.value, term.datatype.value
    quoted = '"' + lexical.translate(_ESCAPES) + '"'
    if term.language:
        direction = f"--{term.direction}" if term.direction else ""
        return f"{quoted}@{term.language}{direction}"
    if datatype == _XSD_STRING:
        return quoted
    if datatype == _XSD_INTEGER and _CANONICAL_INTEGER.fullmatch(lexical):
        return lexical
    if datatype == _XSD_BOOLEAN and lexical in ("true", "false"):
        return lexical
    return f"{quoted}^^{_iri_text(datatype, prefixes, base_iri)}"


def describe(
    subject: ox.NamedNode,
    statements: Sequence[tuple[ox.NamedNode, Sequence[Term]]],
    prefixes: Mapping[str, str],
    base_iri: str,
) -> str:
    """A block in the project's style, ending with ``' .\\n'``.

    The order is the caller's (it knows which predicates a reader expects first); this function
    only lays the statements out, so that a rewritten block looks like its hand-written
    neighbours and a diff against the old one is readable: the first predicate on the subject's
    line, each further predicate on a line indented by 4, each further object of a predicate on
    its own line indented by 8. ``rdf:type`` is written ``a`` wherever it appears.
    """
    if not isinstance(subject, ox.NamedNode):
        raise TypeError(f"a block's subject must be an IRI, not {subject!r}")
    if not statements:
        raise ValueError(f"nothing to say about <{subject.value}>: a block needs a statement")
    rows: list[str] = []
    head = term_text(subject, prefixes, base_iri) + " "
    for index, (predicate, objects) in enumerate(statements):
        if not isinstance(predicate, ox.NamedNode):
            raise TypeError(f"a predicate must be an IRI, not {predicate!r}")
        if not objects:
            raise ValueError(f"<{subject.value}> <{predicate.value}> has no object")
        verb = "a" if predicate.value == RDF_TYPE else term_text(predicate, prefixes, base_iri)
        texts = [term_text(obj, prefixes, base_iri) for obj in objects]
        lines = [f"{head if index == 0 else '    '}{verb} {texts[0]}"]
        lines += [f"        {text}" for text in texts[1:]]
        lines = [line + " ," for line in lines[:-1]] + [lines[-1]]
        lines[-1] += " ." if index == len(statements) - 1 else " ;"
        rows += lines
    return "\n".join(rows) + "\n"


def _subject_iri(line: str, prefixes: Mapping[str, str], base_iri: str) -> str | None:
    """The IRI written at the start of a line, if the line starts a statement with one."""
    match = _SUBJECT_AT_LINE_START.match(line)
    if not match or _DIRECTIVE.match(line):
        return None
    token = match.group(1)
    if token.startswith("<"):
        return _resolve(token[1:-1], base_iri)
    prefix, _, local = token.partition(":")
    if prefix not in prefixes:
        return None
    # a '.' at the end of an unescaped local name ends the statement ("ex:a ex:p ex:o.")
    while local.endswith(".") and not local.endswith("\\."):
        local = local[:-1]
    local = re.sub(r"\\(.)", r"\1", local)
    return prefixes[prefix] + local


def find_blocks(
    text: str, prefixes: Mapping[str, str], base_iri: str
) -> dict[str, tuple[int, int]]:
    """subject IRI -> (first line index, end line index exclusive) of its block.

    A block runs from the line where the subject is written at column 0 up to, not including,
    the first following line that is empty (or white space only) or starts at column 0: a
    comment, the next subject, a directive. Lines are split at ``\\n`` only. A subject that
    starts two blocks in one file is a ``ValueError``: an import could not tell which to rewrite.
    """
    lines = text.split("\n")
    blocks: dict[str, tuple[int, int]] = {}
    for start, line in enumerate(lines):
        iri = _subject_iri(line, prefixes, base_iri)
        if iri is None:
            continue
        if iri in blocks:
            raise ValueError(
                f"<{iri}> starts two blocks, on lines {blocks[iri][0] + 1} and {start + 1}; "
                "merge them into one before the file can be rewritten block by block"
            )
        end = start + 1
        while end < len(lines) and lines[end].strip() and lines[end][0] in " \t":
            end += 1
        blocks[iri] = (start, end)
    return blocks


def _block_lines(block: str, line_end: str) -> list[str]:
    if not block.strip():
        raise ValueError("an empty block; delete a block with None instead")
    return [line.rstrip("\r") + line_end for line in block.rstrip("\r\n").split("\n")]


def replace_blocks(
    text: str,
    replacements: Mapping[str, str | None],
    additions: Sequence[str],
    base_iri: str,
) -> str:
    """The file's text with some blocks swapped, deleted or appended, all else byte for byte.

    ``replacements`` maps a subject IRI to its new block text, or to None to delete the block
    together with the blank line after it (at the end of the file: the blank line before it),
    so that no double blank line remains. A subject without a block in the file is a
    ``KeyError``. Each addition is appended at the end after exactly one blank line (trailing
    blank lines of the file are dropped for that). A file that ends with a newline keeps it (an
    appended block always ends with one); CRLF files get CRLF in the new lines.

    The result is parsed before it is returned: a block text that is not Turtle raises
    ``SyntaxError``, one that leaves a subject with two blocks, or a replaced subject without
    its block, raises ``ValueError`` - a broken file is never handed back to be written.
    """
    blocks = find_blocks(text, file_prefixes(text, base_iri), base_iri)
    missing = [subject for subject in replacements if subject not in blocks]
    if missing:
        raise KeyError(f"no block in the file for {', '.join(missing)}")
    line_end = "\r" if "\r\n" in text else ""
    lines = text.split("\n")
    final_newline = text.endswith("\n")
    if final_newline:
        lines.pop()
    for subject in sorted(replacements, key=lambda s: blocks[s][0], reverse=True):
        start, end = blocks[subject]
        new = replacements[subject]
        if new is not None:
            lines[start:end] = _block_lines(new, line_end)
        elif end < len(lines):
            blank_after = not lines[end].strip()
            del lines[start : end + 1 if blank_after else end]
        else:  # the last block: the blank line before it goes, or the file would end with one
            blank_before = start > 0 and not lines[start - 1].strip()
            del lines[start - 1 if blank_before else start : end]
    if additions:
        while lines and not lines[-1].strip():
            lines.pop()
        for block in additions:
            if lines:
                lines.append(line_end)
            lines += _block_lines(block, line_end)
    result = "\n".join(lines)
    if lines and (final_newline or additions):
        result += "\n"
    written = find_blocks(result, file_prefixes(result, base_iri), base_iri)
    lost = [s for s, new in replacements.items() if new is not None and s not in written]
    if lost:
        raise ValueError(f"the new block text does not describe {', '.join(lost)} at column 0")
    return result
