"""The pack manager: discovers, loads, validates and isolates industry packs.

Built-in and third-party packs come through the same door, the ``goalgraph.packs``
entry-point group. Each pack is loaded on its own, inside its own error boundary: a
pack whose import fails, whose hook raises, or whose content does not validate is
recorded with its error and left out, and every other pack still loads.

Content hooks are called once per pack here and the validated results are kept in a
``LoadedPack``; tenants then see a filtered view (``plugins.view.TenantPacks``).

Every call into pack code goes through ``plugins.guard``: imports and hooks run under a
time limit, and each pack's hook implementation is called on its own, so one pack's
failure never drops another's answer. A pack that fails at request time is marked
unhealthy (``mark_unhealthy``) and from then on treated like one that failed to load.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import partial
from importlib.metadata import PackageNotFoundError, entry_points, version
from typing import Any

import pluggy
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import Version
from pydantic import BaseModel, ValidationError

from ..adapters.contract import DataAdapter
from ..adapters.directory import BUILT_IN as BUILT_IN_ORG_SOURCES
from ..adapters.org_source import OrgSource
from ..core.enums import LifecycleStage
from ..core.policy import ScoringPolicy
from ..core.scoring.policies import CORE_POLICIES
from ..core.units import KNOWN_UNITS
from . import hookspecs
from .guard import (
    CALL_TIMEOUT,
    LOAD_TIMEOUT,
    PackError,
    PackFault,
    PackHealthError,
    guarded_policy,
    probe_policy,
    run_limited,
)
from .types import KpiTemplate, LifecycleStageSpec, OkrTemplate, PackInfo

ENTRY_POINT_GROUP = "goalgraph.packs"
log = logging.getLogger("goalgraph.packs")


def goalgraph_version() -> str:
    try:
        return version("goalgraph")
    except PackageNotFoundError:  # running from a source tree without metadata
        return "0.0.0"


__all__ = ["ENTRY_POINT_GROUP", "LoadedPack", "PackError", "PackManager", "goalgraph_version"]


@dataclass
class LoadedPack:
    """A pack and its validated content, or the reason it was left out."""

    name: str
    source: str
    info: PackInfo | None = None
    error: str | None = None
    #: The error as the API shows it (code, one-line message, when); None: healthy.
    health_error: PackHealthError | None = None
    plugin: object | None = None
    kpi_templates: dict[str, KpiTemplate] = field(default_factory=dict)
    okr_templates: dict[str, OkrTemplate] = field(default_factory=dict)
    stages: dict[str, LifecycleStageSpec] = field(default_factory=dict)
    adapters: dict[str, type[DataAdapter]] = field(default_factory=dict)
    org_sources: dict[str, type[OrgSource]] = field(default_factory=dict)
    policies: dict[str, ScoringPolicy] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.error is None

    def counts(self) -> dict[str, int]:
        return {
            "kpi_templates": len(self.kpi_templates),
            "okr_templates": len(self.okr_templates),
            "stages": len(self.stages),
            "adapters": len(self.adapters),
            "org_sources": len(self.org_sources),
            "policies": len(self.policies),
        }


class PackManager:
    """All packs of this process; build one per app (there is no global manager)."""

    def __init__(
        self, load_timeout: float = LOAD_TIMEOUT, call_timeout: float = CALL_TIMEOUT
    ) -> None:
        self.pm = pluggy.PluginManager(hookspecs.PROJECT)
        self.pm.add_hookspecs(hookspecs)
        self.packs: dict[str, LoadedPack] = {}
        self.load_timeout = load_timeout
        self.call_timeout = call_timeout
        self._policies: dict[tuple[str, int], ScoringPolicy] = {}

    @classmethod
    def discover(cls, extra: Iterable[tuple[str, object]] = ()) -> PackManager:
        """A manager with every installed pack, plus ``extra`` (name, plugin) pairs."""
        manager = cls()
        manager.load_entry_points()
        for name, plugin in extra:
            manager.add(name, plugin, source="registered")
        return manager

    def load_entry_points(self, group: str = ENTRY_POINT_GROUP) -> None:
        """Import every pack of the entry-point group, each in its own error boundary."""
        for point in sorted(entry_points(group=group), key=lambda p: p.name):
            if point.name in self.packs:
                continue
            try:  # a broken pack must not stop the others, nor a hanging import the server
                plugin = run_limited(point.name, "import", point.load, self.load_timeout)
            except PackError as exc:
                cause = exc.__cause__
                message = f"import failed: {cause!r}" if cause is not None else str(exc)
                code = PackFault.IMPORT_FAILED if cause is not None else exc.code
                self._fail(LoadedPack(point.name, point.value), PackError(message, code))
                continue
            self.add(point.name, plugin, source=point.value)

    def add(self, name: str, plugin: object, source: str = "registered") -> LoadedPack:
        """Register one pack and load its content; failures are recorded, not raised."""
        pack = LoadedPack(name, source)
        if name in self.packs:
            return self._fail(pack, PackError(f"pack {name!r} is installed twice ({source})"))
        try:
            self.pm.register(plugin, name=name)
            pack.plugin = plugin
            self.pm.check_pending()
            self._load_content(pack)
        except Exception as exc:
            if self.pm.is_registered(plugin):
                self.pm.unregister(plugin)
            error = exc if isinstance(exc, PackError) else PackError(f"{type(exc).__name__}: {exc}")
            return self._fail(pack, error)
        self.packs[name] = pack
        log.info(
            "pack %s %s loaded: %s", name, pack.info.version if pack.info else "?", pack.counts()
        )
        return pack

    def _fail(self, pack: LoadedPack, error: PackError) -> LoadedPack:
        pack.error = str(error)
        pack.health_error = error.health()
        pack.plugin = None
        self.packs[pack.name] = pack
        log.error("pack %s left out (%s): %s", pack.name, error.code, error)
        return pack

    def mark_unhealthy(self, name: str, error: PackError) -> None:
        """A pack that failed at run time: its content is withheld from now on (``get``
        and ``loaded`` skip it), its error is shown in ``packs``; the first error stays."""
        pack = self.packs.get(name)
        if pack is None or not pack.ok:
            return
        pack.error = str(error)
        pack.health_error = error.health()
        log.error("pack %s marked unhealthy (%s): %s", name, error.code, error)

    def loaded(self) -> list[LoadedPack]:
        return [p for p in self.packs.values() if p.ok]

    def get(self, name: str) -> LoadedPack | None:
        pack = self.packs.get(name)
        return pack if pack is not None and pack.ok else None

    def all_stage_names(self) -> set[str]:
        names = {s.value for s in LifecycleStage}
        for pack in self.loaded():
            names |= set(pack.stages)
        return names

    def subset_caller(self, hook: str, packs: Iterable[str]) -> Callable[..., Any]:
        """Call ``hook`` on ``packs`` only: a tenant's view of its enabled packs."""
        keep = {self.packs[n].plugin for n in packs if n in self.packs and self.packs[n].ok}
        others = [p for p in self.pm.get_plugins() if p not in keep]
        caller: Callable[..., Any] = self.pm.subset_hook_caller(hook, remove_plugins=others)
        return caller

    def call_each(self, hook: str, packs: Iterable[str], **kwargs: Any) -> list[tuple[str, Any]]:
        """Every answer of ``answers``, as a list."""
        return list(self.answers(hook, packs, **kwargs))

    def answers(self, hook: str, packs: Iterable[str], **kwargs: Any) -> Iterator[tuple[str, Any]]:
        """(pack, answer) of each healthy pack of ``packs`` implementing ``hook``, lazily
        (a ``firstresult`` caller stops at the first answer), in pluggy's order, each
        called on its own under the request-time limit. A pack that raises or hangs is
        marked unhealthy and left out; the others still answer.
        Hook wrappers are not called: a pack has no business wrapping another's hook."""
        wanted = {n for n in packs if self.get(n) is not None}
        for impl in getattr(self.pm.hook, hook).get_hookimpls():
            name = self.pm.get_name(impl.plugin)
            if name not in wanted or impl.hookwrapper or impl.wrapper or self.get(name) is None:
                continue
            args = [kwargs[a] for a in impl.argnames]
            try:
                answer = run_limited(
                    name, f"hook {hook}", partial(impl.function, *args), self.call_timeout
                )
            except PackError as exc:
                self.mark_unhealthy(name, exc)
                continue
            yield name, answer

    def scoring_policy(self, name: str, packs: Iterable[str]) -> ScoringPolicy | None:
        """The first answer of ``goalgraph_scoring_policy`` among ``packs``, guarded:
        an answer that is not a policy marks its pack unhealthy and the next one is
        asked; the policy is wrapped so that a failing ``score`` falls back to the
        default policy (``plugins.guard.GuardedPolicy``)."""
        for pack, found in self.answers("goalgraph_scoring_policy", packs, name=name):
            if found is None:
                continue
            if not isinstance(found, ScoringPolicy) or found.name != name:
                self.mark_unhealthy(
                    pack,
                    PackError(
                        f"pack {pack!r}: hook goalgraph_scoring_policy answered {found!r} "
                        f"for {name!r}, not a ScoringPolicy of that name"
                    ),
                )
                continue
            return self._guarded(pack, found)
        return None

    def _guarded(self, pack: str, policy: ScoringPolicy) -> ScoringPolicy:
        key = (pack, id(policy))
        if key not in self._policies:
            self._policies[key] = guarded_policy(policy, pack, self.mark_unhealthy)
        return self._policies[key]

    # -- loading one pack -------------------------------------------------------------

    def _call(self, pack: LoadedPack, hook: str, **kwargs: Any) -> Any:
        """The pack's own implementation of ``hook`` (None if it has none), run under
        the load-time limit."""
        for impl in getattr(self.pm.hook, hook).get_hookimpls():
            if impl.plugin is pack.plugin:
                args = [kwargs[a] for a in impl.argnames]
                return run_limited(
                    pack.name,
                    f"hook {hook}",
                    partial(impl.function, *args),
                    self.load_timeout,
                )
        return None

    def _items(self, pack: LoadedPack, hook: str) -> list[Any]:
        """A content hook's answer as a list; anything but a sequence is refused."""
        found = self._call(pack, hook)
        if found is None:
            return []
        if not isinstance(found, list | tuple):
            raise PackError(
                f"pack {pack.name!r}: hook {hook} returned {type(found).__name__}, not a list"
            )
        return list(found)

    def _load_content(self, pack: LoadedPack) -> None:
        info = self._call(pack, "goalgraph_pack_info")
        if info is None:
            raise PackError(f"pack {pack.name!r}: implements no goalgraph_pack_info hook")
        pack.info = _validate(pack.name, "pack info", PackInfo, info)
        if pack.info.name != pack.name:
            raise PackError(
                f"pack {pack.name!r}: pack info names it {pack.info.name!r}; "
                "the entry point and the pack info must agree"
            )
        _check_supported(pack.name, pack.info.goalgraph)
        pack.stages = _unique(
            pack.name,
            "lifecycle stage",
            [
                _validate(pack.name, "lifecycle stage", LifecycleStageSpec, s)
                for s in self._items(pack, "goalgraph_lifecycle_stages")
            ],
            key=lambda s: s.name,
        )
        clash = set(pack.stages) & ({s.value for s in LifecycleStage} | self._foreign_stages())
        if clash:
            raise PackError(
                f"pack {pack.name!r}: lifecycle stage {sorted(clash)[0]!r} is already defined"
            )
        pack.adapters = _unique(
            pack.name,
            "adapter",
            [_check_adapter(pack.name, a) for a in self._items(pack, "goalgraph_adapters")],
            key=lambda a: a.name,
        )
        pack.org_sources = _unique(
            pack.name,
            "org source",
            [_check_org_source(pack.name, s) for s in self._items(pack, "goalgraph_org_sources")],
            key=lambda s: s.name,
        )
        pack.policies = _unique(
            pack.name,
            "scoring policy",
            [_check_policy(pack.name, p) for p in self._items(pack, "goalgraph_scoring_policies")],
            key=lambda p: p.name,
        )
        for policy in pack.policies.values():
            probe_policy(pack.name, policy, self.load_timeout)
        pack.kpi_templates = _unique(
            pack.name,
            "KPI template",
            [
                _validate(pack.name, "KPI template", KpiTemplate, t)
                for t in self._items(pack, "goalgraph_kpi_templates")
            ],
            key=lambda t: t.code,
        )
        pack.okr_templates = _unique(
            pack.name,
            "OKR template",
            [
                _validate(pack.name, "OKR template", OkrTemplate, t)
                for t in self._items(pack, "goalgraph_okr_templates")
            ],
            key=lambda t: t.code,
        )
        self._check_references(pack)

    def _foreign_stages(self) -> set[str]:
        return {name for p in self.loaded() for name in p.stages}

    def _check_references(self, pack: LoadedPack) -> None:
        metrics = {m: unit for a in pack.adapters.values() for m, unit in a.metrics.items()}
        stages = {s.value for s in LifecycleStage} | set(pack.stages)
        for template in pack.kpi_templates.values():
            where = f"pack {pack.name!r}, KPI template {template.code!r}"
            if template.metric is not None:
                if template.metric not in metrics:
                    raise PackError(
                        f"{where}: no adapter of the pack supplies metric {template.metric!r}"
                    )
                if metrics[template.metric] != template.unit:
                    raise PackError(
                        f"{where}: unit {template.unit!r} differs from its "
                        f"metric's unit {metrics[template.metric]!r}"
                    )
            _known_stages(where, template.stages, stages)
            if template.scoring_policy not in CORE_POLICIES | pack.policies:
                raise PackError(f"{where}: unknown scoring policy {template.scoring_policy!r}")
        for okr in pack.okr_templates.values():
            where = f"pack {pack.name!r}, OKR template {okr.code!r}"
            _known_stages(where, okr.stages, stages)
            for kr in okr.key_results:
                if kr.kpi is not None and kr.kpi not in pack.kpi_templates:
                    raise PackError(
                        f"{where}: key result {kr.title.en!r} names unknown KPI template {kr.kpi!r}"
                    )


