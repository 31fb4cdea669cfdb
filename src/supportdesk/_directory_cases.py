"""Directory use cases: organisations, contacts, desks and request types (trusted host code)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import attrs

from ._desk_base import _DeskBase, _form_for, _found, _get_desk, _organization_problem
from ._errors import PermissionDenied, ValidationError
from ._input import (
    LONG_TEXT,
    check_duration,
    check_email,
    check_id,
    check_optional_id,
    check_text,
    check_type,
    name_problem,
)
from ._models import (
    AttachmentLimits,
    AttachmentRule,
    Contact,
    Desk,
    FollowUpPolicy,
    Organization,
    RequestType,
    Role,
)
from .forms import check_fields
from .storage.protocol import UnitOfWork
from .workflow import Workflow

_LONGEST_WINDOW = timedelta(days=36_525)
"""A follow-up window of a century at most: every store keeps it exactly."""


_LAST_NUMBER = 10**15 - 1
"""The largest reference number a desk continues at: fifteen digits."""


class _DirectoryCases(_DeskBase):
    """The directory the host keeps, and the catalogue the portal shows."""

    def add_organization(self, organization: Organization) -> Organization:
        """Store a customer organisation; its name is one line of at most 255 characters."""
        check_type("organization", organization, Organization)
        check_id("id", organization.id)
        check_text("name", organization.name, required=True, one_line=True)
        with self._store.unit_of_work() as work:
            work.directory.put_organization(organization)
        return organization

    def add_contact(self, contact: Contact) -> Contact:
        """Store a portal account; its e-mail must be unique (case-insensitive).

        The e-mail must be one valid address (no line breaks: no header
        injection) and the full name one line of at most 255 characters.
        """
        check_type("contact", contact, Contact)
        with self._store.unit_of_work() as work:
            self._check_contact(work, contact)
            work.directory.put_contact(contact)
        return contact

    def _check_contact(self, work: UnitOfWork, contact: Contact) -> None:
        errors: dict[str, str] = {}
        try:
            check_email("email", contact.email)
        except ValidationError as error:
            errors.update(error.errors)
        check_type("full_name", contact.full_name, str)
        if problem := name_problem(contact.full_name):
            errors["full_name"] = problem
        if problem := _organization_problem(work, contact.organization_id or None):
            errors["organization_id"] = problem
        unknown = sorted(d for d in contact.desk_ids if work.desks.get_desk(d) is None)
        if unknown:
            errors["desk_ids"] = f"no such desks: {', '.join(unknown)}"
        if errors:
            raise ValidationError(errors)

    def get_contact(self, contact_id: str) -> Contact:
        """The contact with that id, for the host's own login code (unscoped)."""
        check_id("contact_id", contact_id)
        with self._store.unit_of_work() as work:
            return _found(work.directory.get_contact(contact_id), "contact", contact_id)

    def find_contact(self, email: str) -> Contact:
        """The contact with that e-mail, for the host's own login code (unscoped)."""
        email = check_email("email", email)
        with self._store.unit_of_work() as work:
            return _found(work.directory.get_contact_by_email(email), "contact", email)

    def update_profile(
        self, actor: Contact, full_name: str, *, contact_id: str | None = None
    ) -> Contact:
        """Change a contact's name: the actor's own, or, for admins, anyone's.

        The new name shows wherever the contact's name does from now on;
        e-mails already written keep the name they were written with.

        :param actor: who makes the change.
        :param full_name: the new name, one line of at most 255 characters,
            not blank; stored stripped.
        :param contact_id: whose name to change when it is not the actor's
            own: admins only.
        :returns: the contact as changed.
        :raises ValidationError: on ``full_name``.
        :raises PermissionDenied: when the actor is not active, or is no admin
            and names another contact.
        :raises NotFound: when there is no contact ``contact_id``.
        """
        check_type("full_name", full_name, str)
        if problem := name_problem(full_name):
            raise ValidationError({"full_name": problem})
        contact_id = check_optional_id("contact_id", contact_id)
        with self._store.unit_of_work() as work:
            actor = self._refresh(work, actor)
            contact = actor
            if contact_id is not None and contact_id != actor.id:
                if actor.role is not Role.ADMIN:
                    raise PermissionDenied("change another contact's name", "only admins may")
                contact = _found(work.directory.get_contact(contact_id), "contact", contact_id)
            contact = attrs.evolve(contact, full_name=full_name.strip())
            work.directory.put_contact(contact)
            return contact

    def set_contact_organization(
        self, actor: Contact, contact_id: str, organization_id: str | None
    ) -> Contact:
        """Move a contact to an organisation, or (with None) out of any: admins only.

        A customer's organisation decides which tickets are shared with them,
        so customers never choose it themselves after signing up.  Tickets
        keep the organisation they were opened in: a customer who moves sees
        those they requested or collaborate on, and the new organisation's
        shared ones.

        :returns: the contact as changed.
        :raises ValidationError: on ``organization_id`` when there is no such
            organisation.
        :raises PermissionDenied: when the actor is no active admin.
        :raises NotFound: when there is no contact ``contact_id``.
        """
        check_id("contact_id", contact_id)
        organization_id = check_optional_id("organization_id", organization_id)
        with self._store.unit_of_work() as work:
            self._require_admin(work, actor, "move a contact to another organisation")
            contact = _found(work.directory.get_contact(contact_id), "contact", contact_id)
            if problem := _organization_problem(work, organization_id):
                raise ValidationError({"organization_id": problem})
            contact = attrs.evolve(contact, organization_id=organization_id)
            work.directory.put_contact(contact)
            return contact

    def add_desk(self, desk: Desk) -> Desk:
        """Store a service desk, or replace it; its key (``HHA``) must be unique and upper-case.

        :raises ValidationError: on ``workflow`` or ``calendar`` for a name
            this desk was not given (``workflows=``, ``calendars=``), a
            calendar that cannot count the workflow's timers, or a stored
            desk's workflow or calendar changed: they are fixed once stored.
        """
        _check_desk(desk)
        with self._store.unit_of_work() as work:
            self._rules.check(desk, work.desks.get_desk(desk.id))
            work.desks.put_desk(desk)
        return desk

    def workflow_of(self, desk: Desk) -> Workflow:
        """The workflow the tickets of ``desk`` follow: for its statuses, labels and diagram.

        :raises WorkflowDefinitionError: when the desk names a workflow this
            desk was not given.
        """
        check_type("desk", desk, Desk)
        return self._rules.resolve(desk).workflow

    def set_next_reference(self, desk_id: str, number: int) -> None:
        """Continue the desk's references at ``number``: a portal moving in keeps ``HHA-13783``.

        Trusted host code, as :meth:`add_desk`.

        :raises ValidationError: on ``number`` when it is below 1 or has more
            than 15 digits, or when the
            desk has issued that reference or a later one: references are
            never reused.
        :raises NotFound: when there is no such desk.
        """
        check_id("desk_id", desk_id)
        check_type("number", number, int)
        if not 1 <= number <= _LAST_NUMBER:
            raise ValidationError({"number": f"Use a number from 1 to {_LAST_NUMBER:,}."})
        with self._store.unit_of_work() as work:
            desk = _get_desk(work, desk_id)
            following = work.desks.get_next_reference(desk.id)
            if number < following:
                raise ValidationError(
                    {
                        "number": f"{desk.key}-{following - 1} is issued already; "
                        f"continue at {desk.key}-{following} or later."
                    }
                )
            work.desks.put_next_reference(desk.id, number)

    def add_request_type(self, request_type: RequestType) -> RequestType:
        """Store a request type and its form on an existing desk.

        :raises ValidationError: on ``fields`` for a form no customer could
            fill in (see :func:`~supportdesk.forms.check_fields`): two fields
            with one key, a condition (``visible_when``, ``options_by``) that
            names a field that is missing or comes later, or an option that
            field does not have; on the other attributes for text no store
            keeps alike.
        :raises NotFound: when there is no such desk.
        """
        _check_request_type(request_type)
        with self._store.unit_of_work() as work:
            _get_desk(work, request_type.desk_id)
            work.desks.put_request_type(request_type)
        return request_type

    def list_desks(self, actor: Contact) -> Sequence[Desk]:
        """The desks the portal shows on its home page."""
        with self._store.unit_of_work() as work:
            self._refresh(work, actor)
            return work.desks.list_desks()

    def list_request_types(
        self, actor: Contact, desk_id: str | None = None
    ) -> Sequence[RequestType]:
        """A desk's request types, in the order they were added; without ``desk_id``, every desk's.

        Every desk's in one statement is what a portal's home page lists
        under :meth:`list_desks` (group them by ``desk_id``).  A customer's
        copies have no internal fields.

        :raises NotFound: when there is no desk ``desk_id``.
        """
        if desk_id is not None:
            check_id("desk_id", desk_id)
        with self._store.unit_of_work() as work:
            actor = self._refresh(work, actor)
            if desk_id is not None:
                _get_desk(work, desk_id)
            listed = work.desks.list_request_types(desk_id)
        return [_form_for(actor, request_type) for request_type in listed]


