"""The ``/scim/v2`` routes (RFC 7644): discovery, Users and Groups.

Every request but discovery carries ``Authorization: Bearer <SCIM credential>``; the
credential names the tenant, and the request runs in that tenant's scope as the
credential (audited as ``scim``). Failures are SCIM error responses
(``urn:ietf:params:scim:api:messages:2.0:Error``) with a ``scimType`` where RFC 7644
defines one. The secret is never logged nor repeated in a message.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import ValidationError
from scim2_models import (
    Context,
    Error,
    InvalidSyntaxException,
    ListResponse,
    Meta,
    NotFoundException,
    NotImplementedException,
    PatchOp,
    ResourceType,
    ResponseParameters,
    Schema,
    SCIMException,
    SearchRequest,
)
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route, Router
from starlette.types import Receive, Scope, Send

from ...core.access_keys import credential_scope, verify_scim_credential
from ...core.errors import AuthError
from ...core.i18n import FALLBACK, Msg, negotiate, use_locale
from ...core.identity import bearer_token
from ...core.models import Tenant
from ...core.tenancy import TenantScope
from . import groups, users
from .directory import Directory
from .resources import MAX_RESULTS, MOUNT, POLICY, PROVIDER, Group, UserResource

MEDIA_TYPE = "application/scim+json"
DEFAULT_COUNT = 100
Endpoint = Callable[[Request], Awaitable[Response]]


def scim_response(payload: dict[str, Any], status: int = 200, **headers: str) -> JSONResponse:
    return JSONResponse(payload, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def error_response(error: Error) -> JSONResponse:
    status = error.status or 400
    headers = {"WWW-Authenticate": 'Bearer realm="goalgraph-scim"'} if status == 401 else {}
    return scim_response(error.model_dump(), status, **headers)


def _unauthorized(message: str) -> JSONResponse:
    return error_response(Error(status=401, detail=message))


async def _not_found(scope: Scope, receive: Receive, send: Send) -> None:
    """Anything under /scim/v2 that is no endpoint: a SCIM 404."""
    path = scope.get("path", "")
    response = error_response(NotFoundException(detail=f"no SCIM endpoint at {path}").to_error())
    await response(scope, receive, send)


def _base_url(request: Request) -> str:
    return f"{request.url.scheme}://{request.url.netloc}{MOUNT}"


def _params(request: Request, model: Any) -> Any:
    """The query's response parameters (attributes / excludedAttributes)."""
    query = request.query_params
    keys = ("attributes", "excludedAttributes")
    raw = {key: query[key] for key in keys if query.get(key) is not None}
    return ResponseParameters[model].model_validate(raw) if raw else None


async def _body(request: Request) -> dict[str, Any]:
    try:
        payload = json.loads(await request.body())
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise InvalidSyntaxException(detail="the body is not JSON") from None
    if not isinstance(payload, dict):
        raise InvalidSyntaxException(detail="the body is not a JSON object")
    return payload


def _dump(resource: Any, ctx: Context, params: Any) -> dict[str, Any]:
    dumped: dict[str, Any] = resource.model_dump(
        scim_ctx=ctx, response_parameters=params, scim_provider=PROVIDER
    )
    return dumped


def _lenient_user(body: dict[str, Any]) -> dict[str, Any]:
    """Fill what identity providers often leave out of a new user: ``active`` (true)
    and ``displayName`` (from ``name.formatted``, the given and family names, or the
    userName)."""
    keys = {k.lower(): k for k in body}
    if "active" not in keys:
        body["active"] = True
    if not body.get(keys.get("displayname", "displayName")):
        name = body.get(keys.get("name", "name")) or {}
        name = name if isinstance(name, dict) else {}
        lower = {k.lower(): v for k, v in name.items()}
        parts = [lower.get("givenname"), lower.get("familyname")]
        derived = (
            lower.get("formatted")
            or " ".join(str(p) for p in parts if p)
            or body.get(keys.get("username", "userName"))
        )
        if derived:
            body[keys.get("displayname", "displayName")] = derived
    return body


