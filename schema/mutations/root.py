"""The one ``Mutation`` type, composed of the groups."""

from __future__ import annotations

import strawberry

from .access_keys import AccessKeyMutations
from .auth import AuthMutations
from .cycles import CycleMutations
from .identity_providers import IdentityProviderMutations
from .insights import InsightMutations
from .key_results import KeyResultMutations
from .kpis import KpiMutations
from .measurements import MeasurementMutations
from .objectives import ObjectiveMutations
from .org import OrgMutations
from .org_sync import OrgSyncMutations
from .packs import PackMutations
from .people import PeopleMutations
from .roster import RosterMutations
from .stages import StageMutations
from .sync import SyncMutations


@strawberry.type
class Mutation(
    ObjectiveMutations,
    KeyResultMutations,
    KpiMutations,
    MeasurementMutations,
    PackMutations,
    StageMutations,
    SyncMutations,
    OrgSyncMutations,
    InsightMutations,
    CycleMutations,
    OrgMutations,
    PeopleMutations,
    RosterMutations,
    AccessKeyMutations,
    IdentityProviderMutations,
    AuthMutations,
):
    """All mutations; each returns a payload with typed ``errors``."""
