"""Industry packs for goalgraph (retail, manufacturing, internet and third-party ones).

Pack authors import everything they need from here::

    from goalgraph.plugins import hookimpl, KpiTemplate, OkrTemplate, Label, PackInfo

and register their module under the ``goalgraph.packs`` entry-point group. See
docs/packs.md for the hooks and a worked example.
"""

from ..adapters.contract import (
    AdapterConfig,
    AdapterError,
    Batch,
    Cursor,
    DataAdapter,
    Reading,
    Rejection,
    reading_from,
)
from ..adapters.http_json import HttpJsonAdapter, HttpJsonConfig, preset
from ..adapters.org_source import (
    DirectoryPerson,
    DirectoryUnit,
    OrgPage,
    OrgSource,
    OrgSourceConfig,
)
from ..core.policy import ScoringPolicy
from .content import ContentPack
from .courses import Course
from .hookspecs import hookimpl, hookspec
from .manager import ENTRY_POINT_GROUP, LoadedPack, PackError, PackManager
from .types import (
    KeyResultTemplate,
    KpiTemplate,
    Label,
    LifecycleStageSpec,
    OkrTemplate,
    PackInfo,
    TrainingRecommendation,
)

__all__ = [
    "ENTRY_POINT_GROUP",
    "AdapterConfig",
    "AdapterError",
    "Batch",
    "ContentPack",
    "Course",
    "Cursor",
    "DataAdapter",
    "DirectoryPerson",
    "DirectoryUnit",
    "HttpJsonAdapter",
    "HttpJsonConfig",
    "KeyResultTemplate",
    "KpiTemplate",
    "Label",
    "LifecycleStageSpec",
    "LoadedPack",
    "OkrTemplate",
    "OrgPage",
    "OrgSource",
    "OrgSourceConfig",
    "PackError",
    "PackInfo",
    "PackManager",
    "Reading",
    "Rejection",
    "ScoringPolicy",
    "TrainingRecommendation",
    "hookimpl",
    "hookspec",
    "preset",
    "reading_from",
]