def _validate(pack: str, what: str, model: type[BaseModel], value: object) -> Any:
    try:
        data = value.model_dump() if isinstance(value, BaseModel) else value
        return model.model_validate(data)
    except ValidationError as exc:
        item = data.get("code") or data.get("name") if isinstance(data, dict) else None
        label = f"{what} {item!r}" if item else what
        first = exc.errors()[0]
        path = ".".join(str(p) for p in first["loc"])
        raise PackError(f"pack {pack!r}, {label}: {path}: {first['msg']}") from exc


def _unique(pack: str, what: str, items: list[Any], key: Callable[[Any], str]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for item in items:
        name = key(item)
        if name in seen:
            raise PackError(f"pack {pack!r}: duplicate {what} {name!r}")
        seen[name] = item
    return seen


def _known_stages(where: str, used: Iterable[str], known: set[str]) -> None:
    for stage in used:
        if stage not in known:
            raise PackError(f"{where}: unknown lifecycle stage {stage!r}")


def _check_supported(pack: str, spec: str) -> None:
    try:
        wanted = SpecifierSet(spec)
    except InvalidSpecifier as exc:
        raise PackError(f"pack {pack!r}: invalid goalgraph version specifier {spec!r}") from exc
    ours = goalgraph_version()
    if not wanted.contains(Version(ours), prereleases=True):
        raise PackError(f"pack {pack!r} supports goalgraph {spec}, this is {ours}")


def _check_adapter(pack: str, adapter: object) -> type[DataAdapter]:
    if not (isinstance(adapter, type) and issubclass(adapter, DataAdapter)):
        raise PackError(f"pack {pack!r}: adapter {adapter!r} is not a DataAdapter subclass")
    name = getattr(adapter, "name", None)
    if not isinstance(name, str) or not name:
        raise PackError(f"pack {pack!r}: adapter {adapter.__name__} has no name")
    _check_shape(f"pack {pack!r}, adapter {name!r}", adapter)
    for metric, unit in getattr(adapter, "metrics", {}).items():
        if unit not in KNOWN_UNITS:
            raise PackError(
                f"pack {pack!r}, adapter {name!r}: metric {metric!r} has unknown unit {unit!r}"
            )
    return adapter


def _check_org_source(pack: str, source: object) -> type[OrgSource]:
    if not (isinstance(source, type) and issubclass(source, OrgSource)):
        raise PackError(f"pack {pack!r}: org source {source!r} is not an OrgSource subclass")
    name = getattr(source, "name", None)
    if not isinstance(name, str) or not name:
        raise PackError(f"pack {pack!r}: org source {source.__name__} has no name")
    _check_shape(f"pack {pack!r}, org source {name!r}", source)
    if name in BUILT_IN_ORG_SOURCES:
        raise PackError(f"pack {pack!r}: org source {name!r} is built in")
    return source


def _check_shape(where: str, cls: type) -> None:
    """The class attributes the API reads at request time: a bilingual ``title``, a
    metric → unit mapping and a pydantic ``Config`` (a malformed one would fail there)."""
    title = getattr(cls, "title", None)
    if not (isinstance(title, dict) and all(isinstance(title.get(k), str) for k in ("zh", "en"))):
        raise PackError(f"{where}: title {title!r} is not a {{'zh': ..., 'en': ...}} mapping")
    if not isinstance(getattr(cls, "metrics", {}), dict):
        raise PackError(f"{where}: metrics is not a mapping of metric to unit")
    config = getattr(cls, "Config", None)
    if not (isinstance(config, type) and issubclass(config, BaseModel)):
        raise PackError(f"{where}: Config {config!r} is not a pydantic model")


def _check_policy(pack: str, policy: object) -> ScoringPolicy:
    if not isinstance(policy, ScoringPolicy):
        raise PackError(f"pack {pack!r}: scoring policy {policy!r} is not a ScoringPolicy")
    name, label = getattr(policy, "name", None), getattr(policy, "label", None)
    if not isinstance(name, str) or not name:
        raise PackError(f"pack {pack!r}: scoring policy {policy!r} has no name")
    if not (isinstance(label, dict) and all(isinstance(label.get(k), str) for k in ("zh", "en"))):
        raise PackError(f"pack {pack!r}, scoring policy {name!r}: label is not bilingual")
    return policy