def _check_desk(desk: object) -> None:
    """Refuse a desk no store keeps alike: wrong types, bad text, a malformed key."""
    desk = check_type("desk", desk, Desk)
    check_id("id", desk.id)
    check_type("key", desk.key, str)
    key = desk.key
    if not (key.isascii() and key.isalnum() and key.isupper() and 2 <= len(key) <= 10):
        raise ValidationError({"key": f"use 2 to 10 upper-case letters or digits: {key!r}"})
    check_text("name", desk.name, required=True, one_line=True)
    check_text("description", desk.description, max_length=LONG_TEXT)
    check_type("share_with_organization", desk.share_with_organization, bool)
    check_type("follow_up_policy", desk.follow_up_policy, FollowUpPolicy)
    if desk.follow_up_window is not None:
        check_duration("follow_up_window", desk.follow_up_window, most=_LONGEST_WINDOW)
    check_type("attachment_limits", desk.attachment_limits, AttachmentLimits)
    for rule in ("workflow", "calendar"):
        if getattr(desk, rule) is not None:
            check_type(rule, getattr(desk, rule), str)


def _check_request_type(request_type: object) -> None:
    """Refuse a request type, or a field of its form, that no store keeps alike."""
    request_type = check_type("request_type", request_type, RequestType)
    check_id("id", request_type.id)
    check_id("desk_id", request_type.desk_id)
    check_text("name", request_type.name, required=True, one_line=True)
    check_text("description", request_type.description, max_length=LONG_TEXT)
    if request_type.group is not None:
        check_text("group", request_type.group, one_line=True)
    check_type("description_required", request_type.description_required, bool)
    check_type("attachments", request_type.attachments, AttachmentRule)
    check_fields(request_type.fields)
