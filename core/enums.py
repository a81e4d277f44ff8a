"""Closed vocabularies of the domain, shared by models, services and the API."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """What a person may do in their tenant (carried in the access token)."""

    ADMIN = "admin"
    CONSULTANT = "consultant"
    MANAGER = "manager"
    EMPLOYEE = "employee"
    VIEWER = "viewer"


class GoalHealth(StrEnum):
    """How a goal stands, for the colour a person sees (core/progress.py has the rule)."""

    ON_TRACK = "on_track"
    AT_RISK = "at_risk"
    MISSED = "missed"


class OrgUnitKind(StrEnum):
    """Levels of the org tree: company → region/department → store/team."""

    COMPANY = "company"
    REGION = "region"
    DEPARTMENT = "department"
    STORE = "store"
    TEAM = "team"


class CycleKind(StrEnum):
    """Length of a cycle (考核周期)."""

    YEAR = "year"
    HALF = "half"
    QUARTER = "quarter"
    MONTH = "month"
    WEEK = "week"


class Direction(StrEnum):
    """Whether a bigger number is good (sales) or bad (customer wait time)."""

    HIGHER_IS_BETTER = "higher_is_better"
    LOWER_IS_BETTER = "lower_is_better"


class Frequency(StrEnum):
    """How often a KPI is measured; a measurement's period starts on this grid."""

    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"


class Aggregation(StrEnum):
    """How a KPI's measurements combine into one value over a cycle."""

    SUM = "sum"
    AVERAGE = "average"
    LAST = "last"


class GoalKind(StrEnum):
    """What a node of the goal graph is."""

    OBJECTIVE = "objective"
    KEY_RESULT = "key_result"
    KPI = "kpi"


class GoalStatus(StrEnum):
    """Archived goals keep their history but leave trees and scores."""

    ACTIVE = "active"
    ARCHIVED = "archived"


class LifecycleStage(StrEnum):
    """Built-in company lifecycle stages (发展阶段); packs may add others."""

    STARTUP = "startup"
    GROWTH = "growth"
    MATURE = "mature"


class SyncStatus(StrEnum):
    """How a sync run ended (or that it is still running)."""

    RUNNING = "running"
    SUCCEEDED = "succeeded"
    PARTIAL = "partial"  # finished, with rejected rows
    FAILED = "failed"


class AlertStatus(StrEnum):
    """An alert is open until the KPI passes its threshold again."""

    OPEN = "open"
    RESOLVED = "resolved"


class ProposalStatus(StrEnum):
    """A recommendation or an adjustment waits for a person to accept or dismiss it."""

    PROPOSED = "proposed"
    ACCEPTED = "accepted"
    DISMISSED = "dismissed"
