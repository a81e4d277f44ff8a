"""Tortoise models of goalgraph; every row but ``Tenant`` carries its tenant."""

from .accounts import Account, AccountLink, RefreshToken, SessionFamily, SignInThrottle
from .activity import AuditEvent, CheckIn, Measurement, MeasurementRevision
from .base import TenantOwned
from .credentials import AccessKey
from .cycle import Cycle
from .goals import KeyResult, Kpi, KpiLink, Objective
from .identity_providers import IdentityProvider, OidcLogin
from .insights import Adjustment, Alert, Recommendation, ScanJob, TrainingRecord
from .org import DottedLine, OrgUnit, Person
from .packs import PackEnablement
from .scores import Score
from .stages import StageWeighting
from .sync import (
    DataBinding,
    OrgSourceMember,
    RejectedRow,
    SyncJob,
    SyncRun,
    WebhookDelivery,
)
from .tenant import Tenant

__all__ = [
    "AccessKey",
    "Account",
    "AccountLink",
    "Adjustment",
    "Alert",
    "AuditEvent",
    "CheckIn",
    "Cycle",
    "DataBinding",
    "DottedLine",
    "IdentityProvider",
    "KeyResult",
    "Kpi",
    "KpiLink",
    "Measurement",
    "MeasurementRevision",
    "Objective",
    "OidcLogin",
    "OrgSourceMember",
    "OrgUnit",
    "PackEnablement",
    "Person",
    "Recommendation",
    "RefreshToken",
    "RejectedRow",
    "ScanJob",
    "Score",
    "SessionFamily",
    "SignInThrottle",
    "StageWeighting",
    "SyncJob",
    "SyncRun",
    "Tenant",
    "TenantOwned",
    "TrainingRecord",
    "WebhookDelivery",
]
