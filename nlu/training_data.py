"""Read Rasa 3.x NLU training data (`version: "3.1"`, `nlu:` items) into plain objects.

Supported: intents with inline annotations `[text](entity)`, `[text](entity:value)` and
`[text]{"entity": "e", "value": "v"}`; `regex:`, `lookup:` and `synonym:` items. Examples may be
a block string of `- ` lines or a list of `{text: ...}` mappings. Stories, rules and responses
are ignored (this is an NLU-only reader).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from nlu.errors import TrainingDataError

_ANNOTATION = re.compile(
    r"\[(?P<text>[^\[\]]+)\]"
    r"(?:\((?P<short>[^()]+)\)|(?P<json>\{[^{}]*\}))"
)
YAML_SUFFIXES = (".yml", ".yaml")


@dataclass(frozen=True)
class EntitySpan:
    """An annotated entity inside an example's plain text."""

    entity: str
    start: int
    end: int
    value: str


@dataclass(frozen=True)
class Example:
    """One training or test utterance."""

    text: str
    intent: str
    entities: tuple[EntitySpan, ...] = ()


@dataclass
class TrainingData:
    """Examples plus the regex, lookup and synonym resources."""

    examples: list[Example] = field(default_factory=list)
    regexes: dict[str, list[str]] = field(default_factory=dict)
    lookups: dict[str, list[str]] = field(default_factory=dict)
    synonyms: dict[str, str] = field(default_factory=dict)

    @property
    def intents(self) -> list[str]:
        """Intent names in first-seen order."""
        return list(dict.fromkeys(example.intent for example in self.examples))

    def merge(self, other: TrainingData) -> None:
        """Add another file's content to this one."""
        self.examples.extend(other.examples)
        for name, items in other.regexes.items():
            self.regexes.setdefault(name, []).extend(items)
        for name, items in other.lookups.items():
            self.lookups.setdefault(name, []).extend(items)
        self.synonyms.update(other.synonyms)


def parse_annotated(line: str) -> tuple[str, tuple[EntitySpan, ...]]:
    """Turn `订单[KM2026112200017](order_id)` into plain text plus entity spans."""
    plain: list[str] = []
    spans: list[EntitySpan] = []
    cursor = 0
    length = 0
    for match in _ANNOTATION.finditer(line):
        before = line[cursor : match.start()]
        plain.append(before)
        length += len(before)
        text = match.group("text")
        entity, value = _entity_and_value(match, text, line)
        spans.append(EntitySpan(entity=entity, start=length, end=length + len(text), value=value))
        plain.append(text)
        length += len(text)
        cursor = match.end()
    plain.append(line[cursor:])
    return "".join(plain), tuple(spans)


def _entity_and_value(match: re.Match[str], text: str, line: str) -> tuple[str, str]:
    if match.group("short") is not None:
        entity, _, value = match.group("short").partition(":")
        return entity.strip(), (value.strip() or text)
    try:
        spec = json.loads(match.group("json"))
    except json.JSONDecodeError as exc:
        raise TrainingDataError(f"bad entity annotation in {line!r}: {exc}") from exc
    if not isinstance(spec, dict) or not isinstance(spec.get("entity"), str):
        raise TrainingDataError(f"entity annotation without 'entity' in {line!r}")
    return spec["entity"], str(spec.get("value", text))


def _example_lines(raw: object, where: str) -> list[str]:
    if isinstance(raw, str):
        lines = []
        for line in raw.splitlines():
            stripped = line.strip()
            if not stripped:
                continue
            if not stripped.startswith("- "):
                raise TrainingDataError(f"{where}: example line must start with '- ': {line!r}")
            lines.append(stripped[2:].strip())
        return lines
    if isinstance(raw, list):
        out = []
        for item in raw:
            if not isinstance(item, dict) or not isinstance(item.get("text"), str):
                raise TrainingDataError(f"{where}: list examples need a 'text' string")
            out.append(item["text"].strip())
        return out
    raise TrainingDataError(f"{where}: 'examples' must be a block string or a list")


def parse_document(document: object, source: str = "<string>") -> TrainingData:
    """Parse one loaded YAML document."""
    data = TrainingData()
    if document is None:
        return data
    if not isinstance(document, dict):
        raise TrainingDataError(f"{source}: top level must be a mapping")
    items = document.get("nlu") or []
    if not isinstance(items, list):
        raise TrainingDataError(f"{source}: 'nlu' must be a list")
    for index, item in enumerate(items):
        where = f"{source}: nlu[{index}]"
        if not isinstance(item, dict):
            raise TrainingDataError(f"{where} must be a mapping")
        lines = _example_lines(item.get("examples", ""), where)
        if "intent" in item:
            intent = str(item["intent"])
            for line in lines:
                text, spans = parse_annotated(line)
                data.examples.append(Example(text=text, intent=intent, entities=spans))
        elif "regex" in item:
            data.regexes.setdefault(str(item["regex"]), []).extend(lines)
        elif "lookup" in item:
            data.lookups.setdefault(str(item["lookup"]), []).extend(lines)
        elif "synonym" in item:
            for line in lines:
                data.synonyms[line.casefold()] = str(item["synonym"])
        else:
            raise TrainingDataError(f"{where}: expected intent, regex, lookup or synonym")
    return data


def yaml_files(paths: Iterable[Path | str]) -> list[Path]:
    """Expand directories into their YAML files, sorted for a stable order."""
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.suffix in YAML_SUFFIXES))
        elif path.is_file():
            files.append(path)
        else:
            raise TrainingDataError(f"training data not found: {path}")
    if not files:
        raise TrainingDataError("no training data files found")
    return files


def load_training_data(paths: Iterable[Path | str]) -> TrainingData:
    """Load and merge every Rasa-format YAML file under `paths`."""
    data = TrainingData()
    for path in yaml_files(paths):
        try:
            document = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            raise TrainingDataError(f"cannot read {path}: {exc}") from exc
        data.merge(parse_document(document, str(path)))
    return data


def fingerprint(paths: Iterable[Path | str], *extra: str) -> str:
    """A hash of the data files' names and contents plus any extra strings."""
    digest = hashlib.sha256()
    for path in yaml_files(paths):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    for item in extra:
        digest.update(item.encode())
    return digest.hexdigest()
