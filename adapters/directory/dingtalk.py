"""DingTalk (钉钉通讯录) through its open platform's server API (oapi).

- Token: ``GET /gettoken?appkey=&appsecret=`` → ``{errcode, access_token, expires_in}``
  (an internal app's key and secret; the token lives 7,200 seconds).
- Departments: ``POST /topapi/v2/department/listsub?access_token=`` with
  ``{"dept_id": …}`` → ``{errcode, result: [{dept_id, name, parent_id}]}``, one level at
  a time from the root department ``1``.
- People: ``POST /topapi/v2/user/list?access_token=`` with ``{"dept_id", "cursor",
  "size"}`` (at most 100) → ``{errcode, result: {has_more, next_cursor, list: [{userid,
  name, email, org_email, job_number, title, dept_id_list, leader, …}]}}``.
- Errors come as ``errcode``/``errmsg`` (``88`` carries ``sub_code``/``sub_msg``):
  ``40014``/``42001`` mean the token is invalid or expired, ``90018`` and ``-1``
  (busy) are worth another try; any other code fails the run with it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from pydantic import Field

from ..contract import Rejection
from ..org_source import OrgSourceConfig, describe
from .base import DirectoryConfig, DirectorySource, Members, Walk, main_department
from .client import Retry, TokenExpired, VendorClient, VendorError, text_of

BASE_URL = "https://oapi.dingtalk.com"
EXPIRED = {"40014", "42001"}
RETRY = {"-1", "90018", "90002"}


class DingTalkConfig(DirectoryConfig):
    """An internal app (企业内部应用) of the company's DingTalk organisation."""

    base_url: str = BASE_URL
    app_key: str = Field(description="The app's AppKey (Client ID).")
    app_secret: str = Field(description="The app's AppSecret (Client Secret; secret).")
    language: str = "zh_CN"


class DingTalkClient(VendorClient):
    vendor = "dingtalk"

    async def fetch_token(self) -> tuple[str, float]:
        payload = await self.send(
            "GET", "/gettoken", params={"appkey": self.app_id, "appsecret": self.app_secret}
        )
        return str(payload["access_token"]), float(payload.get("expires_in") or 7200)

    def authorise(self, token: str, params: dict[str, str], headers: dict[str, str]) -> None:
        params["access_token"] = token

    def check(self, status: int, payload: Any, headers: Mapping[str, str]) -> None:
        if not isinstance(payload, dict):
            raise VendorError(self.vendor, status, "the answer is not an object")
        code = str(payload.get("errcode", 0))
        if code == "0":
            return
        message = str(payload.get("errmsg", ""))
        if code == "88" and payload.get("sub_code") is not None:
            code, message = str(payload["sub_code"]), str(payload.get("sub_msg") or message)
        if code in EXPIRED:
            raise TokenExpired(f"{code}: {message}")
        if code in RETRY or status == 429:
            raise Retry(f"dingtalk error {code}: {message}")
        raise VendorError(self.vendor, code, message)


class DingTalkSource(DirectorySource):
    """People and departments from DingTalk (see the module docstring)."""

    name: ClassVar[str] = "dingtalk"
    title: ClassVar[dict[str, str]] = {"zh": "钉钉通讯录", "en": "DingTalk directory"}
    Config: ClassVar[type[OrgSourceConfig]] = DingTalkConfig
    secret_fields: ClassVar[frozenset[str]] = frozenset({"app_secret"})
    root: ClassVar[str] = "1"

    @property
    def dingtalk(self) -> DingTalkConfig:
        assert isinstance(self.config, DingTalkConfig)
        return self.config

    def client(self) -> VendorClient:
        c = self.dingtalk
        return DingTalkClient(
            self.session,
            self.tokens,
            base_url=c.base_url,
            app_id=c.app_key,
            app_secret=c.app_secret,
            timeout=c.timeout,
            attempts=c.attempts,
            max_wait=c.max_wait,
        )

    async def children(
        self, api: VendorClient, walk: Walk, dept: str
    ) -> tuple[list[Any], str | None]:
        payload = await api.call(
            "POST",
            "/topapi/v2/department/listsub",
            body={"dept_id": int(dept), "language": self.dingtalk.language},
        )
        return [
            self.unit(d.get("dept_id"), d.get("name"), d.get("parent_id", dept), ref=f"dept {dept}")
            for d in payload.get("result") or []
            if text_of(d.get("dept_id"))
        ], None

    async def members(self, api: VendorClient, walk: Walk, dept: str) -> Members:
        at = int(walk.token or 0)
        payload = await api.call(
            "POST",
            "/topapi/v2/user/list",
            body={
                "dept_id": int(dept),
                "cursor": at,
                "size": min(self.dingtalk.page_size, 100),
                "contain_access_limit": False,
                "language": self.dingtalk.language,
            },
        )
        result = payload.get("result") or {}
        found = Members(token=str(result["next_cursor"]) if result.get("has_more") else None)
        known = set(walk.depts)
        for i, user in enumerate(result.get("list") or []):
            ref = f"dept {dept} cursor {at} item {i}"
            if not text_of(user.get("userid")):
                found.rejected.append(Rejection(ref, "no userid", describe(user)))
                continue
            listed = [text_of(d) for d in user.get("dept_id_list") or []]
            if main_department(listed, dept, known) != dept:
                continue  # listed under their main department
            found.people.append(
                self.person(
                    user,
                    external_id=user.get("userid"),
                    unit=dept,
                    name=user.get("name"),
                    email=user.get("email") or user.get("org_email"),
                    employee_no=user.get("job_number"),
                    job_title=user.get("title"),
                    leader=bool(user.get("leader")),
                    ref=ref,
                )
            )
        return found
