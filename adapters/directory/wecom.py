"""WeCom (企业微信通讯录) through its server API (``qyapi.weixin.qq.com/cgi-bin``).

- Token: ``GET /cgi-bin/gettoken?corpid=&corpsecret=`` → ``{errcode, errmsg,
  access_token, expires_in}`` (the corp id and the secret of a self-built app, 自建应用,
  that may read the contacts; 7,200 seconds).
- Departments: ``GET /cgi-bin/department/list?access_token=&id=`` → ``{errcode,
  department: [{id, name, name_en, parentid, order, department_leader}]}``: the whole
  tree below ``id`` in one answer (root ``1``).
- People: ``GET /cgi-bin/user/list?access_token=&department_id=`` → ``{errcode,
  userlist: [{userid, name, alias, department, main_department, position, email,
  biz_mail, is_leader_in_dept, direct_leader, status}]}``: a department's direct
  members (``status`` 1 active, 2 disabled, 4 not yet activated, 5 left).
- Errors come as ``errcode``/``errmsg``: ``40014``/``42001`` mean the token is invalid
  or expired, ``45009`` (calls over the limit), ``45033`` (too many at once) and ``-1``
  (busy) are worth another try; any other code fails the run with it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from pydantic import Field

from ..contract import Rejection
from ..org_source import DirectoryUnit, OrgSourceConfig, describe
from .base import DirectoryConfig, DirectorySource, Members, Walk, main_department
from .client import Retry, TokenExpired, VendorClient, VendorError, text_of

BASE_URL = "https://qyapi.weixin.qq.com"
EXPIRED = {40014, 42001}
RETRY = {-1, 45009, 45033}
#: Member status: 2 disabled (停用), 5 left (退出企业): not in the company any more.
GONE = {2, 5}


class WeComConfig(DirectoryConfig):
    """A self-built app (自建应用) of the company's WeCom, allowed to read contacts."""

    base_url: str = BASE_URL
    corp_id: str = Field(description="The company's CorpID (ww…).")
    corp_secret: str = Field(description="The app's Secret (secret).")
    userid_is_employee_no: bool = Field(
        default=False, description="The company uses the employee number as userid."
    )


class WeComClient(VendorClient):
    vendor = "wecom"

    async def fetch_token(self) -> tuple[str, float]:
        payload = await self.send(
            "GET",
            "/cgi-bin/gettoken",
            params={"corpid": self.app_id, "corpsecret": self.app_secret},
        )
        return str(payload["access_token"]), float(payload.get("expires_in") or 7200)

    def authorise(self, token: str, params: dict[str, str], headers: dict[str, str]) -> None:
        params["access_token"] = token

    def check(self, status: int, payload: Any, headers: Mapping[str, str]) -> None:
        if not isinstance(payload, dict):
            raise VendorError(self.vendor, status, "the answer is not an object")
        code = payload.get("errcode", 0)
        if code == 0:
            return
        message = str(payload.get("errmsg", ""))
        if code in EXPIRED:
            raise TokenExpired(f"{code}: {message}")
        if code in RETRY or status == 429:
            raise Retry(f"wecom error {code}: {message}")
        raise VendorError(self.vendor, code, message)


class WeComSource(DirectorySource):
    """People and departments from WeCom (see the module docstring)."""

    name: ClassVar[str] = "wecom"
    title: ClassVar[dict[str, str]] = {"zh": "企业微信通讯录", "en": "WeCom directory"}
    Config: ClassVar[type[OrgSourceConfig]] = WeComConfig
    secret_fields: ClassVar[frozenset[str]] = frozenset({"corp_secret"})
    root: ClassVar[str] = "1"
    whole_tree: ClassVar[bool] = True

    @property
    def wecom(self) -> WeComConfig:
        assert isinstance(self.config, WeComConfig)
        return self.config

    def client(self) -> VendorClient:
        c = self.wecom
        return WeComClient(
            self.session,
            self.tokens,
            base_url=c.base_url,
            app_id=c.corp_id,
            app_secret=c.corp_secret,
            timeout=c.timeout,
            attempts=c.attempts,
            max_wait=c.max_wait,
        )

    async def children(
        self, api: VendorClient, walk: Walk, dept: str
    ) -> tuple[list[DirectoryUnit], str | None]:
        payload = await api.call("GET", "/cgi-bin/department/list", params={"id": dept})
        found = {
            text_of(d.get("id")): d for d in payload.get("department") or [] if text_of(d.get("id"))
        }
        # parents before children, siblings in the directory's order
        below: dict[str, list[dict[str, Any]]] = {}
        for d in found.values():
            below.setdefault(text_of(d.get("parentid")), []).append(d)
        units: list[DirectoryUnit] = []
        seen, queue = {dept}, [dept]
        while queue:
            parent = queue.pop(0)
            for d in sorted(below.get(parent, []), key=lambda d: -int(d.get("order") or 0)):
                ref = f"department {parent}"
                unit = self.unit(d["id"], d.get("name"), parent, d.get("name_en"), ref)
                if unit.external_id in seen:
                    continue
                seen.add(unit.external_id)
                units.append(unit)
                queue.append(unit.external_id)
        return units, None

    async def members(self, api: VendorClient, walk: Walk, dept: str) -> Members:
        payload = await api.call("GET", "/cgi-bin/user/list", params={"department_id": dept})
        found = Members()
        known = set(walk.depts)
        for i, user in enumerate(payload.get("userlist") or []):
            ref = f"department {dept} item {i}"
            if user.get("status") in GONE:
                continue  # a leaver: missing from the pass
            userid = text_of(user.get("userid"))
            if not userid:
                found.rejected.append(Rejection(ref, "no userid", describe(user)))
                continue
            listed = [text_of(d) for d in user.get("department") or []]
            main = text_of(user.get("main_department"))
            if main:
                listed = [main, *(d for d in listed if d != main)]
            if main_department(listed, dept, known) != dept:
                continue
            leads = user.get("is_leader_in_dept") or []
            position = [text_of(d) for d in user.get("department") or []]
            at = position.index(dept) if dept in position else len(leads)
            leader = at < len(leads) and bool(leads[at])
            managers = [text_of(m) for m in user.get("direct_leader") or [] if text_of(m)]
            found.people.append(
                self.person(
                    user,
                    external_id=userid,
                    unit=dept,
                    name=user.get("name"),
                    name_en=user.get("alias"),
                    email=user.get("email") or user.get("biz_mail"),
                    employee_no=userid if self.wecom.userid_is_employee_no else "",
                    job_title=user.get("position"),
                    manager=managers[0] if managers else None,
                    leader=leader,
                    ref=ref,
                )
            )
        return found
