"""HR directories on 127.0.0.1 that speak DingTalk's, Feishu's and WeCom's API shapes
and misbehave on demand.

One ``Directory`` (departments and users) is served in the shape of the chosen vendor:
its token endpoint (tokens that expire), paged department children and paged members
per department. Faults: ``faults`` maps a request number to ``"rate"`` (the vendor's
rate-limit answer), ``"500"`` or ``"expire"`` (every token issued so far stops being
valid, and the vendor's expired-token answer is given); ``fail_once`` names calls that
fail with a vendor error the first time they are made (``("users", dept_id, page)``
or ``("children", dept_id)``), which ends a sync run part way.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class Dept:
    id: str
    name: str
    parent: str | None  # None: the root (the company)
    name_en: str = ""
    leader: str | None = None  # a user id


@dataclass
class User:
    userid: str
    name: str
    depts: list[str]
    email: str = ""
    employee_no: str = ""
    title: str = ""
    manager: str | None = None  # the direct manager's user id, where the vendor has one
    en_name: str = ""


@dataclass
class Directory:
    depts: dict[str, Dept] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)

    def add_dept(self, dept: Dept) -> None:
        self.depts[dept.id] = dept

    def add_user(self, user: User) -> None:
        self.users[user.userid] = user

    def children(self, parent: str) -> list[Dept]:
        return [d for d in self.depts.values() if d.parent == parent]

    def members(self, dept: str) -> list[User]:
        return [u for u in self.users.values() if dept in u.depts]

    def is_leader(self, user: User, dept: str) -> bool:
        return self.depts[dept].leader == user.userid if dept in self.depts else False


ROOTS = {"dingtalk": "1", "feishu": "0", "wecom": "1"}


@dataclass
class FakeDirectory:
    vendor: str
    directory: Directory
    app_id: str = "app-1"
    app_secret: str = "secret-1"
    token_ttl: int = 7200
    faults: dict[int, str] = field(default_factory=dict)
    fail_once: set[tuple[Any, ...]] = field(default_factory=set)
    requests: int = 0
    token_requests: int = 0
    log: list[str] = field(default_factory=list)
    url: str = ""
    _valid: set[str] = field(default_factory=set)

    @property
    def root(self) -> str:
        return ROOTS[self.vendor]

    # ----------------------------------------------------------------- helpers

    def _issue(self) -> str:
        self.token_requests += 1
        token = f"{self.vendor}-token-{self.token_requests}"
        self._valid.add(token)
        return token

    def _answer(self, payload: Any, status: int = 200, **headers: str) -> web.Response:
        return web.Response(
            text=json.dumps(payload, ensure_ascii=False),
            status=status,
            content_type="application/json",
            headers=headers,
        )

    def _error(self, kind: str) -> web.Response:
        """The vendor's own answer for a rate limit, an expired token or a refusal."""
        if self.vendor == "dingtalk":
            codes = {"rate": (90018, "调用频率超过限制"), "expire": (40014, "不合法的access_token")}
            code, msg = codes.get(kind, (60011, "没有调用该接口的权限"))
            return self._answer({"errcode": code, "errmsg": msg})
        if self.vendor == "feishu":
            if kind == "rate":
                return self._answer(
                    {"code": 99991400, "msg": "request trigger frequency limit"},
                    429,
                    **{"x-ogw-ratelimit-reset": "0"},
                )
            if kind == "expire":
                return self._answer(
                    {"code": 99991663, "msg": "Invalid access token for authorization"}, 400
                )
            return self._answer({"code": 40004, "msg": "no dept authority error"}, 400)
        codes = {
            "rate": (45009, "api freq out of limit"),
            "expire": (42001, "access_token expired"),
        }
        code, msg = codes.get(kind, (60011, "no privilege to access/modify contact/party/agent"))
        return self._answer({"errcode": code, "errmsg": msg})

    def _fault(self, request: web.Request) -> web.Response | None:
        self.requests += 1
        self.log.append(request.path_qs)
        fault = self.faults.get(self.requests)
        if fault == "500":
            return web.Response(text="upstream broke", status=500)
        if fault == "rate":
            return self._error("rate")
        if fault == "expire":
            self._valid.clear()
        return None

    def _authorised(self, request: web.Request) -> bool:
        if self.vendor == "feishu":
            token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        else:
            token = request.query.get("access_token", "")
        return token in self._valid

    def _fails_once(self, key: tuple[Any, ...]) -> bool:
        if key in self.fail_once:
            self.fail_once.discard(key)
            return True
        return False

    # ----------------------------------------------------------------- handlers

    async def handle(self, request: web.Request) -> web.StreamResponse:
        fault = self._fault(request)
        if fault is not None:
            return fault
        path = request.path
        body = await request.json() if request.method == "POST" and request.can_read_body else {}
        if path in (
            "/gettoken",
            "/cgi-bin/gettoken",
            "/open-apis/auth/v3/tenant_access_token/internal",
        ):
            return self._token(request, body)
        if not self._authorised(request):
            return self._error("expire")
        if self.vendor == "dingtalk":
            return self._dingtalk(path, body)
        if self.vendor == "feishu":
            return self._feishu(path, request)
        return self._wecom(path, request)

    def _token(self, request: web.Request, body: dict[str, Any]) -> web.Response:
        if self.vendor == "dingtalk":
            key, secret = request.query.get("appkey"), request.query.get("appsecret")
        elif self.vendor == "wecom":
            key, secret = request.query.get("corpid"), request.query.get("corpsecret")
        else:
            key, secret = body.get("app_id"), body.get("app_secret")
        if (key, secret) != (self.app_id, self.app_secret):
            if self.vendor == "feishu":
                return self._answer({"code": 10014, "msg": "app secret invalid"}, 400)
            return self._answer({"errcode": 40001, "errmsg": "invalid credential"})
        token = self._issue()
        if self.vendor == "feishu":
            return self._answer(
                {"code": 0, "msg": "ok", "tenant_access_token": token, "expire": self.token_ttl}
            )
        return self._answer(
            {"errcode": 0, "errmsg": "ok", "access_token": token, "expires_in": self.token_ttl}
        )

    def _dingtalk(self, path: str, body: dict[str, Any]) -> web.Response:
        dept = str(body.get("dept_id", "1"))
        if path == "/topapi/v2/department/listsub":
            if self._fails_once(("children", dept)):
                return self._error("refuse")
            result = [
                {"dept_id": int(d.id), "name": d.name, "parent_id": int(d.parent or 1)}
                for d in self.directory.children(dept)
            ]
            return self._answer({"errcode": 0, "errmsg": "ok", "result": result})
        if path == "/topapi/v2/user/list":
            at, size = int(body.get("cursor", 0)), int(body.get("size", 100))
            if self._fails_once(("users", dept, at)):
                return self._error("refuse")
            members = self.directory.members(dept)
            page = members[at : at + size]
            more = at + size < len(members)
            result: dict[str, Any] = {
                "has_more": more,
                "list": [
                    {
                        "userid": u.userid,
                        "unionid": f"union-{u.userid}",
                        "name": u.name,
                        "email": u.email,
                        "job_number": u.employee_no,
                        "title": u.title,
                        "dept_id_list": [int(d) for d in u.depts],
                        "leader": self.directory.is_leader(u, dept),
                        "active": True,
                    }
                    for u in page
                ],
            }
            if more:
                result["next_cursor"] = at + size
            return self._answer({"errcode": 0, "errmsg": "ok", "result": result})
        return self._answer({"errcode": 404, "errmsg": "请求的URI地址不存在"})

    def _feishu(self, path: str, request: web.Request) -> web.Response:
        size = int(request.query.get("page_size", "50"))
        at = int(request.query.get("page_token") or 0)
        prefix = "/open-apis/contact/v3/departments/"
        if path.startswith(prefix) and path.endswith("/children"):
            dept = path.removeprefix(prefix).removesuffix("/children")
            if self._fails_once(("children", dept)):
                return self._error("refuse")
            children = self.directory.children(dept)
            items = [
                {
                    "name": d.name,
                    "i18n_name": {"zh_cn": d.name, "en_us": d.name_en},
                    "open_department_id": d.id,
                    "department_id": f"custom-{d.id}",
                    "parent_department_id": d.parent,
                    "leader_user_id": d.leader,
                    "status": {"is_deleted": False},
                }
                for d in children[at : at + size]
            ]
            return self._answer(self._feishu_page(items, at, size, len(children)))
        if path == "/open-apis/contact/v3/users/find_by_department":
            dept = request.query["department_id"]
            if self._fails_once(("users", dept, at)):
                return self._error("refuse")
            members = self.directory.members(dept)
            items = [
                {
                    "open_id": u.userid,
                    "union_id": f"on_{u.userid}",
                    "name": u.name,
                    "en_name": u.en_name,
                    "email": u.email,
                    "employee_no": u.employee_no,
                    "job_title": u.title,
                    "department_ids": u.depts,
                    "leader_user_id": u.manager,
                    "status": {"is_resigned": False, "is_activated": True},
                }
                for u in members[at : at + size]
            ]
            return self._answer(self._feishu_page(items, at, size, len(members)))
        return self._answer({"code": 404, "msg": "not found"}, 404)

    @staticmethod
    def _feishu_page(items: list[Any], at: int, size: int, total: int) -> dict[str, Any]:
        more = at + size < total
        data: dict[str, Any] = {"has_more": more, "items": items}
        if more:
            data["page_token"] = str(at + size)
        return {"code": 0, "msg": "success", "data": data}

    def _wecom(self, path: str, request: web.Request) -> web.Response:
        if path == "/cgi-bin/department/list":
            if self._fails_once(("children", request.query.get("id", "1"))):
                return self._error("refuse")
            department = [
                {
                    "id": int(d.id),
                    "name": d.name,
                    "name_en": d.name_en,
                    "parentid": int(d.parent or 0),
                    "order": 100,
                    "department_leader": [d.leader] if d.leader else [],
                }
                for d in [
                    Dept("1", "公司", None),
                    *(d for d in self.directory.depts.values()),
                ]
            ]
            return self._answer({"errcode": 0, "errmsg": "ok", "department": department})
        if path == "/cgi-bin/user/list":
            dept = request.query["department_id"]
            if self._fails_once(("users", dept, 0)):
                return self._error("refuse")
            userlist = [
                {
                    "userid": u.userid,
                    "name": u.name,
                    "alias": u.en_name,
                    "department": [int(d) for d in u.depts],
                    "main_department": int(u.depts[0]),
                    "position": u.title,
                    "email": u.email,
                    "is_leader_in_dept": [int(self.directory.is_leader(u, d)) for d in u.depts],
                    "direct_leader": [u.manager] if u.manager else [],
                    "status": 1,
                }
                for u in self.directory.members(dept)
            ]
            return self._answer({"errcode": 0, "errmsg": "ok", "userlist": userlist})
        return self._answer({"errcode": 404, "errmsg": "not found"})


