"""Swap a template's Jinja constructs for opaque tokens, so Markdown only ever sees the template."""

from __future__ import annotations

import hashlib
import re

# Jinja's own markers (the default environment's); a raw block is kept whole.
_OPENERS = re.compile(r"\{\{|\{%|\{#")
_RAW = re.compile(r"\{%[-+]?\s*raw\s*[-+]?%\}")
_ENDRAW = re.compile(r"\{%[-+]?\s*endraw\s*[-+]?%\}")
_CLOSERS = {"{{": "}}", "{%": "%}"}
_PAIRS = {"(": ")", "[": "]", "{": "}"}
_RAW_TEXT = re.compile(r"<(title|textarea|style|script)\b", re.I)
# What each kind of construct is called inside a token: a value, a block tag, a comment.
KINDS = {"{{": "v", "{%": "b", "{#": "c"}


def constructs(source: str) -> list[tuple[int, int]]:
    """``(start, end)`` of every ``{{ }}``, ``{% %}`` and ``{# #}``, as Jinja's lexer splits them.

    Like Jinja, a closer inside a string or inside open brackets does not end the construct
    (``{{ "}}" }}``, ``{{ {'a': 1} }}``), and ``{% raw %}…{% endraw %}`` is one construct.
    """
    found = []
    pos = 0
    while (m := _OPENERS.search(source, pos)) is not None:
        start = m.start()
        opener = m.group()
        if opener == "{#":
            end = source.find("#}", m.end())
            end = len(source) if end < 0 else end + 2
        elif (raw := _RAW.match(source, start)) is not None:
            close = _ENDRAW.search(source, raw.end())
            end = len(source) if close is None else close.end()
        else:
            end = _scan_to(source, m.end(), _CLOSERS[opener])
        found.append((start, end))
        pos = end
    return found


def _scan_to(source: str, pos: int, closer: str) -> int:
    """The index just past ``closer``, skipping quoted strings and bracketed expressions."""
    depth: list[str] = []
    n = len(source)
    while pos < n:
        ch = source[pos]
        if ch in "'\"":
            pos += 1
            while pos < n and source[pos] != ch:
                pos += 2 if source[pos] == "\\" else 1
        elif ch in _PAIRS:
            depth.append(_PAIRS[ch])
        elif depth and ch == depth[-1]:
            depth.pop()
        elif not depth and source.startswith(closer, pos):
            return pos + len(closer)
        pos += 1
    return n


class Placeholders:
    """Opaque alphanumeric tokens standing for Jinja source, restored after Markdown and CSS."""

    def __init__(self, *sources: str) -> None:
        seed = "\x00".join(sources).encode()
        # A nonce derived from the sources (stable per template) that none of them contains.
        for attempt in range(100):
            nonce = hashlib.sha256(seed + bytes([attempt])).hexdigest()[:12]
            if not any(nonce in s for s in sources):
                break
        self.prefix = f"zj{nonce}"
        self.sources: list[str] = []
        self.pattern = re.compile(
            rf"<!--{self.prefix}(\d+)([vbc])jz-->|{self.prefix}(\d+)([vbc])jz"
        )
        self.blocks = rf"{self.prefix}\d+[bc]jz"

    def token(self, jinja_source: str, kind: str = "v") -> str:
        """A token for ``jinja_source``; ``kind`` is ``v`` (value), ``b`` (block) or ``c``."""
        self.sources.append(jinja_source)
        return f"{self.prefix}{len(self.sources) - 1}{kind}jz"

    def protect(self, source: str) -> str:
        """``source`` with each Jinja construct replaced by a token; the literal text untouched."""
        out = []
        pos = 0
        for start, end in constructs(source):
            out.append(source[pos:start])
            piece = source[start:end]
            # A raw block prints text, so it is laid out like a value, not like a block tag.
            kind = "v" if _RAW.match(piece) else KINDS[piece[:2]]
            out.append(self.token(piece, kind))
            pos = end
        out.append(source[pos:])
        return "".join(out)

    def restore(self, text: str) -> str:
        """The Jinja template: literal braces made inert, then each token's source put back."""
        # Literal text must stay literal: a "{{" that no construct produced is output as text.
        text = re.sub(rf"\{{(?=[{{%#]|{self.prefix})", "{{ '{' }}", text)
        return self.pattern.sub(lambda m: self.sources[int(m.group(1) or m.group(3))], text)

    def autolinks(self, markdown_source: str) -> str:
        """``<{{ url }}>`` as a Markdown link, as it was when merge values went through Markdown."""
        value = rf"{self.prefix}\d+vjz"
        return re.sub(rf"<({value})>", r"[\1](\1)", markdown_source)

    def unwrap_paragraphs(self, html: str) -> str:
        """Lift block tags on their own line out of ``<p>``: an ``{% if %}`` adds no paragraph."""
        line = re.compile(rf"\s*(?:{self.blocks}\s*)+")

        def fix(m: re.Match[str]) -> str:
            lines = m.group(1).split("\n")
            before = []
            while lines and line.fullmatch(lines[0]):
                before.append(lines.pop(0))
            after: list[str] = []
            while lines and line.fullmatch(lines[-1]):
                after.insert(0, lines.pop())
            inner = "\n".join(lines)
            para = [f"<p>{inner}</p>"] if inner.strip() else []
            return "\n".join([*before, *para, *after])

        return re.sub(r"<p>(.*?)</p>", fix, html, flags=re.S)

    def hide_blocks(self, html: str) -> str:
        """Wrap block tags between elements in comments: an HTML parser would move bare text.

        (Text between table rows is "foster-parented" out of the table; a comment stays put.)
        """
        parts = re.split(r"(<[^>]*>)", html)
        for i in range(0, len(parts), 2):  # even indexes are text, odd ones are tags
            if i and _RAW_TEXT.match(parts[i - 1]):
                continue  # a comment in <title> or <style> would be text, not a comment
            parts[i] = re.sub(self.blocks, lambda m: f"<!--{m.group()}-->", parts[i])
        return "".join(parts)

    def trim_block_lines(self, text: str) -> str:
        """In plain text, a line holding only block tags leaves no line behind."""
        return re.sub(rf"(?m)^[ \t]*((?:{self.blocks}[ \t]*)+)\n", r"\1", text)
