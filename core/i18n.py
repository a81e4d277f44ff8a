"""Messages a person reads, in every language we speak, from one catalogue per language.

Code never writes a sentence: it names a message by key (``msg("kpi.archived")``) with
its parameters, and the edge that shows it (the GraphQL payload, an API error, a CLI
line) renders it in the reader's locale. The catalogues are ``core/messages/<locale>.toml``
with flat dotted keys and ``str.format`` placeholders; the tests make sure both
languages have every key with the same placeholders, so a message is never half
translated. At run time a missing translation falls back to English, then to the key:
a person always reads something, and the test suite is what keeps that from happening.
"""

from __future__ import annotations

import re
import string
import tomllib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

LOCALES = ("zh-CN", "en")
#: The language of logs, of DomainError's str() and of the fallback for a missing key.
FALLBACK = "en"

#: How a list parameter (a tuple of values or messages) is joined, per language.
_SEPARATOR = {"zh-CN": "、", "en": ", "}

current_locale: ContextVar[str] = ContextVar("goalgraph_locale", default=FALLBACK)


@cache
def catalogue(locale: str) -> Mapping[str, str]:
    """The messages of ``locale`` (loaded once); empty for a locale we do not speak."""
    if locale not in LOCALES:
        return {}
    text = (
        resources.files("goalgraph.core").joinpath("messages", f"{locale}.toml").read_text("utf-8")
    )
    raw = tomllib.loads(text)
    return {str(k): str(v) for k, v in _flatten(raw, "")}


def _flatten(table: Mapping[str, object], prefix: str) -> Iterator[tuple[str, object]]:
    """Dotted keys written bare (``a.b = "…"``) load as nested tables: flatten them back."""
    for key, value in table.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            yield from _flatten(value, f"{name}.")
        else:
            yield name, value


def placeholders(template: str) -> frozenset[str]:
    """The ``{name}`` fields of a catalogue value (what its params must provide)."""
    return frozenset(name for _, name, _, _ in string.Formatter().parse(template) if name)


@dataclass(frozen=True, slots=True)
class Msg:
    """A message by key with its parameters, rendered only when someone reads it."""

    key: str
    params: Mapping[str, object] = field(default_factory=dict)

    def render(self, locale: str | None = None) -> str:
        """The text in ``locale`` (default: the current one), falling back to English,
        then to the key itself; parameters that are messages render in the same locale."""
        chosen = locale or current_locale.get()
        values = {k: _value(v, chosen) for k, v in self.params.items()}
        for language in dict.fromkeys((chosen, FALLBACK)):
            template = catalogue(language).get(self.key)
            if template is None:
                continue
            try:
                return template.format_map(values)
            except (KeyError, IndexError, ValueError):
                continue
        return self.key

    def __str__(self) -> str:
        return self.render()

    def __hash__(self) -> int:
        # params is a mapping (unhashable); equal messages have equal keys
        return hash(self.key)


def _value(value: object, locale: str) -> object:
    """A parameter as it goes into the template: messages rendered, lists joined."""
    if isinstance(value, Msg):
        return value.render(locale)
    if isinstance(value, tuple | list):
        return _SEPARATOR.get(locale, ", ").join(str(_value(v, locale)) for v in value)
    return value


def msg(key: str, /, **params: object) -> Msg:
    """The message ``key`` with its placeholders' values."""
    return Msg(key, params)


def noun(key: str) -> Msg:
    """The noun ``key`` names (``"org_unit"`` → ``noun.org_unit``), for messages about
    a kind of thing, such as ``not_found``'s."""
    return Msg(f"noun.{key}", {})


def text(message: Msg | str, locale: str | None = None) -> str:
    """Render a message; a plain string is passed through as it is."""
    return message.render(locale) if isinstance(message, Msg) else message


@contextmanager
def use_locale(locale: str) -> Iterator[None]:
    """Render messages in ``locale`` within the block (a request, a CLI command)."""
    token = current_locale.set(locale)
    try:
        yield
    finally:
        current_locale.reset(token)


def normalise(tag: str | None) -> str | None:
    """One of LOCALES for a language tag (``zh``, ``zh-Hans-CN``, ``en_GB``), or None."""
    if not tag:
        return None
    parts = tag.strip().replace("_", "-").lower().split("-")
    if parts[0] == "zh":
        rest = set(parts[1:])
        # Traditional Chinese (Taiwan, Hong Kong, Macao) is another catalogue we do not have.
        if rest & {"hant", "tw", "hk", "mo"}:
            return None
        return "zh-CN"
    if parts[0] == "en":
        return "en"
    return None


_RANGE = re.compile(r"^\s*([A-Za-z0-9*_-]+)\s*(?:;\s*q\s*=\s*([0-9.]+))?\s*$")


def negotiate(accept_language: str | None, default: str) -> str:
    """The best of LOCALES for an ``Accept-Language`` header (RFC 9110 §12.5.4):
    ranges in order of their q-value (ties keep the header's order), q=0 meaning
    "not this one"; ``default`` when nothing we speak is asked for."""
    if not accept_language:
        return default
    ranked: list[tuple[float, int, str]] = []
    for position, item in enumerate(accept_language.split(",")):
        found = _RANGE.match(item)
        if found is None:
            continue
        try:
            quality = float(found.group(2)) if found.group(2) is not None else 1.0
        except ValueError:
            continue
        if quality <= 0:
            continue
        ranked.append((-quality, position, found.group(1)))
    for _, _, tag in sorted(ranked):
        if tag == "*":
            return default
        locale = normalise(tag)
        if locale is not None:
            return locale
    return default


def cli_locale(environ: Mapping[str, str]) -> str:
    """The language of a command's messages: ``GOALGRAPH_LOCALE``, else the POSIX
    locale (``LC_ALL``, ``LC_MESSAGES``, ``LANG``: the first one set decides, as for any
    program), else ``GOALGRAPH_DEFAULT_LOCALE``, else English."""
    chosen = normalise(environ.get("GOALGRAPH_LOCALE"))
    if chosen is None:
        posix = next(
            (environ[k] for k in ("LC_ALL", "LC_MESSAGES", "LANG") if environ.get(k)), None
        )
        chosen = from_posix(posix)
    return chosen or normalise(environ.get("GOALGRAPH_DEFAULT_LOCALE")) or FALLBACK


def from_posix(lang: str | None) -> str | None:
    """The locale of a POSIX ``LANG``/``LC_*`` value (``zh_CN.UTF-8`` → ``zh-CN``);
    None for ``C``/``POSIX``/unset and for languages we do not speak."""
    if not lang:
        return None
    base = lang.split(".", 1)[0].split("@", 1)[0]
    if base in ("C", "POSIX"):
        return None
    return normalise(base)
