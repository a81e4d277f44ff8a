"""``importRoster``: a roster file (花名册) uploaded with the GraphQL multipart request,
shown as a diff (the default, a dry run) or applied (admins and consultants)."""

from __future__ import annotations

import asyncio
from typing import Any

import strawberry
from strawberry.file_uploads import Upload

from ...adapters.contract import AdapterError
from ...adapters.roster_file import read_roster
from ...core import roster
from ...core.errors import DomainError, ErrorCode
from ...core.i18n import Msg, msg, text
from ..context import Info
from ..errors import UserError, user_errors

#: Changes a payload lists; ``totalChanges`` counts them all.
LISTED_CHANGES = 500
#: The largest roster file accepted (a 50,000-person CSV is some 5 MB).
MAX_BYTES = 20 * 1024 * 1024
#: A ``file`` given inline (a string in a JSON body) rather than as a multipart file part.
NOT_A_FILE = msg("roster.not_a_file")


@strawberry.type(description="How many units and people a roster import adds or changes.")
class RosterCounts:
    rows: int
    units_added: int
    units_changed: int
    people_added: int
    people_moved: int
    people_changed: int
    missing: int = strawberry.field(description="Active people not in the file (leavers).")
    deactivated: int = strawberry.field(description="Leavers deactivated by this import.")
    problems: int


@strawberry.type(description="One field of a unit or person, before and after.")
class RosterFieldChange:
    field: str
    before: str | None
    after: str | None


@strawberry.type(description="One unit or person the import adds, changes or lists.")
class RosterChange:
    kind: str = strawberry.field(
        description="unit.add, unit.update, person.add, person.move, person.update, "
        "person.missing or person.deactivate."
    )
    subject: str = strawberry.field(description="A unit path, or 工号 and name.")
    line: int | None = strawberry.field(description="The row of the file, for people.")
    fields: list[RosterFieldChange]


@strawberry.type(description="A row that cannot be imported, and why.")
class RosterProblem:
    line: int | None = strawberry.field(description="The file's line (header: line 1).")
    code: ErrorCode
    message: str


@strawberry.type
class RosterImportPayload:
    applied: bool = strawberry.field(description="True when the changes were written.")
    counts: RosterCounts | None
    changes: list[RosterChange] = strawberry.field(description="The first 500 changes.")
    total_changes: int
    problems: list[RosterProblem]
    errors: list[UserError]


def _payload(
    plan: roster.RosterPlan, applied: bool, errors: list[UserError]
) -> RosterImportPayload:
    changes = plan.changes()
    return RosterImportPayload(
        applied=applied,
        counts=RosterCounts(**plan.counts()),
        changes=[
            RosterChange(
                kind=c.kind,
                subject=c.subject,
                line=c.line,
                fields=[
                    RosterFieldChange(field=f.field, before=f.before, after=f.after)
                    for f in c.fields
                ],
            )
            for c in changes[:LISTED_CHANGES]
        ],
        total_changes=len(changes),
        problems=[
            RosterProblem(line=p.line, code=p.code, message=text(p.message)) for p in plan.problems
        ],
        errors=errors,
    )


def _refused(code: ErrorCode, message: Msg) -> RosterImportPayload:
    return RosterImportPayload(
        applied=False,
        counts=None,
        changes=[],
        total_changes=0,
        problems=[],
        errors=[UserError(field="file", code=code, message=message.render())],
    )


@strawberry.type
class RosterMutations:
    @strawberry.mutation(
        description="Import a roster file (CSV in UTF-8 or GBK, or .xlsx; Chinese or "
        "English headers): by default a dry run that only shows the changes. With any "
        "bad row nothing is written and every problem is listed with its line."
    )
    async def import_roster(
        self,
        info: Info,
        file: Upload,
        dry_run: bool = True,
        deactivate_missing: bool = False,
    ) -> RosterImportPayload:
        scope = info.context.scope
        upload: Any = file
        if not callable(getattr(upload, "read", None)):
            return _refused(ErrorCode.INVALID, NOT_A_FILE)
        data: bytes = await upload.read(MAX_BYTES + 1)
        if len(data) > MAX_BYTES:
            return _refused(ErrorCode.OUT_OF_RANGE, msg("roster.file_too_large"))
        name = str(getattr(upload, "filename", "") or "")
        try:
            rows = await asyncio.to_thread(read_roster, data, name)
        except AdapterError as exc:
            return _refused(
                ErrorCode.INVALID, msg("roster.unreadable", file=name or "-", problem=str(exc))
            )
        try:
            plan = await roster.plan_roster(scope, rows, deactivate_missing=deactivate_missing)
            if not plan.ok:
                error = UserError(
                    field="file",
                    code=ErrorCode.INVALID,
                    message=f"{len(plan.problems)} problem(s) in the file: nothing was imported",
                )
                return _payload(plan, False, [error])
            if not dry_run:
                await roster.apply_roster(scope, plan)
        except DomainError as exc:
            return RosterImportPayload(
                applied=False,
                counts=None,
                changes=[],
                total_changes=0,
                problems=[],
                errors=user_errors(exc),
            )
        return _payload(plan, not dry_run and not plan.empty, [])
