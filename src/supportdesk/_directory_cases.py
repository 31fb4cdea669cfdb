"""Directory use cases: organisations, contacts, desks and request types (trusted host code)."""

from __future__ import annotations

from collections.abc import Sequence

from ._desk_base import _DeskBase, _found, _get_desk, _require_text
from ._errors import ValidationError
from ._input import check_type
from ._models import Contact, Desk, Organization, RequestType
from .storage.protocol import UnitOfWork


class _DirectoryCases(_DeskBase):
    """The directory the host keeps, and the catalogue the portal shows."""

    def add_organization(self, organization: Organization) -> Organization:
        """Store a customer organisation."""
        _require_text("name", organization.name)
        with self._store.unit_of_work() as work:
            work.directory.put_organization(organization)
        return organization

    def add_contact(self, contact: Contact) -> Contact:
        """Store a portal account; its e-mail must be unique (case-insensitive)."""
        with self._store.unit_of_work() as work:
            self._check_contact(work, contact)
            work.directory.put_contact(contact)
        return contact

    def _check_contact(self, work: UnitOfWork, contact: Contact) -> None:
        errors: dict[str, str] = {}
        if "@" not in contact.email:
            errors["email"] = f"{contact.email!r} is not an e-mail address"
        if not contact.full_name.strip():
            errors["full_name"] = "a contact needs a name"
        if (
            contact.organization_id
            and work.directory.get_organization(contact.organization_id) is None
        ):
            errors["organization_id"] = f"no organisation {contact.organization_id!r}"
        unknown = sorted(d for d in contact.desk_ids if work.desks.get_desk(d) is None)
        if unknown:
            errors["desk_ids"] = f"no such desks: {', '.join(unknown)}"
        if errors:
            raise ValidationError(errors)

    def get_contact(self, contact_id: str) -> Contact:
        """The contact with that id, for the host's own login code (unscoped)."""
        with self._store.unit_of_work() as work:
            return _found(work.directory.get_contact(contact_id), "contact", contact_id)

    def find_contact(self, email: str) -> Contact:
        """The contact with that e-mail, for the host's own login code (unscoped)."""
        with self._store.unit_of_work() as work:
            return _found(work.directory.get_contact_by_email(email), "contact", email)

    def add_desk(self, desk: Desk) -> Desk:
        """Store a service desk; its key (``HHA``) must be unique and upper-case."""
        if not (desk.key.isalnum() and desk.key.isupper() and 2 <= len(desk.key) <= 10):
            raise ValidationError(
                {"key": f"use 2 to 10 upper-case letters or digits: {desk.key!r}"}
            )
        _require_text("name", desk.name)
        with self._store.unit_of_work() as work:
            work.desks.put_desk(desk)
        return desk

    def set_next_reference(self, desk_id: str, number: int) -> None:
        """Continue the desk's references at ``number``: a portal moving in keeps ``HHA-13783``.

        Trusted host code, as :meth:`add_desk`.

        :raises ValidationError: on ``number`` when it is below 1, or when the
            desk has issued that reference or a later one: references are
            never reused.
        :raises NotFound: when there is no such desk.
        """
        check_type("number", number, int)
        if number < 1:
            raise ValidationError({"number": "Use a number of 1 or more."})
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
        """Store a request type and its form on an existing desk."""
        _require_text("name", request_type.name)
        keys = [spec.key for spec in request_type.fields]
        if len(set(keys)) != len(keys):
            raise ValidationError({"fields": "two fields share a key"})
        with self._store.unit_of_work() as work:
            _get_desk(work, request_type.desk_id)
            work.desks.put_request_type(request_type)
        return request_type

    def list_desks(self, actor: Contact) -> Sequence[Desk]:
        """The desks the portal shows on its home page."""
        with self._store.unit_of_work() as work:
            self._refresh(work, actor)
            return work.desks.list_desks()

    def list_request_types(self, actor: Contact, desk_id: str) -> Sequence[RequestType]:
        """A desk's request types, in the order they were added."""
        with self._store.unit_of_work() as work:
            self._refresh(work, actor)
            _get_desk(work, desk_id)
            return work.desks.list_request_types(desk_id)