@asynccontextmanager
async def serving(fake: FakeDirectory) -> AsyncIterator[FakeDirectory]:
    """Serve ``fake`` on a free port of 127.0.0.1 for the block's duration."""
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", fake.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    fake.url = f"http://127.0.0.1:{port}"
    try:
        yield fake
    finally:
        await runner.cleanup()


def config_for(fake: FakeDirectory, **overrides: Any) -> dict[str, Any]:
    """A binding configuration of the fake's vendor pointing at it."""
    credentials = {
        "dingtalk": {"app_key": fake.app_id, "app_secret": fake.app_secret},
        "feishu": {"app_id": fake.app_id, "app_secret": fake.app_secret},
        "wecom": {"corp_id": fake.app_id, "corp_secret": fake.app_secret},
    }[fake.vendor]
    return {
        "base_url": fake.url,
        **credentials,
        "page_size": 2,
        "timeout": 2.0,
        "attempts": 4,
        "max_wait": 0.5,
        **overrides,
    }


def sample_directory(root: str = "1") -> Directory:
    """A small company: two regions, three stores, seven people, managers included.

    Ids are numeric so every vendor can serve them (DingTalk and WeCom ids are numbers).
    """
    d = Directory()
    d.add_dept(Dept("10", "华北区", root, "North", leader="u-north"))
    d.add_dept(Dept("11", "石家庄长安店", "10", "Changan", leader="u-changan"))
    d.add_dept(Dept("12", "北京朝阳店", "10", "Chaoyang"))
    d.add_dept(Dept("20", "华东区", root, "East", leader="u-east"))
    d.add_dept(Dept("21", "上海徐汇店", "20", "Xuhui"))
    d.add_user(User("u-ceo", "王总", [root], "ceo@example.cn", "E001", "总经理"))
    d.add_user(User("u-north", "李北", ["10"], "north@example.cn", "E002", "区域经理", "u-ceo"))
    d.add_user(User("u-changan", "张店", ["11"], "changan@example.cn", "E003", "店长", "u-north"))
    d.add_user(User("u-clerk1", "赵一", ["11"], "zhao1@example.cn", "E004", "店员", "u-changan"))
    d.add_user(
        User("u-clerk2", "钱二", ["12", "11"], "qian2@example.cn", "E005", "店员", "u-north")
    )
    d.add_user(User("u-east", "孙东", ["20"], "east@example.cn", "E006", "区域经理", "u-ceo"))
    d.add_user(User("u-clerk3", "周三", ["21"], "zhou3@example.cn", "E007", "店员", "u-east"))
    return d