def _entra_patch(body: dict[str, Any]) -> dict[str, Any]:
    """Microsoft Entra ID sends the enterprise manager as a bare id string."""
    for op in body.get("Operations") or body.get("operations") or []:
        if (
            isinstance(op, dict)
            and str(op.get("path", "")).lower().endswith("manager")
            and isinstance(op.get("value"), str)
        ):
            op["value"] = {"value": op["value"]}
    return body


def _keep_unsent(after: Any, before: Any) -> Any:
    """PUT: attributes the request leaves out keep their values (RFC 7644 §3.5.1 lets
    the service provider treat them as not asserted); null or [] clears one."""
    sent = after.model_fields_set
    for name in type(after).model_fields:
        if name not in sent and name not in {"id", "meta", "schemas"}:
            setattr(after, name, getattr(before, name))
    return after


def scim_routes(scope_for: Callable[[Tenant], TenantScope]) -> Router:
    """The SCIM app mounted at ``/scim/v2``; ``scope_for`` gives a tenant's system
    scope (with its pack policies bound), which requests run in as their credential."""

    async def directory(request: Request) -> Directory:
        try:
            secret = bearer_token(request.headers.get("authorization"))
            key = await verify_scim_credential(secret)
        except AuthError as exc:
            raise _Refused(exc.message) from None
        tenant: Tenant = key.tenant
        return Directory(credential_scope(tenant, scope_for(tenant)), _base_url(request))

    def guarded(handler: Callable[[Request], Awaitable[Response]]) -> Endpoint:
        async def endpoint(request: Request) -> Response:
            # error details in the language the client asks for (an operator reads them
            # in the identity provider's logs); English unless it asks
            with use_locale(negotiate(request.headers.get("accept-language"), FALLBACK)):
                return await _answer(handler, request)

        return endpoint

    async def _answer(
        handler: Callable[[Request], Awaitable[Response]], request: Request
    ) -> Response:
        try:
            return await handler(request)
        except _Refused as exc:
            return _unauthorized(exc.message.render())
        except SCIMException as exc:
            return error_response(exc.to_error())
        except ValidationError as exc:
            return error_response(Error.from_validation_errors(exc)[0])

    # discovery: public, as RFC 7644 §4 allows

    async def service_provider_config(request: Request) -> Response:
        assert PROVIDER.config is not None
        config = PROVIDER.config.model_copy(deep=True)
        config.meta = _meta("ServiceProviderConfig", f"{_base_url(request)}/ServiceProviderConfig")
        return scim_response(config.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE))

    def _meta(kind: str, location: str) -> Meta:
        return Meta(resource_type=kind, location=location)

    def _schemas(request: Request) -> list[Any]:
        out = []
        for schema in PROVIDER.schemas:
            copy = schema.model_copy(deep=True)
            copy.meta = _meta("Schema", f"{_base_url(request)}/Schemas/{schema.id}")
            out.append(copy)
        return out

    def _types(request: Request) -> list[Any]:
        out = []
        for resource_type in PROVIDER.resource_types:
            copy = resource_type.model_copy(deep=True)
            copy.meta = _meta("ResourceType", f"{_base_url(request)}/ResourceTypes/{copy.id}")
            out.append(copy)
        return out

    def _listing(model: Any, items: list[Any]) -> dict[str, Any]:
        page: Any = ListResponse[model](
            total_results=len(items), start_index=1, items_per_page=len(items), resources=items
        )
        dumped: dict[str, Any] = page.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE)
        return dumped

    async def schemas(request: Request) -> Response:
        return scim_response(_listing(Schema, _schemas(request)))

    async def schema(request: Request) -> Response:
        wanted = request.path_params["id"].lower()
        for item in _schemas(request):
            if str(item.id).lower() == wanted:
                return scim_response(item.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE))
        raise NotFoundException(detail=f"no schema {request.path_params['id']!r}")

    async def resource_types(request: Request) -> Response:
        return scim_response(_listing(ResourceType, _types(request)))

    async def resource_type(request: Request) -> Response:
        wanted = request.path_params["id"].lower()
        for item in _types(request):
            if str(item.id).lower() == wanted:
                return scim_response(item.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE))
        raise NotFoundException(detail=f"no resource type {request.path_params['id']!r}")

    async def search_all(request: Request) -> Response:
        raise NotImplementedException(
            detail="searching several resource types at once is not supported; "
            "query /Users or /Groups"
        )

    # lists

    def _search(request: Request, model: Any) -> Any:
        query = request.query_params
        raw: dict[str, Any] = {
            key: query[key]
            for key in ("filter", "startIndex", "count", "attributes", "excludedAttributes")
            if query.get(key) is not None
        }
        return SearchRequest[model].model_validate(raw, scim_ctx=Context.SEARCH_REQUEST)

    def _page(search: Any) -> tuple[int, int]:
        start = max(search.start_index or 1, 1)
        count = DEFAULT_COUNT if search.count is None else max(search.count, 0)
        return start, min(count, MAX_RESULTS)

    async def list_response(
        model: Any, search: Any, start: int, total: int, items: list[Any]
    ) -> Response:
        page: Any = ListResponse[model](
            total_results=total, start_index=start, items_per_page=len(items), resources=items
        )
        return scim_response(
            page.model_dump(
                scim_ctx=Context.SEARCH_RESPONSE, response_parameters=search, scim_provider=PROVIDER
            )
        )

    # Users

    async def users_list(request: Request) -> Response:
        d = await directory(request)
        search = _search(request, UserResource)
        start, count = _page(search)
        node = search.filter.ast if search.filter is not None else None
        total, items = await users.list_users(d, node, start, count)
        return await list_response(UserResource, search, start, total, items)

    async def users_create(request: Request) -> Response:
        d = await directory(request)
        body = _lenient_user(await _body(request))
        after = UserResource.model_validate(
            body, scim_ctx=Context.RESOURCE_CREATION_REQUEST, scim_policy=POLICY
        )
        revived = await users.deleted_match(d, after)
        if revived is None:
            person = await users.write_user(d, None, users.blank_user(), after)
        else:
            after.active = True
            before = users.to_user(d, revived, revived.org_unit, (await d.company()).id)
            person = await users.write_user(d, revived, before, after)
        created = await users.read_user(d, person)
        return scim_response(
            _dump(created, Context.RESOURCE_CREATION_RESPONSE, _params(request, UserResource)),
            201,
            Location=d.location("Users", person.id),
        )

    async def user_get(request: Request) -> Response:
        d = await directory(request)
        person = await users.find_person(d, request.path_params["id"])
        return scim_response(
            _dump(
                await users.read_user(d, person),
                Context.RESOURCE_QUERY_RESPONSE,
                _params(request, UserResource),
            )
        )

    async def user_put(request: Request) -> Response:
        d = await directory(request)
        person = await users.find_person(d, request.path_params["id"])
        before = await users.read_user(d, person)
        after = UserResource.model_validate(
            await _body(request), scim_ctx=Context.RESOURCE_REPLACEMENT_REQUEST, scim_policy=POLICY
        )
        after = _keep_unsent(after, before)
        after.replace(before)
        person = await users.write_user(d, person, before, after)
        return scim_response(
            _dump(
                await users.read_user(d, person),
                Context.RESOURCE_REPLACEMENT_RESPONSE,
                _params(request, UserResource),
            )
        )

    async def user_patch(request: Request) -> Response:
        d = await directory(request)
        person = await users.find_person(d, request.path_params["id"])
        patch = PatchOp[UserResource].model_validate(
            _entra_patch(await _body(request)),
            scim_ctx=Context.RESOURCE_PATCH_REQUEST,
            scim_policy=POLICY,
        )
        before = await users.read_user(d, person)
        after = before.model_copy(deep=True)
        patch.patch(after, scim_policy=POLICY)
        person = await users.write_user(d, person, before, after)
        return scim_response(
            _dump(
                await users.read_user(d, person),
                Context.RESOURCE_PATCH_RESPONSE,
                _params(request, UserResource),
            )
        )

    async def user_delete(request: Request) -> Response:
        d = await directory(request)
        person = await users.find_person(d, request.path_params["id"])
        await users.delete_user(d, person)
        return Response(status_code=204)

    # Groups

    async def groups_list(request: Request) -> Response:
        d = await directory(request)
        search = _search(request, Group)
        start, count = _page(search)
        node = search.filter.ast if search.filter is not None else None
        total, items = await groups.list_groups(d, node, start, count)
        return await list_response(Group, search, start, total, items)

    async def groups_create(request: Request) -> Response:
        d = await directory(request)
        after = Group.model_validate(
            await _body(request), scim_ctx=Context.RESOURCE_CREATION_REQUEST, scim_policy=POLICY
        )
        unit = await groups.write_group(d, None, Group(), after)
        return scim_response(
            _dump(
                await groups.read_group(d, unit),
                Context.RESOURCE_CREATION_RESPONSE,
                _params(request, Group),
            ),
            201,
            Location=d.location("Groups", unit.id),
        )

    async def group_get(request: Request) -> Response:
        d = await directory(request)
        unit = await groups.find_unit(d, request.path_params["id"])
        return scim_response(
            _dump(
                await groups.read_group(d, unit),
                Context.RESOURCE_QUERY_RESPONSE,
                _params(request, Group),
            )
        )

    async def group_put(request: Request) -> Response:
        d = await directory(request)
        unit = await groups.find_unit(d, request.path_params["id"])
        before = await groups.read_group(d, unit)
        after = Group.model_validate(
            await _body(request), scim_ctx=Context.RESOURCE_REPLACEMENT_REQUEST, scim_policy=POLICY
        )
        after = _keep_unsent(after, before)
        after.replace(before)
        unit = await groups.write_group(d, unit, before, after)
        return scim_response(
            _dump(
                await groups.read_group(d, unit),
                Context.RESOURCE_REPLACEMENT_RESPONSE,
                _params(request, Group),
            )
        )

    async def group_patch(request: Request) -> Response:
        d = await directory(request)
        unit = await groups.find_unit(d, request.path_params["id"])
        patch = PatchOp[Group].model_validate(
            await _body(request), scim_ctx=Context.RESOURCE_PATCH_REQUEST, scim_policy=POLICY
        )
        before = await groups.read_group(d, unit)
        after = before.model_copy(deep=True)
        patch.patch(after, scim_policy=POLICY)
        unit = await groups.write_group(d, unit, before, after)
        return scim_response(
            _dump(
                await groups.read_group(d, unit),
                Context.RESOURCE_PATCH_RESPONSE,
                _params(request, Group),
            )
        )

    async def group_delete(request: Request) -> Response:
        d = await directory(request)
        unit = await groups.find_unit(d, request.path_params["id"])
        await groups.delete_group(d, unit)
        return Response(status_code=204)

    routes: list[BaseRoute] = [
        Route("/ServiceProviderConfig", guarded(service_provider_config), methods=["GET"]),
        Route("/Schemas", guarded(schemas), methods=["GET"]),
        Route("/Schemas/{id:str}", guarded(schema), methods=["GET"]),
        Route("/ResourceTypes", guarded(resource_types), methods=["GET"]),
        Route("/ResourceTypes/{id:str}", guarded(resource_type), methods=["GET"]),
        Route("/.search", guarded(search_all), methods=["POST"]),
        Route("/Users", guarded(users_list), methods=["GET"]),
        Route("/Users", guarded(users_create), methods=["POST"]),
        Route("/Users/{id:str}", guarded(user_get), methods=["GET"]),
        Route("/Users/{id:str}", guarded(user_put), methods=["PUT"]),
        Route("/Users/{id:str}", guarded(user_patch), methods=["PATCH"]),
        Route("/Users/{id:str}", guarded(user_delete), methods=["DELETE"]),
        Route("/Groups", guarded(groups_list), methods=["GET"]),
        Route("/Groups", guarded(groups_create), methods=["POST"]),
        Route("/Groups/{id:str}", guarded(group_get), methods=["GET"]),
        Route("/Groups/{id:str}", guarded(group_put), methods=["PUT"]),
        Route("/Groups/{id:str}", guarded(group_patch), methods=["PATCH"]),
        Route("/Groups/{id:str}", guarded(group_delete), methods=["DELETE"]),
    ]
    return Router(routes=routes, default=_not_found)


class _Refused(Exception):
    """The request carries no live SCIM credential."""

    def __init__(self, message: Msg) -> None:
        super().__init__(message.render("en"))
        self.message = message
