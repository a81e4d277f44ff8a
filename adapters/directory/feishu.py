"""Feishu / Lark (飞书通讯录) through the open platform's contact v3 API.

- Token: ``POST /open-apis/auth/v3/tenant_access_token/internal`` with ``{app_id,
  app_secret}`` → ``{code, msg, tenant_access_token, expire}`` (seconds), sent as
  ``Authorization: Bearer …``.
- Departments: ``GET /open-apis/contact/v3/departments/{id}/children`` (``page_size``
  at most 50, ``page_token``) → ``{code, data: {has_more, page_token, items: [{name,
  i18n_name, open_department_id, department_id, parent_department_id, leader_user_id,
  status}]}}``, one level at a time from the root department ``0``.
- People: ``GET /open-apis/contact/v3/users/find_by_department?department_id=…`` →
  ``{code, data: {has_more, page_token, items: [{open_id, user_id, union_id, name,
  en_name, email, enterprise_email, employee_no, job_title, department_ids,
  leader_user_id, status}]}}``: the department's direct members.
- Errors come as ``code``/``msg``: ``99991663``, ``99991668`` and ``99991677`` mean the
  token is invalid or expired; ``99991400`` (with HTTP 429 and
  ``x-ogw-ratelimit-reset``) is the rate limit; any other code fails the run with it.
  Lark (larksuite.com) is the same API at another base URL.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Literal

from pydantic import Field

from ..contract import Rejection
from ..org_source import DirectoryUnit, OrgSourceConfig, describe
from .base import DirectoryConfig, DirectorySource, Members, Walk, main_department
from .client import Retry, TokenExpired, VendorClient, VendorError, text_of

BASE_URL = "https://open.feishu.cn"
EXPIRED = {99991663, 99991668, 99991677}
RATE_LIMIT = 99991400


class FeishuConfig(DirectoryConfig):
    """A custom app (企业自建应用) of the company's Feishu or Lark tenant."""

    base_url: str = BASE_URL
    app_id: str = Field(description="The app's App ID (cli_…).")
    app_secret: str = Field(description="The app's App Secret (secret).")
    user_id_type: Literal["open_id", "union_id", "user_id"] = "open_id"
    department_id_type: Literal["open_department_id", "department_id"] = "open_department_id"


class FeishuClient(VendorClient):
    vendor = "feishu"

    async def fetch_token(self) -> tuple[str, float]:
        payload = await self.send(
            "POST",
            "/open-apis/auth/v3/tenant_access_token/internal",
            body={"app_id": self.app_id, "app_secret": self.app_secret},
        )
        return str(payload["tenant_access_token"]), float(payload.get("expire") or 7200)

    def authorise(self, token: str, params: dict[str, str], headers: dict[str, str]) -> None:
        headers["Authorization"] = f"Bearer {token}"

    def check(self, status: int, payload: Any, headers: Mapping[str, str]) -> None:
        if not isinstance(payload, dict):
            raise VendorError(self.vendor, status, "the answer is not an object")
        code = payload.get("code", 0)
        if code == 0 and status < 400:
            return
        message = str(payload.get("msg", ""))
        if code in EXPIRED:
            raise TokenExpired(f"{code}: {message}")
        if code == RATE_LIMIT or status == 429:
            wait = _seconds(headers.get("x-ogw-ratelimit-reset") or headers.get("Retry-After"))
            raise Retry(f"feishu error {code}: {message}", wait)
        raise VendorError(self.vendor, code or status, message)


class FeishuSource(DirectorySource):
    """People and departments from Feishu or Lark (see the module docstring)."""

    name: ClassVar[str] = "feishu"
    title: ClassVar[dict[str, str]] = {"zh": "飞书通讯录", "en": "Feishu / Lark directory"}
    Config: ClassVar[type[OrgSourceConfig]] = FeishuConfig
    secret_fields: ClassVar[frozenset[str]] = frozenset({"app_secret"})
    root: ClassVar[str] = "0"

    @property
    def feishu(self) -> FeishuConfig:
        assert isinstance(self.config, FeishuConfig)
        return self.config

    def client(self) -> VendorClient:
        c = self.feishu
        return FeishuClient(
            self.session,
            self.tokens,
            base_url=c.base_url,
            app_id=c.app_id,
            app_secret=c.app_secret,
            timeout=c.timeout,
            attempts=c.attempts,
            max_wait=c.max_wait,
        )

    def _params(self, token: str | None) -> dict[str, str]:
        c = self.feishu
        params = {
            "department_id_type": c.department_id_type,
            "user_id_type": c.user_id_type,
            "page_size": str(min(c.page_size, 50)),
        }
        if token:
            params["page_token"] = token
        return params

    async def children(
        self, api: VendorClient, walk: Walk, dept: str
    ) -> tuple[list[DirectoryUnit], str | None]:
        payload = await api.call(
            "GET",
            f"/open-apis/contact/v3/departments/{dept}/children",
            params={**self._params(walk.token), "fetch_child": "false"},
        )
        data = payload.get("data") or {}
        id_field = self.feishu.department_id_type
        units = []
        for d in data.get("items") or []:
            if (d.get("status") or {}).get("is_deleted"):
                continue
            unit = self.unit(
                d.get(id_field),
                d.get("name"),
                d.get("parent_department_id", dept),
                (d.get("i18n_name") or {}).get("en_us", ""),
                ref=f"department {dept}",
            )
            if not unit.external_id:
                continue
            units.append(unit)
            leader = text_of(d.get("leader_user_id"))
            if leader:
                walk.leaders[unit.external_id] = [leader]
        return units, _next(data)

    async def members(self, api: VendorClient, walk: Walk, dept: str) -> Members:
        params = {**self._params(walk.token), "department_id": dept}
        payload = await api.call(
            "GET", "/open-apis/contact/v3/users/find_by_department", params=params
        )
        data = payload.get("data") or {}
        found = Members(token=_next(data))
        known = set(walk.depts)
        id_field = self.feishu.user_id_type
        for i, user in enumerate(data.get("items") or []):
            ref = f"department {dept} item {i}" + (f" page {walk.token}" if walk.token else "")
            status = user.get("status") or {}
            if status.get("is_resigned") or status.get("is_exited"):
                continue  # a leaver: missing from the pass
            user_id = text_of(user.get(id_field))
            if not user_id:
                found.rejected.append(Rejection(ref, f"no {id_field}", describe(user)))
                continue
            listed = [text_of(d) for d in user.get("department_ids") or []]
            if main_department(listed, dept, known) != dept:
                continue
            found.people.append(
                self.person(
                    user,
                    external_id=user_id,
                    unit=dept,
                    name=user.get("name"),
                    name_en=user.get("en_name"),
                    email=user.get("email") or user.get("enterprise_email"),
                    employee_no=user.get("employee_no"),
                    job_title=user.get("job_title"),
                    manager=user.get("leader_user_id"),
                    leader=user_id in walk.leaders.get(dept, []),
                    ref=ref,
                )
            )
        return found


def _next(data: Mapping[str, Any]) -> str | None:
    token = data.get("page_token")
    return str(token) if data.get("has_more") and token else None


def _seconds(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None
