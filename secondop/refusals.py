"""One refusal for every app: what a service says when it will not do what was
asked, fit to show the person who asked.

- `message`: one sentence for people;
- `errors`: what was typed, field name -> messages ("slots.0.start" style keys for
  parts of a field are kept as they are: the form that knows them places them);
- `status`: the HTTP status of the page that shows it again: 400 for what was
  typed, 409 when the thing is no longer where the form thought, 403, 429...

Each app subclasses it (`class ReportError(Refusal)`), so a view catches its app's
refusal or `Refusal` and never tells them apart by shape.
"""

from __future__ import annotations

from typing import Any

from .types import Text


class Refusal(Exception):
    status: int = 400

    def __init__(
        self,
        message: Text = "",
        errors: dict[str, list[str]] | None = None,
        *,
        status: int | None = None,
    ):
        super().__init__(message)
        self.message = str(message)
        self.errors: dict[str, list[str]] = dict(errors or {})
        if status is not None:
            self.status = status

    def __str__(self) -> str:
        return self.message

    def apply_to(self, form: Any) -> None:
        """Put the refusal on `form`: each error on its field (or the form's own
        errors when the form has no such field), the message when there are none.
        A form with `add_service_errors(errors)` places the errors itself."""
        form.refusal_status = self.status
        if self.errors and hasattr(form, "add_service_errors"):
            form.add_service_errors(self.errors)
        else:
            for key, texts in self.errors.items():
                for text in texts:
                    form.add_error(key if key in form.fields else None, text)
        if not self.errors:
            form.add_error(None, self.message)


def page_status(form: Any) -> int:
    """The status for a page that shows `form`: 200 while it has no errors, else the
    refusal's status (409, 429...) or 400 for what was typed."""
    if form is None or not form.errors:
        return 200
    return getattr(form, "refusal_status", 400)
