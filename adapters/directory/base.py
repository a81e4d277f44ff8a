"""Walking a directory: the department tree breadth-first, then each department's
members, one vendor call per page.

The cursor is plain JSON: the phase (``units`` or ``people``), every department found so
far in the order found (parents before children), the index of the department being
read, and the vendor's page token within it. A units page is one parent's children (or
one page of them); a people page is one page of one department's members. A person who
belongs to several departments is listed once, under their main department, so no page
holds someone another page holds too.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

from pydantic import Field, field_validator

from ..contract import Cursor, Rejection
from ..org_source import (
    DirectoryPerson,
    DirectoryUnit,
    OrgPage,
    OrgSource,
    OrgSourceConfig,
    describe,
)
from .client import VendorClient, text_of


class DirectoryConfig(OrgSourceConfig):
    """Settings every built-in directory has."""

    base_url: str
    page_size: int = Field(default=50, ge=1, le=100)

    @field_validator("base_url")
    @classmethod
    def _http(cls, url: str) -> str:
        if not url.startswith(("http://", "https://")):
            raise ValueError("base_url must start with http:// or https://")
        return url


@dataclass
class Walk:
    """Where a pass through the directory is (the cursor, as an object)."""

    phase: str
    depts: list[str]
    index: int = 0
    token: str | None = None
    #: Department → the directory ids of its leaders, where the vendor lists them there.
    leaders: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def start(cls, root: str) -> Walk:
        return cls("units", [root])

    @classmethod
    def of(cls, cursor: Cursor) -> Walk:
        return cls(
            str(cursor["phase"]),
            [str(d) for d in cursor["depts"]],
            int(cursor.get("index", 0)),
            cursor.get("token"),
            {str(k): [str(x) for x in v] for k, v in (cursor.get("leaders") or {}).items()},
        )

    def cursor(self) -> dict[str, Any]:
        return {
            "phase": self.phase,
            "depts": self.depts,
            "index": self.index,
            "token": self.token,
            "leaders": self.leaders,
        }


@dataclass
class Members:
    """One page of one department's members, as the vendor gave them."""

    people: list[DirectoryPerson] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    token: str | None = None


class DirectorySource(OrgSource):
    """A built-in directory: its client, its root department and how it pages."""

    #: The id of the directory's top department (the company itself).
    root: ClassVar[str]
    #: True when one call lists the whole department tree (no walk needed).
    whole_tree: ClassVar[bool] = False

    @property
    def settings(self) -> DirectoryConfig:
        assert isinstance(self.config, DirectoryConfig)
        return self.config

    @abstractmethod
    def client(self) -> VendorClient:
        """The vendor's API client for this binding's app."""

    @abstractmethod
    async def children(
        self, api: VendorClient, walk: Walk, dept: str
    ) -> tuple[list[DirectoryUnit], str | None]:
        """One page of ``dept``'s direct children (and the next page token)."""

    @abstractmethod
    async def members(self, api: VendorClient, walk: Walk, dept: str) -> Members:
        """One page of the people whose main department is ``dept``."""

    async def pages(self, cursor: Cursor | None) -> AsyncIterator[OrgPage]:
        api = self.client()
        walk = Walk.of(cursor) if cursor else Walk.start(self.root)
        while walk.phase == "units":
            dept = walk.depts[walk.index]
            units, token = await self.children(api, walk, dept)
            known = set(walk.depts)
            walk.depts += [u.external_id for u in units if u.external_id not in known]
            walk.token = token
            if token is None:
                walk.index += 1
                if walk.index >= len(walk.depts) or self.whole_tree:
                    walk.phase, walk.index = "people", 0
            yield OrgPage(units=units, cursor=walk.cursor())
        while walk.index < len(walk.depts):
            found = await self.members(api, walk, walk.depts[walk.index])
            walk.token = found.token
            if found.token is None:
                walk.index += 1
            last = walk.index >= len(walk.depts)
            yield OrgPage(
                people=found.people,
                rejected=found.rejected,
                cursor=None if last else walk.cursor(),
            )

    # -- shared by the vendors -----------------------------------------------------------

    def unit(
        self, external_id: object, name: object, parent: object, name_en: object = "", ref: str = ""
    ) -> DirectoryUnit:
        parent_id = text_of(parent)
        return DirectoryUnit(
            external_id=text_of(external_id),
            name=text_of(name),
            parent_id=None if parent_id in ("", self.root) else parent_id,
            name_en=text_of(name_en),
            ref=ref,
        )

    def person(
        self,
        record: dict[str, Any],
        *,
        external_id: object,
        unit: str,
        name: object,
        name_en: object = "",
        email: object = "",
        employee_no: object = "",
        job_title: object = "",
        manager: object = None,
        leader: bool = False,
        ref: str = "",
    ) -> DirectoryPerson:
        title = text_of(job_title)
        return DirectoryPerson(
            external_id=text_of(external_id),
            name=text_of(name),
            unit_id=None if unit == self.root else unit,
            name_en=text_of(name_en),
            email=text_of(email),
            employee_no=text_of(employee_no),
            job_title=title,
            manager_id=text_of(manager) or None,
            role=self.settings.role_for(title, leader),
            ref=ref,
            content=describe(record),
        )


def main_department(listed: list[str], here: str, known: set[str]) -> str:
    """The department a person is kept under: the first of theirs this pass knows (the
    vendor lists the main one first), else the one being read."""
    for dept in listed:
        if dept in known:
            return dept
    return here
