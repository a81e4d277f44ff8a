"""The SCIM resources goalgraph serves, as scim2-models models, and what it publishes
about itself (``/ServiceProviderConfig``, ``/ResourceTypes``, ``/Schemas``).

The models carry the standard schema URNs but only the attributes a person or an org
unit can keep, so the published schemas say exactly what round-trips. Standard
attributes outside them (phone numbers, addresses, ``name.formatted``, …) are accepted
and dropped (``POLICY``: unknown attributes are ignored), because identity providers
send them by default. The policy also reads PATCH requests the way Microsoft Entra ID
writes them (a ``remove`` whose ``value`` selects what to remove; an ``add`` or
``replace`` on a filtered path that matches nothing creates the entry).
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field
from scim2_models import URN as Urn
from scim2_models import (
    AuthenticationScheme,
    Bulk,
    CaseExact,
    ChangePassword,
    ComplexAttribute,
    ETag,
    Extension,
    Filter,
    Patch,
    Reference,
    Required,
    Resource,
    ResourceType,
    ScimPolicy,
    ScimProvider,
    ServiceProviderConfig,
    Sort,
    Uniqueness,
)

#: Where core/app.py mounts the SCIM routes.
MOUNT = "/scim/v2"
#: The most resources one list answers with (``count`` above it is lowered to it).
MAX_RESULTS = 200

USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE_SCHEMA = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"


class Name(ComplexAttribute):
    """The Latin-script name (``Person.name_en``): given name, then family name."""

    family_name: str | None = None
    given_name: str | None = None


class Email(ComplexAttribute):
    """The person's one email address (``Person.email``), always the work one (and so
    the primary one: ``primary`` is accepted and not kept)."""

    value: str | None = None
    type: str | None = Field(None, examples=["work"])


class User(Resource[Any]):
    """A person. ``userName`` is their email address, or their employee number (工号)
    when they have none (docs/scim.md)."""

    __schema__ = Urn(USER_SCHEMA)

    user_name: Annotated[str | None, Required.true, Uniqueness.server] = None
    name: Name | None = None
    display_name: Annotated[str | None, Required.true] = None
    title: str | None = None
    emails: list[Email] | None = None
    #: Required: a person is active or not (false: deactivated, never deleted). A new
    #: user is created active.
    active: Annotated[bool | None, Required.true] = None


class Manager(ComplexAttribute):
    """The explicit solid-line manager (``Person.manager_id``), by SCIM id."""

    value: Annotated[str | None, Required.true, CaseExact.true] = None
    ref: Reference[User] | None = Field(None, serialization_alias="$ref", validation_alias="$ref")


class EnterpriseUser(Extension):
    """Employee number (``Person.code``), department (the person's unit) and manager."""

    __schema__ = Urn(ENTERPRISE_SCHEMA)

    employee_number: str | None = None
    department: str | None = None
    manager: Manager | None = None


class Member(ComplexAttribute):
    """A person of the unit (people only: units below a unit are not members)."""

    value: Annotated[str | None, CaseExact.true] = None
    ref: Reference[User] | None = Field(None, serialization_alias="$ref", validation_alias="$ref")
    type: str | None = Field(None, examples=["User"])


class Group(Resource[Any]):
    """An org unit; its members are the people in it."""

    __schema__ = Urn(GROUP_SCHEMA)

    display_name: Annotated[str | None, Required.true] = None
    members: list[Member] | None = None


#: The composed resource the ``/Users`` endpoint serves.
UserResource: Any = User[EnterpriseUser]  # type: ignore[misc]

POLICY = ScimPolicy(
    unknown=ScimPolicy.Unknown.ignore,
    remove_value_as_filter=ScimPolicy.RemoveValue.apply,
    unmatched_path_filter=ScimPolicy.UnmatchedPathFilter.create,
)

CONFIG = ServiceProviderConfig(
    documentation_uri=None,
    patch=Patch(supported=True),
    bulk=Bulk(supported=False, max_operations=0, max_payload_size=0),
    filter=Filter(supported=True, max_results=MAX_RESULTS),
    change_password=ChangePassword(supported=False),
    sort=Sort(supported=False),
    etag=ETag(supported=False),
    authentication_schemes=[
        AuthenticationScheme(
            type=AuthenticationScheme.Type.oauthbearertoken,
            name="Bearer credential",
            description="A SCIM credential of the tenant (gg_scim_…), created by an admin "
            "with createScimCredential or `goalgraph scim credential`.",
            primary=True,
        )
    ],
)

PROVIDER = ScimProvider(
    models=[User, EnterpriseUser, Group],
    resource_types=[ResourceType.from_resource(UserResource), ResourceType.from_resource(Group)],
    config=CONFIG,
    policy=POLICY,
)
